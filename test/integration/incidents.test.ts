// Incident groups: what a pager holds through storms, partial recovery, acknowledgements, silences and crashes (issue 36).
// the incident group is what a pager holds. Each scenario is one the issue measured on the release before
// (41 incident keys for a 40-step storm, nothing open while one step of a partly recovered group still fails, two
// incidents for one step failure, acknowledgements that never reached PagerDuty), played through the real
// dispatcher, delivery worker, Redis and an HTTP receiver that keeps incidents as PagerDuty does (AlertRig.pagerHolds).
import { AlertRig, pipelineEvent, stepEvent } from '../support/alert-rig';
import { acknowledge, unacknowledge } from '../../src/alerts/ack';
import { waitFor } from '../support/wait-for';
import { receiverHolds } from '../../src/alerts/receivers';
import { explainRouting } from '../../src/alerts/explain';
import { readDecisionState } from '../../src/alerts/decision-state';
import { alertPolicyOf } from '../../src/alerts/policy';

jest.setTimeout(60_000);

let rig: AlertRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

const FAILURES = { type: ['steprun.failed', 'pipelinerun.failed'] };

async function rigWith(route: Record<string, unknown>, config: Record<string, unknown> = {}): Promise<AlertRig> {
  rig = await new AlertRig({ config: { ...config, routes: [{ match: FAILURES, notify: ['pd'], ...route }] } }).start();
  return rig;
}

const stepsNamed = (n: number) => Array.from({ length: n }, (_, i) => `s${String(i).padStart(3, '0')}`);

