// Delivery faults an operator will meet: SMTP down for a while, a receiver slower than the timeout, a harvest folder
// that cannot be written. Nothing is lost, nothing is sent twice, the daemon keeps delivering.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { DeliveryStore } from '../../../src/store/deliveries';
import { FaultRig } from '../../support/fault-rig';
import { untilQuiet } from '../../support/quiet';
import { execStep } from '../../support/local-runs';
import { freePort } from '../../support/redis';
import { MailCatcher } from '../../support/smtp';
import { tempDir } from '../../support/tmp';
import { waitFor } from '../../support/wait-for';
import { WebhookReceiver } from '../../support/webhook-receiver';

const rig = new FaultRig();
const redis = rig.redis;
afterAll(async () => rig.close());

describe('delivery faults', () => {
  it('SMTP down for a while: the mail is delivered when it returns, once', async () => {
    const port = await freePort();
    const { daemon, prefix, keys, dataDir, local } = await rig.daemonWith({
      notifiers: { mail: { type: 'email', to: 'a@example.com', smtp: { host: '127.0.0.1', port, secure: false } } },
      routes: [{ match: { type: 'steprun.failed' }, notify: ['mail'] }],
      delivery: { attempts: 30, backoffMs: 200 },
    });
    const catcher = new MailCatcher();
    try {
      const r = await execStep(local.store, { experiment: 'f', step: 'bad', script: 'exit 1', cwd: dataDir });
      await rig.trackRun(keys, { pipelineRun: r.pipelineRunId });
      const store = new DeliveryStore(redis, keys);
      await waitFor(async () => (await store.list()).some((d) => d.attempts >= 2 && d.status === 'retrying'), { timeoutMs: 20000, what: 'failed tries' });
      await catcher.start(port);
      await waitFor(() => catcher.mails.length === 1, { timeoutMs: 30000, what: 'the mail' });
      await untilQuiet(redis, prefix); // a second mail would have been sent by now
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
    const { daemon, keys, dataDir, local } = await rig.daemonWith({
      notifiers: { hook: { type: 'webhook', url, timeoutMs: 300 } },
      routes: [{ match: { type: 'steprun.finished' }, notify: ['hook'] }],
      delivery: { attempts: 5, backoffMs: 100 },
    });
    try {
      const r = await execStep(local.store, { experiment: 'f', step: 'ok', script: 'exit 0', cwd: dataDir });
      await rig.trackRun(keys, { pipelineRun: r.pipelineRunId });
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
    const { daemon, keys, dataDir, local } = await rig.daemonWith({
      notifiers: { harvest: { type: 'download', dir: path.join(blocked, 'harvest') }, hook: { type: 'webhook', url } },
      routes: [{ match: { type: 'steprun.finished' }, notify: ['harvest', 'hook'] }],
      delivery: { attempts: 2, backoffMs: 100 },
    });
    try {
      await fs.mkdir(path.join(dataDir, 'w'), { recursive: true });
      const r = await execStep(local.store, { experiment: 'f', step: 'ok', script: 'echo x > o.txt', cwd: path.join(dataDir, 'w'), outputs: { o: 'o.txt' } });
      await rig.trackRun(keys, { pipelineRun: r.pipelineRunId });
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
      await rig.trackRun(keys, { pipelineRun: r2.pipelineRunId });
      await waitFor(() => receiver.received.length === 2, { timeoutMs: 20000, what: 'both webhooks' });
      expect(await daemon.ready()).toBe(true);
    } finally {
      await daemon.stop();
      await receiver.close();
    }
  });
});
