// The incident decision, one case per stage outcome (alerts/incident.ts): each stage of the flush, then the dedup
// against the notification log (Alertmanager's needsUpdate, with acknowledgement as the incident's state). (Issue 36.)
import {
  decideFlush,
  groupIdOfIncidentKey,
  groupStateOf,
  incidentKeyOf,
  nextFlushAt,
  LOOK_AGAIN_MS,
  type IncidentTiming,
  type NotificationLog,
} from '../../src/alerts/incident';
import { incidentMessage } from '../../src/alerts/incident-message';
import type { AlertView } from '../../src/alerts/decision-types';
import { matchersOf, type Silence } from '../../src/alerts/silences';
import type { WatchEvent } from '../../src/store/events';

const NOW = Date.parse('2026-12-07T02:14:00Z');
const timing: IncidentTiming = { waitMs: 30_000, intervalMs: 300_000 };

function alert(step: string, o: Partial<AlertView> = {}): AlertView {
  const event = { id: `e-${step}`, type: 'steprun.failed', experiment: 'E', provider: 'local', labels: {}, stepRun: { name: step } } as unknown as WatchEvent;
  return { key: `local/E/step/${step}`, openedBy: event.id, openedAt: NOW - 60_000, failures: 1, told: {}, pending: {}, repeats: {}, event, ...o };
}
const member = (step: string, o?: Partial<AlertView>) => ({ key: `local/E/step/${step}`, alert: alert(step, o) });
const resolved = (step: string) => ({ key: `local/E/step/${step}` });
const log = (o: Partial<NotificationLog>): NotificationLog => ({ firing: [], resolved: [], action: 'trigger', at: NOW - 1000, seq: 1, ...o });
const silence = (step: string): Silence => ({
  id: 's1',
  matchers: matchersOf({ step }),
  startsAt: NOW - 1,
  createdAt: NOW - 1,
  endsAt: NOW + 3_600_000,
  comment: '',
});

