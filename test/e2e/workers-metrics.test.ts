// Every process is scrapable — a worker-only process (`steprun-watch workers`) serves /healthz, /readyz and
// /metrics on workers.listen, with its own poll and delivery counters.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { systemClock } from '../../src/util/clock';
import { loadConfig } from '../../src/config/load';
import { Daemon } from '../../src/runtime/daemon';
import { createLogger } from '../../src/util/logger';
import { LocalProvider } from '../../src/providers/local/provider';
import { TrackStore, trackFromRequest } from '../../src/store/tracks';
import { seedRun } from '../support/seed-runs';
import { ProcessGroup } from '../support/cli';
import { dropPrefix, freePort, REDIS_URL, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';
import { waitFor } from '../support/wait-for';
import { WebhookReceiver } from '../support/webhook-receiver';

const redis = testRedis();
const prefix = uniquePrefix('workersmetrics');
const dir = tempDir('workersmetrics');
const receiver = new WebhookReceiver();
const processes = new ProcessGroup();
let coordinator: Daemon | undefined;

afterAll(async () => {
  await coordinator?.stop();
  await processes.killAll();
  await receiver.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

it('a worker process serves its poll and delivery counters on workers.listen', async () => {
  const port = await freePort();
  const config = {
    redis: { url: REDIS_URL, prefix },
    poll: { tick: '* * * * * *', minIntervalSeconds: 0.3, maxIntervalSeconds: 1 },
    notifiers: { hook: { type: 'webhook', url: await receiver.start() } },
    routes: [{ match: { type: 'steprun.*' }, notify: ['hook'] }],
    api: { enabled: false },
    workers: { listen: `127.0.0.1:${port}` },
  };
  const file = path.join(dir, 'config.yaml');
  await fs.writeFile(file, stringifyYaml(config));
  const env = { SRW_CONFIG: file, SRW_DATA_DIR: path.join(dir, 'data') };
  // The coordinator schedules and dispatches; the worker process polls and delivers.
  coordinator = await Daemon.create({
    config: await loadConfig({ file, dataDir: env.SRW_DATA_DIR }),
    logger: createLogger({ level: 'silent', pretty: false }),
    roles: { scheduler: true, dispatcher: true, pollWorkers: false, deliverWorkers: false },
  });
  await coordinator.start();
  processes.start(['workers'], { env });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200, { what: 'the worker ready' });

  const local = new LocalProvider({ root: path.join(env.SRW_DATA_DIR, 'runs') });
  await seedRun(local.store, { experiment: 'wm', pipelineRunId: 'wm1' });
  await new TrackStore(redis, coordinator.keys, systemClock).add(trackFromRequest({ provider: 'local', pipelineRun: 'wm1' }, 'cli', Date.now()));
  await waitFor(() => receiver.received.length > 0, { what: 'the delivery' });

  // The receiver has the message before the worker has recorded it delivered (and counted it): wait for the count.
  const delivered = /^srw_deliveries_total\{notifier="hook",outcome="delivered"\} 1$/m;
  const metrics = await waitFor(
    async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      return delivered.test(text) ? text : undefined;
    },
    { what: 'the delivery counted' },
  ).catch(async () => (await fetch(`${base}/metrics`)).text());
  expect(metrics).toMatch(/^srw_polls_total\{provider="local",outcome="committed"\} [1-9]/m);
  expect(metrics).toMatch(/^srw_deliveries_total\{notifier="hook",outcome="delivered"\} 1$/m);
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
  // Only health and metrics: the API's routes are the daemon's.
  expect((await fetch(`${base}/tracks`)).status).toBe(404);
});
