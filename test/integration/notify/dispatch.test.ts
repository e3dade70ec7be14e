// The dispatcher against a real Redis: a bad entry kept and logged, a dead dispatcher's pending events reclaimed and
// fanned out once, a burst past the outbox's maximum lost nowhere, and a delivered delivery not sent again.
import { Queue } from 'bullmq';
import { systemClock } from '../../../src/util/clock';
import { Status } from '../../../src/model/status';
import { DeliveryStore } from '../../../src/store/deliveries';
import { deliverJob } from '../../../src/notify/deliver/deliver';
import type { WatchEvent } from '../../../src/store/events';
import { DISPATCH_GROUP } from '../../../src/store/keys';
import { nextEvents } from '../../../src/watch/state';
import { StateStore } from '../../../src/store/state-store';
import { trackFromRequest } from '../../../src/store/tracks';
import { stepSnapshot, watcherRig } from '../../support/watcher-rig';

const { logger, redis, keys, tracks, testDispatcher } = watcherRig('dispatch');

describe('dispatch and delivery', () => {
  it('an entry that is not an event is kept in the dead-letter stream and logged, not acknowledged silently', async () => {
    const blocking = redis.duplicate();
    const deliverQ = new Queue('deliver', { connection: redis, prefix: keys.bullPrefix });
    try {
      await redis.xgroup('CREATE', keys.events, DISPATCH_GROUP, '0', 'MKSTREAM');
      await redis.xadd(keys.events, '*', 'event', '{"id": "e1", "type": tru');
      const d = testDispatcher(blocking, deliverQ, { consumer: 'c1', reclaimIdleMs: 100 });
      expect(await d.step()).toBe(1);
      const dead = await redis.xrange(keys.deadEvents, '-', '+');
      expect(dead.map(([, f]) => f)).toEqual([['event', '{"id": "e1", "type": tru']]);
      expect(((await redis.xpending(keys.events, DISPATCH_GROUP)) as [number])[0]).toBe(0);
      expect(await deliverQ.getJobCountByTypes('waiting')).toBe(0);
    } finally {
      blocking.disconnect();
      await deliverQ.close();
    }
  });

  it('events left pending by a dead dispatcher are reclaimed and fanned out once per notifier', async () => {
    const blocking = redis.duplicate();
    const deliverQ = new Queue('deliver', { connection: redis, prefix: keys.bullPrefix });
    try {
      const track = trackFromRequest({ provider: 'local', pipelineRun: 'pz' }, 'cli', Date.now());
      await tracks.add(track);
      const step = stepSnapshot({ pipelineRunId: 'pz', status: Status.Failed });
      await new StateStore(redis, keys).commit(track, nextEvents(track, {}, [step], Date.now()), Date.now(), Date.now() + 1000);
      await redis.xgroup('CREATE', keys.events, DISPATCH_GROUP, '0', 'MKSTREAM');
      // A dispatcher reads the event and dies before acknowledging it.
      await redis.xreadgroup('GROUP', DISPATCH_GROUP, 'dead-one', 'COUNT', 10, 'STREAMS', keys.events, '>');
      const deliveries = new DeliveryStore(redis, keys);
      const d = testDispatcher(blocking, deliverQ, { notify: ['a', 'b'], consumer: 'alive', reclaimIdleMs: 100 });
      await new Promise((r) => setTimeout(r, 150));
      expect(await d.step()).toBe(1);
      expect(await d.step()).toBe(0);
      expect(await deliverQ.getJobCountByTypes('waiting')).toBe(2);
      const pending = (await redis.xpending(keys.events, DISPATCH_GROUP)) as [number];
      expect(pending[0]).toBe(0);
      expect((await deliveries.list()).map((r) => r.notifier).sort()).toEqual(['a', 'b']);
    } finally {
      await deliverQ.obliterate({ force: true });
      await deliverQ.close();
      blocking.disconnect();
    }
  });

  it('a burst larger than events.maxLen loses nothing: the outbox is trimmed only behind the dispatcher', async () => {
    const blocking = redis.duplicate();
    const deliverQ = new Queue('deliver', { connection: redis, prefix: keys.bullPrefix });
    const maxLen = 100;
    try {
      const track = trackFromRequest({ provider: 'local', pipelineRun: 'burst' }, 'cli', Date.now());
      await tracks.add(track);
      const steps = Array.from({ length: 1000 }, (_, i) =>
        stepSnapshot({ stepRunId: `s${i}`, nodeId: `n${i}`, name: `step${i}`, pipelineRunId: 'burst', status: Status.Failed }),
      );
      // 1,000 events appended before any dispatcher reads (it was down, or slow): ten times the stream's length.
      await new StateStore(redis, keys).commit(track, nextEvents(track, {}, steps, Date.now()), Date.now(), Date.now() + 1000);
      const d = testDispatcher(blocking, deliverQ, { consumer: 'c1', reclaimIdleMs: 60000, maxLen });
      await d.ensureGroup();
      while ((await d.step()) > 0);
      expect(await redis.zcard(keys.deliveries)).toBe(1000);
      // Once fanned out, the stream is cut back to about maxLen (whole macro nodes: approximately, never below).
      const left = await redis.xlen(keys.events);
      expect(left).toBeGreaterThanOrEqual(maxLen);
      expect(left).toBeLessThanOrEqual(2 * maxLen);
    } finally {
      await deliverQ.obliterate({ force: true });
      await deliverQ.close();
      blocking.disconnect();
    }
  });

  it('a delivery already marked delivered is not sent again', async () => {
    const deliveries = new DeliveryStore(redis, keys);
    const sent: string[] = [];
    const notifier = { type: 't', name: 'n', deliver: async (e: WatchEvent) => void sent.push(e.id) };
    const event = { id: 'ev1', type: 'steprun.finished' } as WatchEvent;
    await deliveries.ensureMany([{ id: 'ev1-n', eventId: 'ev1', notifier: 'n', eventType: event.type, summary: 's' }], Date.now());
    const job = { data: { deliveryId: 'ev1-n', notifier: 'n', event }, attemptsMade: 0, opts: { attempts: 3 } } as never;
    const d = { notifiers: new Map([['n', notifier]]), deliveries, clock: systemClock, logger };
    expect(await deliverJob(d, job, new AbortController().signal)).toBe('delivered');
    expect(await deliverJob(d, job, new AbortController().signal)).toBe('already-delivered');
    expect(sent).toEqual(['ev1']);
    expect(await deliveries.get('ev1-n')).toMatchObject({ status: 'delivered', attempts: 1 });
  });
});