describe('incidents: the group is what the pager holds', () => {
  it('a storm of 40 failing steps in one run is one incident, one page, and repeats once per group', async () => {
    const r = await rigWith({ group: { by: ['experiment'], wait: 0.5, interval: 1 }, repeat: { every: 20 } });
    const steps = stepsNamed(40);
    await r.emit(...steps.map((s) => stepEvent('steprun.failed', s, 'run1')), pipelineEvent('pipelinerun.failed', 'run1', steps));
    await r.settle(1500);
    let held = r.pagerHolds();
    expect(held.open.size).toBe(1);
    expect([...held.triggers.values()]).toEqual([1]);
    const page = held.bodies[0] as { payload: { summary: string; custom_details: { firingCount: number; firing: unknown[] } } };
    expect(page.payload.custom_details.firingCount).toBe(40);
    expect(page.payload.custom_details.firing).toHaveLength(10);
    expect(page.payload.summary).toMatch(/\(\+39 more failing\)$/);
    // Two repeat intervals later: one repeat for the group, titled by how long it has failed, never one per alert.
    r.clock.advance(21_000);
    await r.settle(1500);
    held = r.pagerHolds();
    expect([...held.triggers.values()]).toEqual([2]);
    expect((held.bodies.at(-1) as { payload: { summary: string } }).payload.summary).toMatch(/^Still failing since \d\d:\d\d UTC \(1 failure\)/);
    // routes test names the group, the key the pager holds and what the notification log says.
    const policy = alertPolicyOf(r.config);
    const again = stepEvent('steprun.failed', 's000', 'run9');
    const explained = await r.incidents.explain(
      explainRouting(policy, await readDecisionState({ policy, alerts: r.alerts, silences: r.silences }, [again], r.clock.now()), again),
    );
    expect(explained.deliveries[0]).toMatchObject({
      notifier: 'pd',
      outcome: 'suppressed',
      incident: { key: [...held.open.keys()][0], log: { action: 'trigger', firing: 40, notifications: 2 }, pending: false },
    });
    // Every step passes: one resolve, nothing left open.
    await r.emit(...steps.map((s) => stepEvent('steprun.finished', s, 'run2')), pipelineEvent('pipelinerun.finished', 'run2'));
    await r.settle(1500);
    held = r.pagerHolds();
    expect(held.open.size).toBe(0);
    expect(held.bodies.filter((b) => b.event_action === 'resolve')).toHaveLength(1);
  });

  it('a group that partly recovers stays open at the pager until its last alert resolves', async () => {
    const r = await rigWith({ group: { by: ['experiment'], wait: 0.3, interval: 0.5 } });
    await r.emit(stepEvent('steprun.failed', 'a', 'run1'), stepEvent('steprun.failed', 'b', 'run1'), pipelineEvent('pipelinerun.failed', 'run1', ['a', 'b']));
    await r.settle(1000);
    expect(r.pagerHolds().open.size).toBe(1);
    await r.emit(stepEvent('steprun.finished', 'a', 'run2'), stepEvent('steprun.failed', 'b', 'run2'), pipelineEvent('pipelinerun.failed', 'run2', ['b']));
    await r.settle(1000);
    let held = r.pagerHolds();
    expect(held.open.size).toBe(1);
    // The update says a resolved and b still fails.
    const update = held.bodies.at(-1) as { event_action: string; payload: { custom_details: { resolved: string[]; firingCount: number } } };
    expect(update.event_action).toBe('trigger');
    expect(update.payload.custom_details).toMatchObject({ resolved: ['local/E/step/a'], firingCount: 1 });
    await r.emit(stepEvent('steprun.finished', 'b', 'run3'), pipelineEvent('pipelinerun.finished', 'run3'));
    await r.settle(1000);
    held = r.pagerHolds();
    expect(held.open.size).toBe(0);
  });

  it('a lone step failure and its pipeline failure are one incident', async () => {
    const r = await rigWith({}); // the pager's default grouping (by pipeline run), its wait shortened below
    r.config.routes[0]!.group = { by: ['pipelineRunId'], wait: 300, interval: 500 };
    await r.restart();
    await r.emit(stepEvent('steprun.failed', 'train', 'run1'), pipelineEvent('pipelinerun.failed', 'run1', ['train']));
    await r.settle(1000);
    const held = r.pagerHolds();
    expect(held.open.size).toBe(1);
    expect([...held.triggers.values()]).toEqual([1]);
  });

  // Found by the model test: an inhibited pipeline failure's repeat paged under a key of its own; a failure of an open
  // alert in another run while a silence covered it moved the alert into a second group (two incidents for one alert).
  it('a step failure and its pipeline failure, repeated: one incident, no repeat of the pipeline alert of its own', async () => {
    const r = await rigWith({ group: { by: ['pipelineRunId'], wait: 0.3, interval: 0.5 }, repeat: { every: 15 } });
    await r.emit(stepEvent('steprun.failed', 'train', 'run1'), pipelineEvent('pipelinerun.failed', 'run1', ['train']));
    await r.settle(1000);
    r.clock.advance(16_000);
    await r.repeatTick();
    await r.settle(1000);
    const held = r.pagerHolds();
    expect(held.open.size).toBe(1);
    expect([...held.triggers.values()]).toEqual([2]); // the page and the group's one repeat
  });

  it('another failure of an open alert, in another run and silenced, joins no second group', async () => {
    const r = await rigWith({ group: { by: ['pipelineRunId'], wait: 0.3, interval: 0.5 } });
    const silence = await r.silences.add({ matchers: { experiment: 'E' }, durationMs: 60_000 }, r.clock.now());
    await r.emit(stepEvent('steprun.failed', 'train', 'run1'));
    await r.settle(1000);
    await r.emit(stepEvent('steprun.failed', 'train', 'run2'));
    await r.settle(1000);
    await r.silences.expire(silence.id, r.clock.now());
    r.clock.advance(61_000);
    await r.settle(1000);
    expect((await r.incidents.list()).map((g) => g.settings.values)).toEqual([['run1']]);
    expect(r.pagerHolds().open.size).toBe(1);
  });

  it('an acknowledgement from anywhere reaches the pager, and taking it back triggers again', async () => {
    const r = await rigWith({ group: { by: ['experiment'], wait: 0.3, interval: 0.5 } });
    await r.emit(stepEvent('steprun.failed', 'train', 'run1'));
    await r.settle(1000);
    const [key] = [...r.pagerHolds().open.keys()];
    const holds = async () => (await receiverHolds(await r.alerts.list(), r.deliveries, r.incidents)).values().next().value;
    expect(await holds()).toEqual({ pd: 'open' });
    await acknowledge(r.alerts, 'local/E/step/train', 'ana (CLI)', r.clock.now(), undefined, r.incidents);
    await waitFor(() => r.pagerHolds().open.get(key!) === 'acknowledged', { timeoutMs: 10_000 });
    await waitFor(async () => (await holds())?.pd === 'acknowledged', { timeoutMs: 10_000, what: '`alerts` saying the pager holds it acknowledged' });
    await unacknowledge(r.alerts, 'local/E/step/train', r.clock.now(), r.incidents);
    await waitFor(() => r.pagerHolds().open.get(key!) === 'triggered', { timeoutMs: 10_000 });
    await r.settle(1000);
    expect(r.pagerHolds().bodies.map((b) => b.event_action)).toEqual(['trigger', 'acknowledge', 'trigger']);
  });

  it('an acknowledgement lapses after the route’s ack.expires: the pager is triggered again', async () => {
    const r = await rigWith({ group: { by: ['experiment'], wait: 0.3, interval: 0.5 }, ack: { expires: 5 } });
    await r.emit(stepEvent('steprun.failed', 'train', 'run1'));
    await r.settle(1000);
    await acknowledge(r.alerts, 'local/E/step/train', 'ana', r.clock.now(), undefined, r.incidents);
    await r.settle(1000);
    expect(r.pagerHolds().bodies.map((b) => b.event_action)).toEqual(['trigger', 'acknowledge']);
    r.clock.advance(6000);
    await r.settle(1000);
    expect(r.pagerHolds().bodies.map((b) => b.event_action)).toEqual(['trigger', 'acknowledge', 'trigger']);
    expect([...r.pagerHolds().open.values()]).toEqual(['triggered']);
  });

  it('a silence that ends on a still-failing alert pages it, saying since when it fails', async () => {
    const r = await rigWith({ group: { by: ['experiment'], wait: 0.3, interval: 2 } });
    const silence = await r.silences.add({ matchers: { experiment: 'E' }, durationMs: 60_000 }, r.clock.now());
    await r.emit(stepEvent('steprun.failed', 'train', 'run1'));
    await r.settle(1000);
    expect(r.pagerHolds().bodies).toEqual([]);
    await r.silences.expire(silence.id, r.clock.now());
    r.clock.advance(61_000); // a group changed by no event is looked at again within a minute
    await r.settle(1000);
    const held = r.pagerHolds();
    expect(held.open.size).toBe(1);
    expect((held.bodies[0] as { payload: { summary: string } }).payload.summary).toMatch(/^Still failing since/);
  });

  // Found by the model test (seed 7): acknowledged while silenced, the incident was triggered when the silence ended
  // and acknowledged only at the repeat or the next look, so PagerDuty paged for an alert someone had acknowledged.
  it('an alert acknowledged while silenced is triggered and acknowledged at once when the silence ends', async () => {
    const r = await rigWith({ group: { by: ['experiment'], wait: 0.3, interval: 0.5 }, repeat: { every: 15 } });
    const silence = await r.silences.add({ matchers: { experiment: 'E' }, durationMs: 60_000 }, r.clock.now());
    await r.emit(stepEvent('steprun.failed', 'train', 'run1'));
    await r.settle(1000);
    await acknowledge(r.alerts, 'local/E/step/train', 'ana', r.clock.now(), undefined, r.incidents);
    await r.settle(1000);
    await r.silences.expire(silence.id, r.clock.now());
    r.clock.advance(61_000);
    await r.settle(1000);
    expect(r.pagerHolds().bodies.map((b) => b.event_action)).toEqual(['trigger', 'acknowledge']);
    expect([...r.pagerHolds().open.values()]).toEqual(['acknowledged']);
  });

  // The time-interval stage runs at every flush, not only as an alert joins: a repeat or a resolve that falls in the
  // route's mute interval waits for its end (Alertmanager's mute_time_intervals).
  it("a route's mute interval holds the group's repeat and resolve until it ends", async () => {
    const r = await rigWith(
      {
        group: { by: ['experiment'], wait: 0.3, interval: 0.5 },
        repeat: { every: 600 },
        mute: ['maintenance'],
      },
      { timeIntervals: { maintenance: [{ times: [{ start: '10:05', end: '10:30' }] }] } },
    );
    const today = new Date().toISOString().slice(0, 10);
    r.clock.offset = Date.parse(`${today}T10:00:00Z`) - Date.now();
    await r.emit(stepEvent('steprun.failed', 'train', 'run1'));
    await r.settle(1000);
    expect(r.pagerHolds().bodies.map((b) => b.event_action)).toEqual(['trigger']);
    r.clock.advance(11 * 60_000); // 10:11: the repeat is due, in the interval
    await r.settle(1000);
    await r.emit(stepEvent('steprun.finished', 'train', 'run2')); // recovers in the interval
    await r.settle(1000);
    expect(r.pagerHolds().bodies.map((b) => b.event_action)).toEqual(['trigger']);
    const [group] = await r.incidents.list();
    expect(await r.redis.zscore(r.keys.incidentsDue, group!.id)).toBe(String(Date.parse(`${today}T10:30:00Z`)));
    r.clock.advance(20 * 60_000); // 10:31: the interval is over
    await r.settle(1000);
    expect(r.pagerHolds().bodies.map((b) => b.event_action)).toEqual(['trigger', 'resolve']);
    expect(r.pagerHolds().open.size).toBe(0);
  });

  it('a flush scheduled for a group that is gone is dropped, not claimed again every lease', async () => {
    const r = await rigWith({ group: { by: ['experiment'], wait: 0.3, interval: 0.5 } });
    await r.redis.zadd(r.keys.incidentsDue, r.clock.now(), 'g0123456789abcdef0123');
    await waitFor(async () => (await r.redis.zscore(r.keys.incidentsDue, 'g0123456789abcdef0123')) === null, {
      timeoutMs: 10_000,
      what: 'the schedule dropped',
    });
  });

  it('a message noted but not answered (a killed flush) is sent again as it was, under the same id', async () => {
    const r = await rigWith({ group: { by: ['experiment'], wait: 0.3, interval: 0.5 } });
    r.pd.script.push({ status: 200, delayMs: 5000 }); // the first page hangs: the worker is killed meanwhile
    await r.emit(stepEvent('steprun.failed', 'train', 'run1'));
    await waitFor(async () => (await r.redis.hget(r.keys.incidentLog([...(await r.incidents.list())][0]?.id ?? 'x'), 'pending')) !== null, {
      timeoutMs: 10_000,
    });
    await r.killWorker();
    await new Promise((res) => setTimeout(res, 5500));
    await r.settle(1000, 90_000);
    const received = r.pd.received.filter((x) => x.status < 300);
    const ids = new Set(received.map((x) => String(x.headers['webhook-id'] ?? x.headers['idempotency-key'])));
    const bodies = new Set(received.map((x) => x.body));
    // Sent twice (the hung try, then again by the flush that took over), both times the same message under one id.
    expect(received.length).toBeGreaterThanOrEqual(2);
    expect(ids.size).toBe(1);
    expect(bodies.size).toBe(1);
    expect(r.pagerHolds().open.size).toBe(1);
  });
});
