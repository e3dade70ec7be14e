// Deliveries batched per notifier — one job for many, each delivery still sent once, retried on its own
// account and dead-lettered on its own; two jobs carrying the same delivery never both send it.
import { getMaxListeners } from 'node:events';
import type { Job } from 'bullmq';
import { systemClock } from '../../../src/util/clock';
import { createLogger } from '../../../src/util/logger';
import { batchJobs, type PlannedJob } from '../../../src/notify/dispatch/batches';
import { DeliveryStore } from '../../../src/store/deliveries';
import { deliverJob, type DeliverJobData } from '../../../src/notify/deliver/deliver';
import type { Notifier } from '../../../src/notify/notifier';
import { webhookNotifierFactory } from '../../../src/notify/notifiers/webhook';
import type { WatchEvent } from '../../../src/store/events';
import { Keys } from '../../../src/store/keys';
import { stepEventFixture } from '../../support/events';
import { dropPrefix, testRedis, uniquePrefix } from '../../support/redis';
import { tempDir } from '../../support/tmp';
import { WebhookReceiver } from '../../support/webhook-receiver';
import { waitFor } from '../../support/wait-for';

const redis = testRedis();
const prefix = uniquePrefix('batches');
const keys = new Keys(prefix);
const deliveries = new DeliveryStore(redis, keys);
const receiver = new WebhookReceiver();
const logger = createLogger({ level: 'silent', pretty: false });
let hook: Notifier;

beforeAll(async () => {
  const url = await receiver.start();
  hook = await webhookNotifierFactory(
    { type: 'webhook', url, timeoutMs: 2000 },
    { name: 'hook', dataDir: tempDir('batches'), logger, providers: new Map(), baseDir: '.' },
  );
});
afterAll(async () => {
  await receiver.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});
beforeEach(() => {
  receiver.received.length = 0;
  receiver.script.length = 0;
});

const event = (n: number): WatchEvent => stepEventFixture({ id: `e${n}`, trackId: 't', labels: {} });
const single = (n: number, extra: Partial<PlannedJob['opts']> = {}): PlannedJob => ({
  name: 'hook',
  data: { deliveryId: `e${n}-hook`, notifier: 'hook', event: event(n) },
  opts: { jobId: `dlv-e${n}-hook`, ...extra },
});

/** A job as BullMQ hands it to the worker. */
function jobOf(planned: PlannedJob, attemptsMade = 0): Job<DeliverJobData> {
  return { id: planned.opts.jobId, data: planned.data, attemptsMade, opts: { attempts: 3 } } as unknown as Job<DeliverJobData>;
}

async function record(ids: number[]): Promise<void> {
  await deliveries.ensureMany(
    ids.map((n) => ({ id: `e${n}-hook`, eventId: `e${n}`, notifier: 'hook', eventType: 'steprun.failed', summary: `e${n}` })),
    Date.now(),
  );
}

const deps = () => ({ notifiers: new Map([['hook', hook]]), deliveries, clock: systemClock, logger });
const receivedIds = () => receiver.received.map((r) => String(r.headers['webhook-id']));

describe('batchJobs', () => {
  it('puts the plain deliveries of one notifier in one job (at most MAX per job); held, grouped and lone ones keep their own', () => {
    const held = single(9, { delay: 5000 });
    const grouped: PlannedJob = { name: 'hook', data: { deliveryId: 'g-hook', notifier: 'hook', group: { id: 'g', generation: 1 } }, opts: { jobId: 'dlv-g' } };
    const lone: PlannedJob = { ...single(8), name: 'mail', data: { deliveryId: 'e8-mail', notifier: 'mail', event: event(8) } };
    const jobs = batchJobs([single(1), single(2), single(3), held, grouped, lone], 2);
    expect(jobs.map((j) => ('batch' in j.data ? j.data.batch.map((b) => b.deliveryId) : j.data.deliveryId))).toEqual([
      'e9-hook',
      'g-hook',
      ['e1-hook', 'e2-hook'],
      'e3-hook',
      'e8-mail',
    ]);
    // The same set of deliveries is always the same job (a replayed dispatch adds nothing new).
    expect(batchJobs([single(1), single(2)])[0]!.opts.jobId).toBe(batchJobs([single(1), single(2)])[0]!.opts.jobId);
  });
});

