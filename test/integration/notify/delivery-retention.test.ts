// Delivery records do not pile up in Redis: one dropped from the recent ones (10,000) goes once it is final and a day
// has passed since it last changed; one a job may still send, or a dead letter, stays.
import { DeliveryStore } from '../../../src/store/deliveries';
import { prefixedRedis } from '../../support/prefixed-redis';

const { redis, keys } = prefixedRedis('delivery-retention');
const deliveries = new DeliveryStore(redis, keys);

const T = 1_000_000;
const DAY = 86_400_000;
const RECENT = 10_000;

const record = (id: string, status?: 'silenced' | 'incident') => ({
  id,
  eventId: `e-${id}`,
  notifier: 'hook',
  eventType: 'steprun.failed',
  summary: id,
  status,
});

it('drops the records past the recent 10,000 that are final and a day old, keeps those a job or a retry still needs', async () => {
  await deliveries.ensureMany([record('silenced', 'silenced'), record('incident', 'incident'), record('sent'), record('pending'), record('dead')], T);
  await deliveries.markDelivered('sent', 1, T);
  await deliveries.markFailedAttempt('dead', 6, T, 'HTTP 404', { event: { id: 'e-dead' } as never });
  await deliveries.ensureMany([record('fresh', 'silenced')], T + DAY);

  const later = Array.from({ length: RECENT }, (_, i) => record(`later-${i}`, 'silenced'));
  await deliveries.ensureMany(later, T + DAY + 60_000);

  expect(await redis.zcard(keys.deliveries)).toBe(RECENT);
  for (const gone of ['silenced', 'incident', 'sent']) expect(await redis.exists(keys.delivery(gone))).toBe(0);
  expect(await deliveries.status('pending')).toBe('pending');
  expect(await deliveries.status('dead')).toBe('failed');
  expect(await deliveries.deadLetterIds()).toEqual(['dead']);
  // Final, out of the recent ones, but changed less than a day ago: kept until its day is over.
  expect(await deliveries.status('fresh')).toBe('silenced');
  const ttl = await redis.pttl(keys.delivery('fresh'));
  expect(ttl).toBeGreaterThan(DAY - 120_000);
  expect(ttl).toBeLessThanOrEqual(DAY - 60_000);
});
