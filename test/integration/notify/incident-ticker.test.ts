// The incident ticker turns every flush that is due into a job in one tick: a storm's thousand groups coming due
// together are not taken 200 a tick (a tick every 250 ms), which held the last group's page back by over a second.
import { Queue } from 'bullmq';
import { IncidentStore } from '../../../src/alerts/incidents';
import { IncidentTicker } from '../../../src/notify/dispatch/incident-ticker';
import { Keys } from '../../../src/store/keys';
import { deliverQueue } from '../../../src/store/queues';
import { silent } from '../../support/notifiers';
import { dropPrefix, testRedis, uniquePrefix } from '../../support/redis';

const redis = testRedis();
const prefix = uniquePrefix('ticker');
const keys = new Keys(prefix);
let queue: Queue;

beforeAll(() => {
  queue = deliverQueue(redis, keys, { attempts: 1, backoffMs: 100 });
});
afterAll(async () => {
  await queue.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

it('one tick takes every due flush, however many came due together', async () => {
  const incidents = new IncidentStore(redis, keys);
  const now = Date.now();
  const settings = { notifier: 'pd', route: 0, values: ['v'], waitMs: 0, intervalMs: 60_000 };
  for (let i = 0; i < 450; i++) await incidents.join(`g${i}`, { ...settings, values: [`v${i}`] }, { key: `k${i}`, openedBy: `e${i}` }, now - 1000);
  const ticker = new IncidentTicker({ incidents, deliverQueue: queue, clock: { now: () => now }, logger: silent });
  expect(await ticker.tick()).toBe(450);
  expect(await queue.getJobCountByTypes('wait', 'prioritized')).toBe(450);
  expect(await ticker.tick()).toBe(0); // each claimed once (leased), not again
});
