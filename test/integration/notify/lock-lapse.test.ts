// A delivery whose job lock lapsed while it still ran: joined, not started twice (issue 38, item 8).
// under CPU load a job's lock lapsed (its renewal could not run), BullMQ handed the job out again,
// and the same worker started a second copy of a delivery still running — one harvest ran two or three times at once
// into the same .partial folder. A job already running in this process is joined, never started twice.
import { Worker } from 'bullmq';
import type { Notifier } from '../../../src/notify/notifier';
import { deliverJob, type DeliverDeps, type DeliverOutcome } from '../../../src/notify/deliver/deliver';
import { DeliveryStore } from '../../../src/store/deliveries';
import { deliveryJobId } from '../../../src/store/ids';
import { Keys } from '../../../src/store/keys';
import { deliverQueue, workerOptions } from '../../../src/store/queues';
import { systemClock } from '../../../src/util/clock';
import { silent } from '../../support/notifiers';
import { dropPrefix, testRedis, uniquePrefix } from '../../support/redis';
import { waitFor } from '../../support/wait-for';

jest.setTimeout(60_000);

const redis = testRedis();
const prefix = uniquePrefix('locklapse');
const keys = new Keys(prefix);

afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

/** The thread held as a CPU-bound stretch would hold it: no timer runs meanwhile, lock renewals included. */
function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

it('a delivery whose lock lapsed while it ran is not started again beside itself', async () => {
  let starts = 0;
  let ends = 0;
  const slow: Notifier = {
    type: 'test',
    name: 'slow',
    async deliver() {
      starts++;
      await new Promise((r) => setTimeout(r, 50));
      busy(1500); // the lock (500 ms) lapses
      await new Promise((r) => setTimeout(r, 2000)); // still running when BullMQ hands the job out again
      ends++;
      return { detail: 'done' };
    },
  };
  const deliveries = new DeliveryStore(redis, keys);
  const deps: DeliverDeps = {
    notifiers: new Map([['slow', slow]]),
    deliveries,
    clock: systemClock,
    logger: silent,
    running: new Map<string, Promise<DeliverOutcome>>(),
  };
  const queue = deliverQueue(redis, keys, { attempts: 3, backoffMs: 100 });
  const connection = testRedis();
  const worker = new Worker(queue.name, (job, _token, signal) => deliverJob(deps, job, signal ?? new AbortController().signal), {
    ...workerOptions(connection, keys, { lockDurationMs: 500, stalledIntervalMs: 300 }, 4),
  });
  worker.on('error', () => undefined);
  try {
    const event = {
      id: 'e-lapse',
      type: 'steprun.finished',
      time: new Date().toISOString(),
      detectedAt: Date.now(),
      trackId: 't',
      provider: 'local',
      experiment: 'E',
      labels: {},
    };
    await deliveries.ensureMany([{ id: 'd-lapse', eventId: event.id, notifier: 'slow', eventType: event.type, summary: 's' }], Date.now());
    await queue.add('slow', { deliveryId: 'd-lapse', notifier: 'slow', event }, { jobId: deliveryJobId('d-lapse') });
    await waitFor(() => ends >= 1, { timeoutMs: 20_000, what: 'the delivery to end' });
    await new Promise((r) => setTimeout(r, 2500)); // a second copy, had one started, would be running now
    expect({ starts, ends }).toEqual({ starts: 1, ends: 1 });
    expect(await deliveries.status('d-lapse')).toBe('delivered');
  } finally {
    await worker.close(true);
    await queue.close();
    connection.disconnect();
  }
});
