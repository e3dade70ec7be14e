// Faults an operator will meet: SMTP down for a while, a receiver slower than the timeout, a harvest folder that
// cannot be written, a provider answering 429/500/garbage/too late. Nothing is lost, nothing is sent twice, the daemon keeps running.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Daemon } from '../../src/runtime/daemon';
import { DeliveryStore } from '../../src/store/deliveries';
import { LocalProvider } from '../../src/providers/local/provider';
import { systemClock } from '../../src/util/clock';
import { Keys } from '../../src/store/keys';
import { TrackStore, trackFromRequest } from '../../src/store/tracks';
import type { WatchEvent } from '../../src/store/events';
import { azureOptions, AzureMlServer, fixture } from '../support/azureml-server';
import { startDaemon, testConfig } from '../support/daemon';
import { execStep } from '../support/local-runs';
import { dropPrefix, freePort, testRedis, uniquePrefix } from '../support/redis';
import { MailCatcher } from '../support/smtp';
import { tempDir } from '../support/tmp';
import { waitFor } from '../support/wait-for';
import { WebhookReceiver } from '../support/webhook-receiver';

const redis = testRedis();
const prefixes: string[] = [];
afterAll(async () => {
  for (const p of prefixes) await dropPrefix(redis, p);
  redis.disconnect();
});

async function daemonWith(extra: Record<string, unknown>): Promise<{ daemon: Daemon; keys: Keys; dataDir: string; local: LocalProvider }> {
  const prefix = uniquePrefix('fault');
  prefixes.push(prefix);
  const dataDir = tempDir('fault');
  const daemon = await startDaemon(testConfig({ prefix, dataDir, extra }));
  return { daemon, keys: new Keys(prefix), dataDir, local: new LocalProvider({ root: path.join(dataDir, 'runs') }) };
}

async function trackRun(keys: Keys, o: { provider?: string; pipelineRun: string; labels?: Record<string, string> }): Promise<void> {
  await new TrackStore(redis, keys, systemClock).add(
    trackFromRequest({ provider: o.provider ?? 'local', pipelineRun: o.pipelineRun, labels: o.labels }, 'cli', Date.now()),
  );
}

async function events(keys: Keys): Promise<WatchEvent[]> {
  return (await redis.xrange(keys.events, '-', '+')).map(([, f]) => JSON.parse(f[1]!) as WatchEvent);
}

