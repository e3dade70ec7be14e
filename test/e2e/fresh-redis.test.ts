// The test suite on a machine with no Redis running: it starts one, or says at once what to install (issue 38, item 9).
// `npm test` with no Redis running hung silently (11 minutes, nothing printed). The suite's global
// setup starts a redis-server where none answers (and stops it after), or fails at once saying what to install.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ensureLocalRedis, redisAnswers } from '../../src/runtime/local-redis';
import { freePort } from '../support/redis';

const ROOT = path.resolve(__dirname, '../..');

it('with nothing answering, a redis-server is started on that port; with no binary, a clear error at once', async () => {
  const url = `redis://127.0.0.1:${await freePort()}`;
  expect(await redisAnswers(url)).toBe(false);
  const child = await ensureLocalRedis(url);
  try {
    expect(child).toBeDefined();
    expect(await redisAnswers(url)).toBe(true);
    expect(await ensureLocalRedis(url)).toBeUndefined(); // one answers now: nothing started
  } finally {
    child?.kill();
  }
  const other = `redis://127.0.0.1:${await freePort()}`;
  const started = Date.now();
  await expect(ensureLocalRedis(other, { redisServer: 'no-such-redis-server' })).rejects.toThrow(/no redis-server binary was found\. Install Redis 7/);
  expect(Date.now() - started).toBeLessThan(10_000);
});

it('the test command itself, with no Redis at REDIS_URL: starts one, runs, stops it', async () => {
  const url = `redis://127.0.0.1:${await freePort()}`;
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/jest/bin/jest.js'), 'test/integration/scripts/scripts.test.ts', '--selectProjects', 'integration'],
    {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: url },
      encoding: 'utf8',
      timeout: 110_000,
    },
  );
  expect([r.status, r.stderr.match(/Tests:.*/)?.[0]]).toEqual([0, expect.stringMatching(/passed/)]);
  expect(r.stderr).toContain(`no Redis at ${url}: starting redis-server`);
  expect(await redisAnswers(url)).toBe(false); // stopped after
});
