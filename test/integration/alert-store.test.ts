// The alert records, groups and repeats against a real Redis, time from a fake clock.
import { Queue } from 'bullmq';
import { alertPolicyOf } from '../../src/alerts/policy';
import { validateConfig } from '../../src/config/load';
import { AlertStore } from '../../src/alerts/alert-store';
import { sendDueRepeats } from '../../src/alerts/repeats';
import { ManualClock } from '../../src/util/clock';
import { DeliveryStore } from '../../src/store/deliveries';
import { deliverQueue } from '../../src/store/queues';
import type { WatchEvent } from '../../src/store/events';
import { stepEventFixture } from '../support/events';
import { Keys } from '../../src/store/keys';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis';

const redis = testRedis();
const prefix = uniquePrefix('alertstore');
const keys = new Keys(prefix);
let queue: Queue;

const failed = (id: string, run: string): WatchEvent => stepEventFixture({ id, pipelineRunId: run, trackId: 't', labels: {} });
const finished = (id: string, run: string): WatchEvent => ({
  ...failed(id, run),
  type: 'steprun.finished',
  stepRun: { ...failed(id, run).stepRun!, status: 'Finished' },
});
const KEY = 'local/churn/step/train';

beforeAll(() => {
  queue = deliverQueue(redis, keys, { attempts: 1, backoffMs: 100 });
});
beforeEach(async () => dropPrefix(redis, prefix));
afterAll(async () => {
  await queue.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

/** What the dispatcher notes when `notifier` is sent event `eventId`'s message. */
const told = (notifier: string, eventId: string) => ({ told: { [notifier]: `${eventId}-${notifier}` }, pending: {} });
const routesOf = (routes: unknown[]) => validateConfig({ routes }, { env: {} }).routes;

describe('open and resolve', () => {
  it('a replayed open changes nothing; a later failure of the same key is counted; one resolve, replays append nothing', async () => {
    const alerts = new AlertStore(redis, keys);
    const t0 = Date.parse('2026-11-26T01:00:00Z');
    expect(await alerts.open(KEY, failed('e1', 'run1'), told('pd', 'e1'), t0)).toBe(true);
    expect(await alerts.open(KEY, failed('e1', 'run1'), told('pd', 'e1'), t0)).toBe(false);
    expect((await alerts.get(KEY))!.failures).toBe(1);
    await alerts.open(KEY, failed('e2', 'run2'), told('slack', 'e2'), t0 + 1000);
    const open = (await alerts.get(KEY))!;
    expect(open).toMatchObject({ failures: 2, openedBy: 'e1', openedRun: 'run1', notifiers: ['pd', 'slack'] });

    const resolved = await alerts.resolve(KEY, finished('e3', 'run3'), t0 + 3_600_000);
    expect(resolved!.alert).toMatchObject({ key: KEY, openedRun: 'run1', resolvedRun: 'run3', durationMs: 3_600_000, notifiers: ['pd', 'slack'] });
    expect(await alerts.resolve(KEY, finished('e3', 'run3'), t0 + 3_600_000)).toBeUndefined();
    const stream = await redis.xrange(keys.events, '-', '+');
    expect(stream).toHaveLength(1);
    expect(JSON.parse(stream[0]![1][1]!)).toMatchObject({ type: 'alert.resolved', id: resolved!.id });
    expect(await alerts.list()).toEqual([]);
  });
  it('a message noted while the resolve reads the alert (a group flushed, a repeat) is in the resolve: its notifier is resolved, after it', async () => {
    const alerts = new AlertStore(redis, keys);
    const t0 = Date.parse('2026-11-26T01:00:00Z');
    await alerts.open(KEY, failed('e1', 'run1'), { told: {}, pending: { pd: 'g1-1-pd' } }, t0);
    // The interleaving the model test met once: the group's flush notes its notification to pd just after the
    // resolve read the alert, and before the resolve's script runs.
    let interleaved = false;
    const racing = new Proxy(redis, {
      get(target, prop) {
        if (prop === 'hgetall')
          return async (key: string) => {
            const row = await target.hgetall(key);
            if (!interleaved) interleaved = await alerts.noteMessage(KEY, 'pd', 'g1-1-pd');
            return row;
          };
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const resolved = await new AlertStore(racing, keys).resolve(KEY, finished('e2', 'run2'), t0 + 1000);
    expect(interleaved).toBe(true);
    expect(resolved!.alert).toMatchObject({ notifiers: ['pd'], lastMessages: { pd: 'g1-1-pd' } });
    const stream = await redis.xrange(keys.events, '-', '+');
    expect(stream.map(([, f]) => (JSON.parse(f[1]!) as WatchEvent).alert?.notifiers)).toEqual([['pd']]);
  });
});

describe('repeat while unresolved', () => {
  it('sends the n-th repeat once at each interval, and stops when the alert resolves', async () => {
    const clock = new ManualClock(Date.parse('2026-11-26T01:00:00Z'));
    const alerts = new AlertStore(redis, keys);
    const deliveries = new DeliveryStore(redis, keys);
    const policy = alertPolicyOf({ notifiers: {}, routes: routesOf([{ match: {}, notify: ['teams'], repeat: { every: '4h' } }]) });
    const deps = { redis, keys, alerts, deliveries, deliverQueue: queue, policy };
    await alerts.open(KEY, failed('e1', 'run1'), told('teams', 'e1'), clock.now());
    await alerts.scheduleRepeat(KEY, 'teams', 4 * 3_600_000, clock.now());

    clock.advance(3_600_000);
    expect(await sendDueRepeats(deps, clock.now())).toBe(0);
    clock.advance(3 * 3_600_000);
    expect(await sendDueRepeats(deps, clock.now())).toBe(1);
    expect(await sendDueRepeats(deps, clock.now())).toBe(0); // the same tick twice (another daemon): nothing more
    expect(await deliveries.get('e1-teams-repeat1')).toMatchObject({ status: 'pending', notifier: 'teams' });
    clock.advance(4 * 3_600_000);
    expect(await sendDueRepeats(deps, clock.now())).toBe(1);
    expect(await deliveries.get('e1-teams-repeat2')).toBeDefined();

    await alerts.resolve(KEY, finished('e9', 'run2'), clock.now());
    clock.advance(4 * 3_600_000);
    expect(await sendDueRepeats(deps, clock.now())).toBe(0);
    expect(await redis.zcard(keys.alertRepeats)).toBe(0);
  });
});