describe('faults', () => {
  it('SMTP down for a while: the mail is delivered when it returns, once', async () => {
    const port = await freePort();
    const { daemon, keys, dataDir, local } = await daemonWith({
      notifiers: { mail: { type: 'email', to: 'a@example.com', smtp: { host: '127.0.0.1', port, secure: false } } },
      routes: [{ match: { type: 'steprun.failed' }, notify: ['mail'] }],
      delivery: { attempts: 30, backoffMs: 200 },
    });
    const catcher = new MailCatcher();
    try {
      const r = await execStep(local.store, { experiment: 'f', step: 'bad', script: 'exit 1', cwd: dataDir });
      await trackRun(keys, { pipelineRun: r.pipelineRunId });
      const store = new DeliveryStore(redis, keys);
      await waitFor(async () => (await store.list()).some((d) => d.attempts >= 2 && d.status === 'retrying'), { timeoutMs: 20000, what: 'failed tries' });
      await catcher.start(port);
      await waitFor(() => catcher.mails.length === 1, { timeoutMs: 30000, what: 'the mail' });
      await new Promise((res) => setTimeout(res, 1500));
      expect(catcher.mails).toHaveLength(1);
      expect((await store.list())[0]).toMatchObject({ status: 'delivered' });
    } finally {
      await daemon.stop();
      await catcher.close();
    }
  });

  it('a webhook receiver slower than the timeout: the try is abandoned and retried with the same webhook-id', async () => {
    const receiver = new WebhookReceiver();
    const url = await receiver.start();
    receiver.script.push({ status: 200, delayMs: 1500 });
    const { daemon, keys, dataDir, local } = await daemonWith({
      notifiers: { hook: { type: 'webhook', url, timeoutMs: 300 } },
      routes: [{ match: { type: 'steprun.finished' }, notify: ['hook'] }],
      delivery: { attempts: 5, backoffMs: 100 },
    });
    try {
      const r = await execStep(local.store, { experiment: 'f', step: 'ok', script: 'exit 0', cwd: dataDir });
      await trackRun(keys, { pipelineRun: r.pipelineRunId });
      const store = new DeliveryStore(redis, keys);
      await waitFor(async () => (await store.list())[0]?.status === 'delivered', { timeoutMs: 20000, what: 'delivered' });
      const [record] = await store.list();
      expect(record!.attempts).toBe(2);
      await waitFor(() => receiver.received.length === 2, { what: 'both requests seen by the receiver' });
      expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    } finally {
      await daemon.stop();
      await receiver.close();
    }
  });

  it('a harvest folder that cannot be written: dead letter with the reason, the daemon keeps delivering', async () => {
    const receiver = new WebhookReceiver();
    const url = await receiver.start();
    const blocked = path.join(tempDir('blocked'), 'a-file');
    await fs.writeFile(blocked, 'not a folder');
    const { daemon, keys, dataDir, local } = await daemonWith({
      notifiers: { harvest: { type: 'download', dir: path.join(blocked, 'harvest') }, hook: { type: 'webhook', url } },
      routes: [{ match: { type: 'steprun.finished' }, notify: ['harvest', 'hook'] }],
      delivery: { attempts: 2, backoffMs: 100 },
    });
    try {
      await fs.mkdir(path.join(dataDir, 'w'), { recursive: true });
      const r = await execStep(local.store, { experiment: 'f', step: 'ok', script: 'echo x > o.txt', cwd: path.join(dataDir, 'w'), outputs: { o: 'o.txt' } });
      await trackRun(keys, { pipelineRun: r.pipelineRunId });
      const store = new DeliveryStore(redis, keys);
      await waitFor(async () => (await store.list({ failedOnly: true })).length === 1, { timeoutMs: 20000, what: 'a dead letter' });
      expect((await store.list({ failedOnly: true }))[0]).toMatchObject({
        notifier: 'harvest',
        status: 'failed',
        attempts: 2,
        lastError: expect.stringMatching(/ENOTDIR|EEXIST/),
      });
      // Still working: a later transition is delivered.
      const r2 = await execStep(local.store, { experiment: 'f', step: 'ok2', script: 'exit 0', cwd: dataDir });
      await trackRun(keys, { pipelineRun: r2.pipelineRunId });
      await waitFor(() => receiver.received.length === 2, { timeoutMs: 20000, what: 'both webhooks' });
      expect(await daemon.ready()).toBe(true);
    } finally {
      await daemon.stop();
      await receiver.close();
    }
  });

  it('a provider answering 429, 500s, garbage and too late: that track backs off and recovers; another track is not delayed', async () => {
    const server = new AzureMlServer();
    await server.start();
    server.pageSize = 100;
    server.addRun(fixture('pipeline-run'));
    server.addRun(fixture('step-running'));
    server.addRun({ ...fixture('pipeline-run'), runId: 'healthy_run' });
    server.addRun({ ...fixture('step-running'), runId: 'healthy_step', parentRunId: 'healthy_run', displayName: 'h' });
    const bad = /runs\/pipeline_run_1\/children$/;
    server.faults.push(
      { match: bad, status: 429, headers: { 'retry-after': '1' }, times: 4 },
      { match: bad, status: 500, times: 4 },
      { match: bad, status: 200, body: '{"value": [{"runId": ', times: 2 },
      { match: bad, status: 200, body: '{}', delayMs: 1500, times: 4 },
    );
    const { daemon, keys } = await daemonWith({
      providers: {
        local: { type: 'local' },
        prod: azureOptions(server, { timeoutMs: 800 }),
      },
      poll: { tick: '* * * * * *', minIntervalSeconds: 0.2, maxIntervalSeconds: 3, errorAfterFailures: 2, concurrency: 4 },
    });
    try {
      const started = Date.now();
      await trackRun(keys, { provider: 'prod', pipelineRun: 'pipeline_run_1', labels: { which: 'faulty' } });
      await trackRun(keys, { provider: 'prod', pipelineRun: 'healthy_run', labels: { which: 'healthy' } });
      await waitFor(async () => (await events(keys)).some((e) => e.labels.which === 'healthy'), { timeoutMs: 10000, what: 'the healthy track' });
      const healthyAfter = Date.now() - started;
      expect(healthyAfter).toBeLessThan(5000);
      await waitFor(async () => (await events(keys)).some((e) => e.labels.which === 'faulty' && e.type === 'steprun.running'), {
        timeoutMs: 60000,
        what: 'the faulty track recovering',
      });
      const faulty = (await events(keys)).filter((e) => e.labels.which === 'faulty');
      expect(faulty.filter((e) => e.type === 'track.error')).toHaveLength(1);
      expect(faulty.filter((e) => e.type === 'steprun.running')).toHaveLength(1);
      expect(server.faults.every((f) => (f.times ?? 0) === 0)).toBe(true);
      expect(await daemon.ready()).toBe(true);
    } finally {
      await daemon.stop();
      await server.close();
    }
  });
});