describe('a batch job', () => {
  it('sends each delivery once; a failed one is retried with the job, the delivered ones are not sent again', async () => {
    await record([11, 12, 13]);
    const [job] = batchJobs([single(11), single(12), single(13)]);
    receiver.script.push({ status: 503 }); // the first POST to arrive fails
    await expect(deliverJob(deps(), jobOf(job!), new AbortController().signal)).rejects.toThrow(/1 of 3 deliveries failed/);
    expect(receiver.received).toHaveLength(3);
    const failedFirst = receivedIds()[0]!;
    expect((await deliveries.get(failedFirst))?.status).toBe('retrying');

    expect(await deliverJob(deps(), jobOf(job!, 1), new AbortController().signal)).toBe('delivered');
    expect(receivedIds().slice(3)).toEqual([failedFirst]);
    for (const n of [11, 12, 13]) expect((await deliveries.get(`e${n}-hook`))?.status).toBe('delivered');
  });

  it("a full batch listens to its job's one abort signal within the signal's listener limit (no MaxListenersExceededWarning)", async () => {
    const ids = Array.from({ length: 40 }, (_, i) => 300 + i);
    await record(ids);
    const [job] = batchJobs(ids.map((n) => single(n)));
    // Node warns when an EventTarget holds more listeners than its limit (10 unless raised): count them as they come.
    const signal = new AbortController().signal;
    let listening = 0;
    let most = 0;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = (...args: Parameters<AbortSignal['addEventListener']>) => {
      if (args[0] === 'abort') most = Math.max(most, ++listening);
      add(...args);
    };
    signal.removeEventListener = (...args: Parameters<AbortSignal['removeEventListener']>) => {
      if (args[0] === 'abort') listening--;
      remove(...args);
    };
    expect(await deliverJob(deps(), jobOf(job!), signal)).toBe('delivered');
    expect(receiver.received).toHaveLength(40);
    expect(most).toBeGreaterThan(10); // the sends do listen, all at once
    expect(most).toBeLessThanOrEqual(getMaxListeners(signal));
  });

  it('a delivery its receiver refuses for good (404) is dead-lettered alone; the rest are delivered', async () => {
    await record([21, 22]);
    const [job] = batchJobs([single(21), single(22)]);
    receiver.script.push({ status: 404 });
    await expect(deliverJob(deps(), jobOf(job!), new AbortController().signal)).rejects.toThrow(/1 of 2 deliveries dead-lettered/);
    const [refused, accepted] = receivedIds();
    expect((await deliveries.get(refused!))?.status).toBe('failed');
    expect((await deliveries.get(accepted!))?.status).toBe('delivered');
    expect(await deliveries.deadEvent(refused!)).toMatchObject({ type: 'steprun.failed' });
  });

  it('two jobs carrying the same deliveries at once (a replayed dispatch batched otherwise): each is sent once', async () => {
    await record([31, 32, 33]);
    const [a] = batchJobs([single(31), single(32)]);
    const [b] = batchJobs([single(32), single(33)]);
    const lone = single(31);
    await Promise.all([a, b, lone].map((j) => deliverJob(deps(), jobOf(j!), new AbortController().signal)));
    expect(receivedIds().sort()).toEqual(['e31-hook', 'e32-hook', 'e33-hook']);
  });
});

describe('a batch whose receiver answers one send slowly', () => {
  it('marks each delivery as soon as its own send succeeded, not after the slowest send of the batch (a crash meanwhile would send it again)', async () => {
    await record([91, 92]);
    const [job] = batchJobs([single(91), single(92)]);
    receiver.script.push({ status: 200, delayMs: 1800 }); // the first POST to arrive is answered after 1.8 s (the hook waits 2)
    const running = deliverJob(deps(), jobOf(job!), new AbortController().signal);
    await waitFor(async () => receiver.received.length === 1, { what: 'the quick answer', timeoutMs: 1500 });
    const quick = receivedIds()[0]!;
    const slow = quick === 'e91-hook' ? 'e92-hook' : 'e91-hook';
    await waitFor(async () => (await deliveries.status(quick)) === 'delivered', { what: 'the quick send marked delivered', timeoutMs: 1500 });
    expect(receiver.received).toHaveLength(1); // the slow send is still waiting for its answer
    expect(await deliveries.status(slow)).not.toBe('delivered');
    expect(await running).toBe('delivered');
    expect(await deliveries.status(slow)).toBe('delivered');
  });
});
