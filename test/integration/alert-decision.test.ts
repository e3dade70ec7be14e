// The alert features composing as one decision. One test per defect found on the landed code, each named
// after it; every one failed before the decision was made one (decide.ts), through the real dispatcher, delivery
// worker, Redis and HTTP receivers (AlertRig).
import { readDecisionState } from '../../src/alerts/decision-state';
import { explainRouting } from '../../src/alerts/explain';
import { deliveryHistory } from '../../src/alerts/history';
import { alertPolicyOf } from '../../src/alerts/policy';
import { AlertRig, pipelineEvent, stepEvent, type Message } from '../support/alert-rig';
import { waitFor } from '../support/wait-for';

jest.setTimeout(60_000);

let rig: AlertRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

async function rigWith(config: Record<string, unknown>): Promise<AlertRig> {
  rig = await new AlertRig({ config }).start();
  return rig;
}

const lastWordOf = (messages: Message[], notifier: string, key: string) => messages.filter((m) => m.notifier === notifier && m.key === key).at(-1)?.kind;

describe('issue 21 defects', () => {
  it('1. a late grouped trigger leaves a PagerDuty incident open for good', async () => {
    const r = await rigWith({ routes: [{ match: { type: ['steprun.failed', 'pipelinerun.failed'] }, notify: ['pd'], group: { wait: 1.5 } }] });
    await r.emit(stepEvent('steprun.failed', 'train', 'run1'), pipelineEvent('pipelinerun.failed', 'run1', ['train']));
    await r.settle(); // dispatched; the page waits in its group
    await r.emit(stepEvent('steprun.finished', 'train', 'run2'), pipelineEvent('pipelinerun.finished', 'run2'));
    await r.settle(3000);
    expect(await r.alerts.list()).toEqual([]);
    // The group's flush found nothing firing and nothing told: PagerDuty was sent nothing, and holds nothing.
    expect(r.pagerHolds().open.size).toBe(0);
    expect(r.pd.received).toEqual([]);
  });

  it('2. repeats ignore silences', async () => {
    const r = await rigWith({ routes: [{ match: { type: 'steprun.failed' }, notify: ['ce'], repeat: { every: 15 } }] });
    await r.emit(stepEvent('steprun.failed', 'train', 'run1'));
    await r.settle();
    expect(r.messages().map((m) => m.kind)).toEqual(['page']);
    const silence = await r.silences.add({ matchers: { experiment: 'E' }, durationMs: 600_000 }, r.clock.now());
    r.clock.advance(16_000);
    expect(await r.repeatTick()).toBe(0);
    r.clock.advance(15_000);
    expect(await r.repeatTick()).toBe(0);
    await r.settle();
    expect(r.messages().map((m) => m.kind)).toEqual(['page']);
    const silenced = (await r.deliveries.list({ limit: 50 })).filter((d) => d.id.includes('-repeat'));
    expect(silenced.map((d) => [d.status, d.silencedBy])).toEqual([
      ['silenced', silence.id],
      ['silenced', silence.id],
    ]);
    // The silence ends while the alert is still open: the next repeat goes.
    await r.silences.expire(silence.id, r.clock.now());
    r.clock.advance(15_000);
    expect(await r.repeatTick()).toBe(1);
    await r.settle();
    expect(r.messages().map((m) => [m.kind, m.repeat])).toEqual([
      ['page', undefined],
      ['page', 3],
    ]);
  });

  it('3. repeat does nothing on a grouped route', async () => {
    const r = await rigWith({ routes: [{ match: { type: 'steprun.failed' }, notify: ['pd'], group: { wait: 0.5 }, repeat: { every: 15 } }] });
    await r.emit(stepEvent('steprun.failed', 'train', 'run1'));
    await r.settle(1000);
    expect(r.messages().map((m) => m.kind)).toEqual(['trigger']);
    // A pager's repeat is its incident group's (issue 36): due at the group's flush, not on the per-alert tick.
    r.clock.advance(16_000);
    await r.settle(1000);
    const [page, repeat] = r.messages();
    expect([page?.kind, repeat?.kind, repeat?.key]).toEqual(['trigger', 'trigger', page?.key]);
    expect(r.messages()).toHaveLength(2);
    const explained = explainRouting(
      alertPolicyOf(r.config),
      await readDecisionState({ policy: alertPolicyOf(r.config) }, [], r.clock.now()),
      stepEvent('steprun.failed', 'train', 'x'),
    );
    expect(explained.routes[0]).toMatchObject({ repeatEveryMs: 15_000 });
  });

  it('4. a step silence still pages through its pipeline', async () => {
    const r = await rigWith({ routes: [{ match: { type: ['steprun.failed', 'pipelinerun.failed'] }, notify: ['pd', 'ce'] }] });
    await r.silences.add({ matchers: { experiment: 'E', step: 'train' }, durationMs: 600_000 }, r.clock.now());
    const pipeline = pipelineEvent('pipelinerun.failed', 'run1', ['train']);
    await r.emit(stepEvent('steprun.failed', 'train', 'run1'), pipeline);
    await r.settle(1000);
    expect(r.messages()).toEqual([]);
    const records = (await r.deliveries.list({ limit: 50 })).filter((d) => d.eventId === pipeline.id);
    expect(records.map((d) => [d.notifier, d.status, d.reason]).sort()).toEqual([
      ['ce', 'inhibited', 'inhibited by local/E/step/train (silenced)'],
      ['pd', 'inhibited', 'inhibited by local/E/step/train (silenced)'],
    ]);
  });

  it('5. "page once" holds only for PagerDuty', async () => {
    const r = await rigWith({
      routes: [
        { match: { type: 'steprun.failed' }, notify: ['pd'], group: { wait: 0.3 } },
        { match: { type: 'steprun.failed' }, notify: ['ce'] },
      ],
    });
    await r.emit(stepEvent('steprun.failed', 'train', 'run1'));
    await r.settle(1000);
    await r.emit(stepEvent('steprun.failed', 'train', 'run2'));
    await r.settle(1000);
    const messages = r.messages();
    // One page each; the chat notifier is told shortly that it is still failing (renotify: update, the default).
    expect(messages.map((m) => [m.notifier, m.kind]).sort()).toEqual([
      ['ce', 'page'],
      ['ce', 'update'],
      ['pd', 'trigger'],
    ]);
    const update = r.ce.received.at(-1)!.json as { data: { stillFailing: { failures: number } } };
    expect(update.data.stillFailing.failures).toBe(2);
  });

  it('6. routes test disagrees with the dispatcher, and judges a past event against today’s silences', async () => {
    const r = await rigWith({
      routes: [
        { match: { type: 'steprun.failed' }, notify: ['ce'], group: { wait: 0.5 } },
        { match: {}, notify: ['ce'] },
      ],
    });
    const failed = stepEvent('steprun.failed', 'train', 'run1');
    await r.emit(failed);
    await r.settle(1000);
    const policy = alertPolicyOf(r.config);
    const history = await deliveryHistory(r.redis, r.keys, r.deliveries, policy, failed);
    // What happened: the dispatcher grouped it, and the group was sent.
    expect(history.map((d) => [d.eventType, d.status])).toEqual([['group', 'delivered']]);
    // Now a silence covers it: "now" says silenced, the history still says what happened.
    await r.silences.add({ matchers: { step: 'train' }, durationMs: 600_000 }, r.clock.now());
    const state = await readDecisionState({ policy, alerts: r.alerts, silences: r.silences }, [failed], r.clock.now());
    const explained = explainRouting(policy, state, failed, history);
    expect(explained.deliveries.map((d) => [d.notifier, d.outcome])).toEqual([['ce', 'silenced']]);
    expect(explained.history!.map((d) => d.status)).toEqual(['delivered']);
    // Without the silence, routes test says what the dispatcher did: group (route 0 decides for ce).
    const other = stepEvent('steprun.failed', 'eval', 'run1');
    const unsilenced = explainRouting(policy, { now: state.now, silences: [], alert: () => undefined, openAlerts: () => [] }, other);
    expect(unsilenced.deliveries.map((d) => [d.notifier, d.route, d.outcome])).toEqual([['ce', 0, 'group']]);
  });
});

