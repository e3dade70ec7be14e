// `redis.sentinels` + `redis.name` find the master through Redis Sentinel; redis.cluster is checked as the
// daemon uses it (the exactly-once kill test runs on a cluster in daemon.test.ts). `ping` connects as every command does.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { cli } from '../support/cli';
import { freePort, REDIS_URL, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';
import { waitFor } from '../support/wait-for';

const dir = tempDir('sentinel');
let sentinel: ChildProcess | undefined;
let sentinelPort = 0;

beforeAll(async () => {
  // One sentinel watching the test Redis as master "srw-master" (quorum 1: it is the only one).
  const { hostname, port } = new URL(REDIS_URL);
  sentinelPort = await freePort();
  const conf = path.join(dir, 'sentinel.conf');
  await fs.writeFile(conf, `port ${sentinelPort}\nbind 127.0.0.1\nsentinel monitor srw-master ${hostname} ${port || 6379} 1\n`);
  sentinel = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
  await waitFor(async () => (await cli(['ping'], { env: await configWith({ sentinels: [`127.0.0.1:${sentinelPort}`], name: 'srw-master' }) })).code === 0, {
    what: 'the sentinel to know its master',
  });
});

afterAll(async () => {
  if (sentinel && sentinel.exitCode === null) {
    const exited = new Promise((r) => sentinel!.once('exit', r));
    sentinel.kill('SIGTERM');
    await exited;
  }
});

async function configWith(redis: Record<string, unknown>): Promise<NodeJS.ProcessEnv> {
  const file = path.join(dir, `config-${uniquePrefix('c')}.yaml`);
  await fs.writeFile(file, stringifyYaml({ redis: { prefix: 'sentinelcheck', ...redis }, api: { enabled: false } }));
  return { SRW_CONFIG: file, SRW_DATA_DIR: path.join(dir, 'data') };
}

it('redis.sentinels with the master name: the CLI finds the master through the sentinel', async () => {
  const r = await cli(['ping', '--json'], { env: await configWith({ sentinels: [`127.0.0.1:${sentinelPort}`], name: 'srw-master' }) });
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ redis: 'ok' });
});

it('a master name the sentinel does not watch: a clear error naming the sentinels, exit 5', async () => {
  const r = await cli(['ping'], { env: await configWith({ sentinels: [`127.0.0.1:${sentinelPort}`], name: 'no-such-master' }) });
  expect(r.code).toBe(5);
  expect(r.stderr).toContain(`Redis is not reachable at master "no-such-master" via sentinels 127.0.0.1:${sentinelPort}`);
});

it('sentinels without a master name, or both cluster and sentinels: refused, naming the field', async () => {
  const noName = await cli(['ping'], { env: await configWith({ sentinels: [`127.0.0.1:${sentinelPort}`] }) });
  expect(noName.code).toBe(4);
  expect(noName.stderr).toContain('redis.name');
  const both = await cli(['ping'], { env: await configWith({ sentinels: ['127.0.0.1:1'], name: 'm', cluster: ['127.0.0.1:2'] }) });
  expect(both.code).toBe(4);
  expect(both.stderr).toContain('redis.cluster: give cluster or sentinels, not both');
});
