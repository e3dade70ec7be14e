// Personal and machine API tokens against a real daemon and Redis: made by an admin, used as Bearer tokens, each
// as far as its role goes (a viewer token walks every write of docs/openapi.yaml and gets 403 on each), expired
// and revoked; what they write carries their name, and the audit log lists each action with its actor.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Daemon } from '../../src/runtime/daemon';
import { TokenStore } from '../../src/api/auth/tokens';
import { startDaemon, testConfig } from '../support/daemon';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';
import { waitFor } from '../support/wait-for';

const BOOTSTRAP = 'tokens-test-bootstrap-0123456789abcdefgh';
const redis = testRedis();
const prefix = uniquePrefix('tokens');
let daemon: Daemon;

async function call(token: string, method: string, p: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${daemon.apiUrl}${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function create(name: string, role: string, expires?: string): Promise<string> {
  const res = await call(BOOTSTRAP, 'POST', '/tokens', { name, role, ...(expires ? { expires } : {}) });
  expect(res.status).toBe(201);
  return res.json.token as string;
}

/** Every operation of the API document with the least role it needs (hooks and health need none of ours). */
function operations(): { method: string; path: string; role: string }[] {
  const doc = parseYaml(readFileSync(path.join(__dirname, '../../docs/openapi.yaml'), 'utf8')) as {
    paths: Record<string, Record<string, { 'x-role'?: string }>>;
  };
  return Object.entries(doc.paths).flatMap(([p, item]) =>
    Object.entries(item)
      .filter(([method, op]) => method !== 'parameters' && op['x-role'] !== 'none' && op['x-role'] !== 'signed')
      .map(([method, op]) => ({ method: method.toUpperCase(), path: p.replace(/\{[^}]+\}/g, 'x1'), role: op['x-role']! })),
  );
}

beforeAll(async () => {
  daemon = await startDaemon(testConfig({ prefix, dataDir: tempDir('tokens'), extra: { api: { listen: '127.0.0.1:0', token: BOOTSTRAP } } }));
});
afterAll(async () => {
  await daemon.stop();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

it('a viewer token reads every route and gets 403, naming the role needed, on every write the document lists', async () => {
  const viewer = await create('vera', 'viewer');
  const ops = operations();
  expect(ops.filter((o) => o.role !== 'viewer').length).toBeGreaterThan(8);
  for (const op of ops) {
    // The event stream never ends: its answer's status is what is looked at.
    if (op.path === '/events/stream') continue;
    const res = await call(viewer, op.method, op.path, op.method === 'GET' || op.method === 'DELETE' ? undefined : {});
    if (op.role === 'viewer') expect({ op, refused: [401, 403].includes(res.status) }).toEqual({ op, refused: false });
    else {
      expect({ op, status: res.status, code: (res.json.error as { code?: string } | undefined)?.code }).toEqual({ op, status: 403, code: 'SRW_FORBIDDEN' });
      expect((res.json.error as { message: string }).message).toContain(`needs the ${op.role} role; vera is a viewer`);
    }
  }
});

it('an operator silences as itself, whatever the body says; it cannot track or make tokens; an admin tracks as itself', async () => {
  const operator = await create('otto', 'operator');
  const silenced = await call(operator, 'POST', '/silences', { match: 'experiment=churn', for: '2h', comment: 'quota', createdBy: 'mallory' });
  expect(silenced.status).toBe(201);
  expect(silenced.json.silence).toMatchObject({ createdBy: 'otto', comment: 'quota' });
  expect((await call(operator, 'POST', '/tracks', { experiment: 'churn', verify: false })).status).toBe(403);
  expect((await call(operator, 'POST', '/tokens', { name: 'sneaky', role: 'admin' })).status).toBe(403);
  expect((await call(operator, 'GET', '/tokens')).status).toBe(403);
  const admin = await create('ada', 'admin');
  const tracked = await call(admin, 'POST', '/tracks', { experiment: 'churn', verify: false });
  expect(tracked.status).toBe(201);
  expect(tracked.json.track).toMatchObject({ experiment: 'churn', source: 'api', createdBy: 'ada' });
});

it('tokens are listed without their secret, stored as a digest; a revoked or expired token opens nothing', async () => {
  const ci = await create('ci', 'operator', '90d');
  expect((await call(ci, 'GET', '/alerts')).status).toBe(200);
  const listed = (await call(BOOTSTRAP, 'GET', '/tokens')).json.tokens as { name: string; role: string; expiresAt?: number }[];
  expect(listed.find((t) => t.name === 'ci')).toMatchObject({ role: 'operator', expiresAt: expect.any(Number) });
  expect(JSON.stringify(listed)).not.toContain(ci);
  const stored = await redis.hgetall(daemon.keys.apiTokens);
  expect(JSON.stringify(stored)).not.toContain(ci);

  expect((await call(BOOTSTRAP, 'DELETE', '/tokens/ci')).status).toBe(200);
  expect((await call(ci, 'GET', '/alerts')).status).toBe(401);
  expect((await call(BOOTSTRAP, 'DELETE', '/tokens/ci')).json.error).toMatchObject({ code: 'SRW_TOKEN_NOT_FOUND' });

  const { token: brief } = await new TokenStore(redis, daemon.keys).create(
    { name: 'brief', role: 'viewer', createdBy: 'test', expiresAt: Date.now() + 300 },
    Date.now(),
  );
  expect((await call(brief, 'GET', '/alerts')).status).toBe(200);
  await waitFor(async () => (await call(brief, 'GET', '/alerts')).status === 401 || undefined, { timeoutMs: 5000, what: 'the token to expire' });
  expect((await call(BOOTSTRAP, 'POST', '/tokens', { name: 'ci2', role: 'root' })).status).toBe(400);
  expect((await call(BOOTSTRAP, 'POST', '/tokens', { name: 'vera', role: 'viewer' })).status).toBe(409);
});

it('the audit log lists each write with its actor, refused ones too', async () => {
  const entries = (await call(BOOTSTRAP, 'GET', '/audit?limit=1000')).json.entries as { actor: string; action: string; result: string; via: string }[];
  expect(entries).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ actor: 'api-token', action: 'POST /tokens', result: '201', via: 'api-token' }),
      expect.objectContaining({ actor: 'otto', action: 'POST /silences', result: '201', via: 'token' }),
      expect.objectContaining({ actor: 'otto', action: 'POST /tracks', result: '403' }),
      expect.objectContaining({ actor: 'vera', action: 'POST /alerts/x1/ack', result: '403' }),
      expect.objectContaining({ actor: 'api-token', action: 'DELETE /tokens/ci', result: '200' }),
    ]),
  );
  // Reads are not writes: the log does not fill with them.
  expect(entries.some((e) => e.action.startsWith('GET '))).toBe(false);
  expect((await call(BOOTSTRAP, 'GET', '/audit?since=nonsense')).status).toBe(400);
});
