// `steprun-watch tokens` and `audit` as an admin types them: a token made by the CLI (printed once) opens the API
// of a daemon with its role; `tokens list` never shows it; `tokens revoke` stops it; `audit` lists what the CLI and
// the token did, each with its actor.
import * as path from 'node:path';
import type { Daemon } from '../../src/runtime/daemon';
import { cli } from '../support/cli';
import { startDaemon, testConfig } from '../support/daemon';
import { dropPrefix, REDIS_URL, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';

const redis = testRedis();
const prefix = uniquePrefix('clitok');
const dir = tempDir('clitok');
const env = { SRW_DATA_DIR: path.join(dir, 'data'), REDIS_URL, SRW_REDIS_PREFIX: prefix, USER: 'ops-lead' };
let daemon: Daemon;

beforeAll(async () => {
  daemon = await startDaemon(
    testConfig({ prefix, dataDir: path.join(dir, 'daemon'), extra: { api: { listen: '127.0.0.1:0', token: 'cli-tokens-bootstrap-0123456789abcdef' } } }),
  );
});
afterAll(async () => {
  await daemon.stop();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

const get = async (token: string, p: string) => (await fetch(`${daemon.apiUrl}${p}`, { headers: { authorization: `Bearer ${token}` } })).status;

it('tokens create prints the token once; it opens the API with its role; list hides it; revoke stops it; audit names who did what', async () => {
  const made = await cli(['tokens', 'create', '--name', 'ci', '--role', 'operator', '--expires', '90d'], { env });
  expect(made.code).toBe(0);
  const token = made.stdout.split('\n')[0]!;
  expect(token).toMatch(/^srwt_[\w-]{43}$/);
  expect(made.stdout).toContain('shown this once');

  expect(await get(token, '/alerts')).toBe(200);
  expect(await get(token, '/tokens')).toBe(403);
  const silenced = await fetch(`${daemon.apiUrl}/silences`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ match: 'experiment=nightly', for: '4h' }),
  });
  expect(silenced.status).toBe(201);

  const listed = await cli(['tokens', 'list'], { env });
  expect(listed.stdout).toMatch(/ci\s+operator\s+\S+ by cli:ops-lead/);
  expect(listed.stdout).not.toContain(token);
  const again = await cli(['tokens', 'create', '--name', 'ci', '--role', 'viewer'], { env });
  expect(again.code).toBe(4);
  expect(again.stderr).toContain('an API token named "ci" exists');
  expect((await cli(['tokens', 'create', '--name', 'x', '--role', 'root'], { env })).code).toBe(4);

  expect((await cli(['tokens', 'revoke', 'ci'], { env })).code).toBe(0);
  expect(await get(token, '/alerts')).toBe(401);
  expect((await cli(['tokens', 'revoke', 'ci'], { env })).code).toBe(3);

  const audit = await cli(['audit', '--since', '1h', '--json'], { env });
  expect(audit.code).toBe(0);
  const entries = JSON.parse(audit.stdout) as { actor: string; action: string; result: string; from: string }[];
  expect(entries).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ actor: 'cli:ops-lead', action: 'tokens create ci', result: 'ok', from: 'local' }),
      expect.objectContaining({ actor: 'ci', action: 'POST /silences', result: '201' }),
      expect.objectContaining({ actor: 'cli:ops-lead', action: 'tokens revoke ci', result: 'ok' }),
      expect.objectContaining({ actor: 'cli:ops-lead', action: 'tokens revoke ci', result: 'SRW_TOKEN_NOT_FOUND' }),
    ]),
  );
  const table = await cli(['audit'], { env });
  expect(table.stdout).toMatch(/cli:ops-lead \(admin\)\s+tokens create ci\s+local\s+ok/);
  expect((await cli(['audit', '--since', 'whenever'], { env })).code).toBe(4);
});
