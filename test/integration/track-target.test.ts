// One track schema. The CLI's `track` flags, `POST /tracks` and the config's `tracks[]` are checked by
// trackTargetSchema alone, so they agree: `since` and `expect` only on experiment tracks (the API used to take
// `since` on a pipeline-run track that the CLI refused), errors naming what each caller wrote.
import * as path from 'node:path';
import { validateConfig } from '../../src/config/load';
import type { Daemon } from '../../src/runtime/daemon';
import { cli } from '../support/cli';
import { startDaemon, testConfig } from '../support/daemon';
import { dropPrefix, REDIS_URL, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';

const redis = testRedis();
const prefix = uniquePrefix('tracktarget');
const dataDir = tempDir('tracktarget');
let daemon: Daemon;

beforeAll(async () => {
  daemon = await startDaemon(testConfig({ prefix, dataDir }));
});
afterAll(async () => {
  await daemon.stop();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

const env = { SRW_REDIS_URL: REDIS_URL, SRW_REDIS_PREFIX: prefix, SRW_DATA_DIR: dataDir };
const post = async (body: unknown) => {
  const res = await fetch(`${daemon.apiUrl}/tracks`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: (await res.json()) as { error?: { message: string } } };
};

it('since on a pipeline-run track: refused alike by the CLI (its flag), the API and the config (their fields)', async () => {
  const byCli = await cli(['track', '--pipeline-run', 'p_1', '--since', '24h', '--no-verify'], { env });
  expect(byCli.code).toBe(4);
  expect(byCli.stderr).toContain('--since: is for experiment tracks');
  const byApi = await post({ pipelineRun: 'p_1', since: '24h', verify: false });
  expect(byApi.status).toBe(400);
  expect(byApi.body.error!.message).toContain('since: is for experiment tracks');
  expect(() => validateConfig({ tracks: [{ pipelineRun: 'p_1', since: '24h' }] }, { dataDir, env: {} })).toThrow(
    /tracks\[0\]\.since: is for experiment tracks/,
  );
});

it('expect on a step-run track, and a bad --expect-every, are refused naming the flag', async () => {
  const onStep = await cli(['track', '--step-run', 's_1', '--expect-every', '24h', '--no-verify'], { env });
  expect([onStep.code, onStep.stderr]).toEqual([4, expect.stringContaining('--expect-every: is for experiment tracks')]);
  const bad = await cli(['track', '--experiment', 'nightly', '--expect-every', 'soon', '--no-verify'], { env });
  expect([bad.code, bad.stderr]).toEqual([4, expect.stringContaining('--expect-every')]);
  const byTz = await cli(['track', '--experiment', 'nightly', '--expect-every', '24h', '--expect-by', '07:00', '--tz', 'Mars/Olympus', '--no-verify'], { env });
  expect([byTz.code, byTz.stderr]).toEqual([4, expect.stringContaining('--tz: an IANA time zone')]);
  expect((await post({ stepRun: 's_1', expect: { every: '24h' }, verify: false })).status).toBe(400);
});

it('what the schema takes, the CLI takes: an experiment track with since, an expectation and a stuck limit', async () => {
  const ok = await cli(
    [
      'track',
      '--experiment',
      'nightly',
      '--since',
      '24h',
      '--expect-every',
      '24h',
      '--expect-by',
      '07:00',
      '--tz',
      'Europe/Berlin',
      '--max-duration',
      '2h',
      '--label',
      'team=ml',
      '--no-verify',
      '--json',
    ],
    { env, cwd: path.resolve(__dirname, '../..') },
  );
  expect(ok.code).toBe(0);
  expect(JSON.parse(ok.stdout)).toMatchObject({
    kind: 'experiment',
    experiment: 'nightly',
    labels: { team: 'ml' },
    maxDurationMs: 7_200_000,
    expect: { everyMs: 86_400_000, by: '07:00', tz: 'Europe/Berlin' },
    added: true,
  });
});

// `track --experiment 'bad name!'` printed "tracking" and exited 0, `POST /tracks` with
// experiment `../../x` answered 201, and every poll failed after. A name no service takes is refused at once.
it('a name no service takes (spaces, slashes, a leading dot) is refused at once: exit 4, 400, a config error', async () => {
  for (const [flag, field, value] of [
    ['--experiment', 'experiment', 'bad name!'],
    ['--experiment', 'experiment', '../../x'],
    ['--pipeline-run', 'pipelineRun', 'a/b'],
    ['--step-run', 'stepRun', '.hidden'],
  ] as const) {
    const byCli = await cli(['track', flag, value, '--no-verify'], { env });
    expect([value, byCli.code, byCli.stderr]).toEqual([value, 4, expect.stringContaining(`${flag}: "${value}" is not a run or experiment name`)]);
    expect(byCli.stdout).not.toContain('tracking');
    const byApi = await post({ [field]: value, verify: false });
    expect([value, byApi.status, byApi.body.error?.message]).toEqual([
      value,
      400,
      expect.stringContaining(`${field}: "${value}" is not a run or experiment name`),
    ]);
    expect(() => validateConfig({ tracks: [{ [field]: value }] }, { dataDir, env: {} })).toThrow(new RegExp(`tracks\\[0\\]\\.${field}`));
  }
});
