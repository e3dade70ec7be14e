// An open alert's hash and the delivery records stay compact in Redis (listpack: about their data's size, where one
// value over 64 bytes made each a table of twice that), and read back whole, long and non-ASCII texts included.
import { AlertStore } from '../../src/alerts/alert-store';
import { DeliveryStore } from '../../src/store/deliveries';
import { summarize, type WatchEvent } from '../../src/store/events';
import { stepEventFixture } from '../support/events';
import { prefixedRedis } from '../support/prefixed-redis';

const { redis, keys } = prefixedRedis('compact-records');
const alerts = new AlertStore(redis, keys);
const deliveries = new DeliveryStore(redis, keys);

const T = 1_000_000;
const message = 'Échec: la mémoire du nœud est épuisée 🔥 — CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total)';
const fixture = stepEventFixture({ id: 'e1', pipelineRunId: 'nightly-2026-12-08' });
const failed: WatchEvent = {
  ...fixture,
  stepRun: { ...fixture.stepRun!, error: { code: 'UserError', message } },
  stderrTail: Array.from({ length: 12 }, (_, i) => `line ${i}: ${message}`).join('\n'),
};
const encodingOf = async (key: string) => redis.object('ENCODING', key);

it('an open alert keeps its opening event and summary whole, in a compact hash', async () => {
  expect(await alerts.open('local/churn/step/train', failed, { told: { pager: 'incident:g1' }, pending: { chat: 'g2-1-chat' } }, T)).toBe(true);
  expect(await encodingOf(keys.alert((await alerts.get('local/churn/step/train'))!.id))).toBe('listpack');
  const alert = await alerts.get('local/churn/step/train');
  expect(alert?.event).toEqual(failed);
  expect(alert?.openedSummary).toBe(summarize(failed));
  expect(alert?.openedSummary.length).toBeGreaterThan(64);
  expect(alert?.told).toEqual({ pager: 'incident:g1' });
});

it('a delivery record keeps its summary, reason and error whole, in a compact hash, a shorter rewrite included', async () => {
  const reason = `carried by incident g04876cc06f93a34085d6: its flushes tell the pager what the group holds (${message})`;
  await deliveries.ensureMany(
    [{ id: 'd1', eventId: 'e1', notifier: 'pager', eventType: failed.type, summary: summarize(failed), reason, status: 'incident' }],
    T,
  );
  await deliveries.ensureMany([{ id: 'd2', eventId: 'e1', notifier: 'chat', eventType: failed.type, summary: summarize(failed), reason }], T);
  expect(await encodingOf(keys.delivery('d1'))).toBe('listpack');
  expect(await deliveries.get('d1')).toMatchObject({ summary: summarize(failed), reason, status: 'incident' });

  await deliveries.markFailedAttempt('d2', 1, T + 1, `HTTP 500: ${message}`, false);
  await deliveries.markFailedAttempt('d2', 2, T + 2, 'HTTP 404', { event: failed });
  await deliveries.markUnsent('d2', 'suppressed', 'the alert closed', T + 3);
  expect(await encodingOf(keys.delivery('d2'))).toBe('listpack');
  expect(await deliveries.get('d2')).toMatchObject({ lastError: 'HTTP 404', reason: 'the alert closed', status: 'suppressed' });
  expect(await deliveries.deadEvent('d2')).toEqual(failed);
});
