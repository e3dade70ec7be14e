// Delivery in worker threads (runtime/deliver-threads.ts): `steprun-watch daemon` with two deliver threads sends
// every change once, counts them in its own /metrics, is ready only with its threads running, and drains the threads
// on SIGTERM.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { LocalProvider } from '../../src/providers/local/provider';
import { Keys } from '../../src/store/keys';
import { TrackStore, trackFromRequest } from '../../src/store/tracks';
import { systemClock } from '../../src/util/clock';
import { seedRun } from '../support/seed-runs';
import { ProcessGroup } from '../support/cli';
import { dropPrefix, freePort, REDIS_URL, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';
import { waitFor } from '../support/wait-for';
import { WebhookReceiver } from '../support/webhook-receiver';

const redis = testRedis();
const prefix = uniquePrefix('threads');
const dir = tempDir('threads');
const receiver = new WebhookReceiver();
const processes = new ProcessGroup();

afterAll(async () => {
  await processes.killAll();
  await receiver.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

it('two deliver threads: every change delivered once, counted in /metrics, drained on SIGTERM', async () => {
  const port = await freePort();
  const config = {
    redis: { url: REDIS_URL, prefix },
    poll: { tick: '* * * * * *', minIntervalSeconds: 0.3, maxIntervalSeconds: 1 },
    notifiers: { hook: { type: 'webhook', url: await receiver.start() } },
    routes: [{ match: { type: 'steprun.*' }, notify: ['hook'] }],
    api: { listen: `127.0.0.1:${port}` },
    workers: { deliverThreads: 2 },
  };
  const file = path.join(dir, 'config.yaml');
  await fs.writeFile(file, stringifyYaml(config));
  const env = { SRW_CONFIG: file, SRW_DATA_DIR: path.join(dir, 'data') };
  const daemon = processes.start(['daemon'], { env });
  let output = '';
  daemon.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200, { what: 'the daemon ready' });
  expect(output.match(/"thread":"deliver".*steprun-watch started/g)).toHaveLength(2);

  const local = new LocalProvider({ root: path.join(env.SRW_DATA_DIR, 'runs') });
  const tracks = new TrackStore(redis, new Keys(prefix), systemClock);
  for (let p = 0; p < 30; p++) {
    await seedRun(local.store, { experiment: 'thr', pipelineRunId: `thr${p}`, steps: 5 });
    await tracks.add(trackFromRequest({ provider: 'local', pipelineRun: `thr${p}` }, 'cli', Date.now()));
  }
  const ids = () => receiver.received.map((r) => String(r.headers['webhook-id']));
  await waitFor(() => new Set(ids()).size >= 150, { timeoutMs: 60_000, what: '150 deliveries' });
  // A thread reports a delivery once it is marked, a moment after the receiver has it.
  const delivered = async () =>
    Number(/^srw_deliveries_total\{notifier="hook",outcome="delivered"\} (\d+)/m.exec(await (await fetch(`${base}/metrics`)).text())?.[1]);
  await waitFor(async () => (await delivered()) >= 150, { what: 'the threads’ counts in /metrics' });
  expect(await delivered()).toBe(150);
  expect(ids()).toHaveLength(150); // none twice

  daemon.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => daemon.once('exit', resolve));
  expect(code).toBe(0);
  expect(output.match(/"thread":"deliver".*"msg":"stopped"/g)).toHaveLength(2);
});