describe('a resolve never overtakes the message it resolves', () => {
  it('a resolve decided while the page is on its way goes after it', async () => {
    const r = await rigWith({ routes: [{ match: { type: 'steprun.failed' }, notify: ['ce'] }] });
    // The receiver takes 1.5 s to accept the page: the step recovers meanwhile.
    r.ce.script.push({ status: 200, delayMs: 1500 });
    await r.emit(stepEvent('steprun.failed', 'train', 'run1'));
    await waitFor(async () => (await r.deliveries.list({ limit: 5 })).some((d) => d.status === 'pending' && d.eventType === 'steprun.failed'), {
      what: 'the page',
    });
    await new Promise((res) => setTimeout(res, 200));
    await r.emit(stepEvent('steprun.finished', 'train', 'run2'));
    await waitFor(async () => r.messages().filter((m) => m.key === 'local/E/step/train').length === 2, { what: 'page and resolve', timeoutMs: 20_000 });
    expect(r.messages().map((m) => m.kind)).toEqual(['page', 'resolve']);
  });
});

describe('a group notification retried after its worker died', () => {
  it('does not page an alert that resolved meanwhile when the dead try had not yet noted it (nothing went, nothing resolves it)', async () => {
    // A grouped chat/CloudEvents route (a pager's alerts go to incident groups: incidents.test.ts covers their crashes).
    const r = await rigWith({ routes: [{ match: { type: 'steprun.failed' }, notify: ['ce'], group: { wait: 0.3 } }] });
    // The worker dies inside the group's flush: the generation closed, the alert not yet noted as carried by it.
    let reachedNote!: () => void;
    const atNote = new Promise<void>((res) => (reachedNote = res));
    const noteMessages = r.alerts.noteMessages.bind(r.alerts);
    let dead = true;
    r.alerts.noteMessages = async (...args) => {
      if (!dead) return noteMessages(...args);
      reachedNote();
      return new Promise<boolean[]>(() => undefined); // the killed process never gets further
    };
    await r.emit(stepEvent('steprun.failed', 'train', 'run1'));
    await atNote;
    await r.killWorker();
    dead = false;
    // The step recovers before the job is taken again: the resolve finds no message to pd to follow.
    await r.emit(stepEvent('steprun.finished', 'train', 'run2'));
    await r.settle(3000, 30_000);
    expect(await r.alerts.list()).toEqual([]);
    expect(lastWordOf(r.messages(), 'ce', 'local/E/step/train')).not.toBe('page');
    const group = (await r.deliveries.list({ limit: 50 })).find((d) => d.eventType === 'group');
    expect(group).toMatchObject({ status: 'suppressed', reason: expect.stringContaining('resolved before the group was sent') });
  });
});