describe('the flush stages', () => {
  it('resolved: an alert gone from the open alerts does not fire', () => {
    const s = groupStateOf([member('a'), resolved('b')], NOW, { silences: [] });
    expect(s.members.map((m) => m.firing)).toEqual([true, false]);
    expect(s.trace).toEqual(['resolved: local/E/step/b']);
  });
  it('silence: a silenced alert does not fire, and says by which silence', () => {
    const s = groupStateOf([member('a'), member('b')], NOW, { silences: [silence('b')] });
    expect(s.members.map((m) => [m.firing, m.silencedBy])).toEqual([
      [true, undefined],
      [false, ['s1']],
    ]);
  });
  it("time interval: while the route's time intervals mute it, the group sends nothing, not even a resolve, and looks again at the end", () => {
    const until = NOW + 600_000;
    const s = groupStateOf([resolved('a')], NOW, { silences: [], mutedUntil: until });
    expect(s.heldUntil).toBe(until);
    expect(decideFlush(s, log({ firing: ['local/E/step/a'] }), timing).send).toBeUndefined();
    expect(decideFlush(s, log({ firing: ['local/E/step/a'] }), timing).reason).toMatch(/^held by the route's time intervals/);
    expect(nextFlushAt(log({ firing: ['local/E/step/a'] }), timing, NOW, 1, undefined, until)).toBe(until);
    expect(groupStateOf([member('a')], NOW, { silences: [], mutedUntil: NOW }).heldUntil).toBeUndefined(); // it ended
  });
  it('acknowledge: an acknowledged alert still fires, marked acknowledged', () => {
    const s = groupStateOf([member('a', { acked: { by: 'ana', at: NOW } })], NOW, { silences: [] });
    expect(s.members[0]).toMatchObject({ firing: true, acked: { by: 'ana' } });
  });
});

describe('the dedup against the notification log', () => {
  const decide = (members: ReturnType<typeof member | typeof resolved>[], l?: NotificationLog, t = timing, silences: Silence[] = []) =>
    decideFlush(groupStateOf(members, NOW, { silences }), l, t);

  it('nothing logged and something fires: the first trigger', () => expect(decide([member('a')]).send).toBe('trigger'));
  it('nothing logged and nothing fires: nothing', () => expect(decide([resolved('a')]).send).toBeUndefined());
  it('a firing alert the log lacks: a trigger (update)', () =>
    expect(decide([member('a'), member('b')], log({ firing: ['local/E/step/a'] })).send).toBe('trigger'));
  it('nothing fires any more after a trigger: one resolve', () => expect(decide([resolved('a')], log({ firing: ['local/E/step/a'] })).send).toBe('resolve'));
  it('nothing fires after a resolve: nothing more', () => expect(decide([resolved('a')], log({ action: 'resolve' })).send).toBeUndefined());
  it('every firing alert silenced: the incident resolves', () =>
    expect(decide([member('a')], log({ firing: ['local/E/step/a'] }), timing, [silence('a')]).send).toBe('resolve'));
  it('part of the group resolved, the rest still firing: an update', () =>
    expect(decide([member('a'), resolved('b')], log({ firing: ['local/E/step/a', 'local/E/step/b'] })).send).toBe('trigger'));
  it('the same resolved set again: nothing', () =>
    expect(decide([member('a'), resolved('b')], log({ firing: ['local/E/step/a'], resolved: ['local/E/step/b'] })).send).toBeUndefined());
  it('every firing alert acknowledged: acknowledge', () =>
    expect(decide([member('a', { acked: { by: 'ana', at: NOW } })], log({ firing: ['local/E/step/a'] })).send).toBe('acknowledge'));
  it('an acknowledgement taken back: trigger again', () =>
    expect(decide([member('a')], log({ firing: ['local/E/step/a'], action: 'acknowledge' })).send).toBe('trigger'));
  it('unchanged before the repeat is due: nothing', () =>
    expect(decide([member('a')], log({ firing: ['local/E/step/a'] }), { ...timing, repeatMs: 3_600_000 }).send).toBeUndefined());
  it('unchanged when the repeat is due: one repeat', () =>
    expect(decide([member('a')], log({ firing: ['local/E/step/a'], at: NOW - 3_600_000 }), { ...timing, repeatMs: 3_600_000 }).send).toBe('trigger'));
  it('an acknowledgement older than ack.expires has lapsed: trigger again', () => {
    const acked = member('a', { acked: { by: 'ana', at: NOW - 5 * 3_600_000 } });
    const l = log({ firing: ['local/E/step/a'], action: 'acknowledge' });
    expect(decideFlush(groupStateOf([acked], NOW, { silences: [], ackExpiresMs: 4 * 3_600_000 }), l, timing).send).toBe('trigger');
    expect(decideFlush(groupStateOf([acked], NOW, { silences: [], ackExpiresMs: 6 * 3_600_000 }), l, timing).send).toBeUndefined();
  });
  it('acknowledged when the repeat is due: no repeat', () =>
    expect(
      decide([member('a', { acked: { by: 'ana', at: NOW } })], log({ firing: ['local/E/step/a'], action: 'acknowledge', at: NOW - 3_600_000 }), {
        ...timing,
        repeatMs: 3_600_000,
      }).send,
    ).toBeUndefined());
});

describe('the message and the schedule', () => {
  it('a repeat says since when it fails and how often, never "Repeat n"', () => {
    const state = groupStateOf([member('a', { failures: 7, openedAt: Date.parse('2026-12-07T01:02:00Z') }), member('b')], NOW, { silences: [] });
    const l = log({ firing: ['local/E/step/a', 'local/E/step/b'], at: NOW - 3_600_000 });
    const decision = decideFlush(state, l, { ...timing, repeatMs: 3_600_000 });
    const { message } = incidentMessage({
      groupId: 'g0123456789abcdef0123',
      decision: decision as typeof decision & { send: 'trigger' },
      state,
      log: l,
      summaryOf: (e) => `${e.stepRun!.name} failed`,
    });
    expect(message.title).toBe('Still failing since 01:02 UTC (7 failures): a failed (+1 more failing)');
    expect(message).toMatchObject({ key: 'steprun-watch/g0123456789abcdef0123', action: 'trigger', firingCount: 2, failures: 7 });
  });
  it('the incident key is stable for the group and names it back', () => {
    expect(incidentKeyOf('g0123456789abcdef0123')).toBe(incidentKeyOf('g0123456789abcdef0123'));
    expect(groupIdOfIncidentKey(incidentKeyOf('g0123456789abcdef0123'))).toBe('g0123456789abcdef0123');
    expect(groupIdOfIncidentKey('steprun-watch/local/E/step/a')).toBeUndefined();
  });
  it('the next flush: the repeat when sooner, else a look again; none when the group is over', () => {
    expect(nextFlushAt(log({ at: NOW }), { ...timing, repeatMs: 10_000 }, NOW, 1)).toBe(NOW + 10_000);
    expect(nextFlushAt(log({ at: NOW }), timing, NOW, 1)).toBe(NOW + Math.max(timing.intervalMs, LOOK_AGAIN_MS));
    expect(nextFlushAt(log({ action: 'resolve' }), timing, NOW, 0)).toBeUndefined();
    expect(nextFlushAt(log({ action: 'acknowledge' }), { ...timing, ackExpiresMs: 5000 }, NOW, 1, NOW - 1000)).toBe(NOW + 4000);
  });
});
