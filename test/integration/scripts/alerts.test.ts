// The alerts' Lua commands (open, resolve, notes, acknowledgements, incident groups), each run directly against the real Redis through its typed method.
import { T, scriptRig } from '../../support/script-rig';

const { redis, keys, scripts, outbox } = scriptRig('scripts-alerts');

describe('openAlert', () => {
  const open = (eventId: string, notifiers: string[]) => ({
    alertId: 'a1',
    now: T,
    event: {
      id: eventId,
      opening: { key: 'local/churn/step/train', event: `{"id":"${eventId}"}` },
    },
    maxAlerts: 2,
    fields: notifiers.flatMap((n) => [`n:${n}`, `${eventId}-${n}`]),
  });

  it('opens once (keeping the opening event), counts later failures once each (a replay counts nothing), and notes the notifiers', async () => {
    expect(await scripts.openAlert(open('e1', ['hook']))).toBe(true);
    expect(await scripts.openAlert(open('e1', ['hook']))).toBe(false);
    expect(await scripts.openAlert(open('e2', ['mail']))).toBe(false);
    expect(await scripts.openAlert(open('e2', ['mail']))).toBe(false);
    expect(await redis.hmget(keys.alert('a1'), 'failures', 'openedBy', 'lastBy', 'n:hook', 'n:mail')).toEqual(['2', 'e1', 'e2', 'e1-hook', 'e2-mail']);
    expect(await redis.hmget(keys.alert('a1'), 'key', 'event')).toEqual(['local/churn/step/train', '{"id":"e1"}']);
  });

  it('keeps at most maxAlerts open: the oldest are dropped', async () => {
    for (const [i, id] of ['a1', 'a2', 'a3'].entries()) await scripts.openAlert({ ...open(`e${i}`, []), alertId: id, now: T + i });
    expect(await redis.zrange(keys.alerts, 0, -1)).toEqual(['a2', 'a3']);
    expect(await redis.exists(keys.alert('a1'))).toBe(0);
  });
});

describe('resolveAlert', () => {
  it('resolves only the alert opened by the expected event, once, with its event and its repeats', async () => {
    await redis.hset(keys.alert('a1'), 'openedBy', 'e1', 'n:hook', 'e1-hook', 'r:hook', 60000);
    await redis.zadd(keys.alerts, T, 'a1');
    await redis.zadd(keys.alertRepeats, T, 'a1|hook', T, 'a2|hook');
    const resolve = { alertId: 'a1', openedBy: 'e1', eventJson: '{"id":"resolved-e1"}', told: { hook: 'e1-hook' } };
    expect(await scripts.resolveAlert({ ...resolve, openedBy: 'e0' })).toBe('gone');
    expect(await scripts.resolveAlert(resolve)).toBe('resolved');
    expect(await scripts.resolveAlert(resolve)).toBe('gone');
    expect((await outbox()).map((e) => e.id)).toEqual(['resolved-e1']);
    expect(await redis.zcard(keys.alerts)).toBe(0);
    expect(await redis.zrange(keys.alertRepeats, 0, -1)).toEqual(['a2|hook']);
  });

  it('refuses an event built from older messages than the alert holds: one noted since, one changed, one the event names that is not there', async () => {
    await redis.hset(keys.alert('a1'), 'openedBy', 'e1', 'n:hook', 'e1-hook', 'n:pd', 'g1-1-pd');
    const resolve = { alertId: 'a1', openedBy: 'e1', eventJson: '{"id":"resolved-e1"}' };
    expect(await scripts.resolveAlert({ ...resolve, told: { hook: 'e1-hook' } })).toBe('changed');
    expect(await scripts.resolveAlert({ ...resolve, told: { hook: 'e1-hook', pd: 'g0-1-pd' } })).toBe('changed');
    expect(await scripts.resolveAlert({ ...resolve, told: { hook: 'e1-hook', pd: 'g1-1-pd', mail: 'e1-mail' } })).toBe('changed');
    expect(await redis.exists(keys.alert('a1'))).toBe(1);
    expect(await outbox()).toEqual([]);
    expect(await scripts.resolveAlert({ ...resolve, told: { pd: 'g1-1-pd', hook: 'e1-hook' } })).toBe('resolved');
  });
});

describe('notifyAlerts', () => {
  it('notes the message a notifier is sent of each open alert (its pending group note goes), nothing for one that is not open', async () => {
    const note = (alertId: string, deliveryId: string) => ({ alertId, deliveryId });
    expect(await scripts.notifyAlerts({ notifier: 'hook', notes: [note('a1', 'g1-1-hook')] })).toEqual([false]);
    expect(await redis.exists(keys.alert('a1'))).toBe(0);
    await redis.hset(keys.alert('a1'), 'openedBy', 'e1', 'g:hook', 'g1-1-hook', 'g:mail', 'g2-1-mail');
    await redis.hset(keys.alert('a3'), 'openedBy', 'e3', 'g:hook', 'g1-1-hook');
    // A group's alerts in one call, in order: a1 and a3 open, a2 not (and not created).
    expect(await scripts.notifyAlerts({ notifier: 'hook', notes: [note('a1', 'g1-1-hook'), note('a2', 'g1-1-hook'), note('a3', 'g1-1-hook')] })).toEqual([
      true,
      false,
      true,
    ]);
    expect(await redis.hmget(keys.alert('a1'), 'n:hook', 'g:hook')).toEqual(['g1-1-hook', null]);
    expect(await redis.hmget(keys.alert('a3'), 'n:hook', 'g:hook')).toEqual(['g1-1-hook', null]);
    expect(await redis.exists(keys.alert('a2'))).toBe(0);
    // '' drops the pending note only (a group that no longer carries it).
    expect(await scripts.notifyAlerts({ notifier: 'mail', notes: [note('a1', '')] })).toEqual([true]);
    expect(await redis.hmget(keys.alert('a1'), 'n:mail', 'g:mail')).toEqual([null, null]);
  });
});

describe('ackAlert', () => {
  it('acknowledges an open alert once (the first one stands), and never creates a hash for an alert that is not open', async () => {
    expect(await scripts.ackAlert({ alertId: 'a1', by: 'alice', at: T })).toBe('not-open');
    expect(await redis.exists(keys.alert('a1'))).toBe(0);
    await redis.hset(keys.alert('a1'), 'key', 'local/E/step/train', 'openedBy', 'e1');
    expect(await scripts.ackAlert({ alertId: 'a1', by: 'alice', at: T, comment: 'looking' })).toBe('acked');
    expect(await scripts.ackAlert({ alertId: 'a1', by: 'bob', at: T + 1 })).toBe('already');
    expect(await redis.hmget(keys.alert('a1'), 'ackedBy', 'ackedAt', 'ackComment')).toEqual(['alice', String(T), 'looking']);
  });
});

describe('joinIncident', () => {
  const settings = { notifier: 'pd', route: 0, values: '["run1"]', waitMs: 30_000, intervalMs: 300_000, repeatMs: 0 };
  it('makes the group, notes the member, flushes `wait` after the first alert and never later; a touch of a gone group does nothing', async () => {
    expect(await scripts.joinIncident({ groupId: 'g1', now: T, member: { key: 'a', openedBy: 'e1' }, settings })).toBe(T + 30_000);
    expect(await scripts.joinIncident({ groupId: 'g1', now: T + 5000, member: { key: 'b', openedBy: 'e2' }, settings })).toBe(T + 30_000);
    expect(await redis.hgetall(keys.incidentMembers('g1'))).toEqual({ a: 'e1', b: 'e2' });
    expect(await redis.hget(keys.incident('g1'), 'firstAt')).toBe(String(T));
    expect(await redis.zscore(keys.incidentsDue, 'g1')).toBe(String(T + 30_000));
    // Flushed: a change waits for the interval after the last flush; a due time already sooner stays (ZADD LT).
    await redis.hset(keys.incident('g1'), 'flushedAt', T + 30_000);
    await redis.zadd(keys.incidentsDue, T + 90_000, 'g1');
    expect(await scripts.joinIncident({ groupId: 'g1', now: T + 40_000 })).toBe(T + 330_000);
    expect(await redis.zscore(keys.incidentsDue, 'g1')).toBe(String(T + 90_000));
    // A held route: not before the hold's end.
    expect(await scripts.joinIncident({ groupId: 'g2', now: T, member: { key: 'a', openedBy: 'e1' }, settings, notBefore: T + 60_000 })).toBe(T + 60_000);
    expect(await scripts.joinIncident({ groupId: 'gone', now: T })).toBeUndefined();
    expect(await redis.exists(keys.incident('gone'))).toBe(0);
  });
});

describe('settleIncident', () => {
  const settings = { notifier: 'pd', route: 0, values: '["run1"]', waitMs: 0, intervalMs: 1000, repeatMs: 0 };
  it('removes the members seen resolved unless they joined again since, sets the next flush, and removes a closed empty group', async () => {
    for (const [key, by] of [
      ['a', 'e1'],
      ['b', 'e2'],
    ])
      await scripts.joinIncident({ groupId: 'g1', now: T, member: { key: key!, openedBy: by! }, settings });
    await redis.hset(keys.incidentLog('g1'), 'action', 'trigger');
    await redis.hset(keys.incidentMembers('g1'), 'b', 'e3'); // b opened again after the flush read it
    expect(
      await scripts.settleIncident({
        groupId: 'g1',
        now: T + 10,
        nextAt: T + 5000,
        logTtlSeconds: 60,
        gone: [
          ['a', 'e1'],
          ['b', 'e2'],
        ],
      }),
    ).toBe(1);
    expect(await redis.hgetall(keys.incidentMembers('g1'))).toEqual({ b: 'e3' });
    expect(await redis.zscore(keys.incidentsDue, 'g1')).toBe(String(T + 5000));
    expect(await redis.hget(keys.incident('g1'), 'flushedAt')).toBe(String(T + 10));
    // Empty, but the pager still holds it open (the log's last word a trigger): the group stays for its resolve.
    expect(await scripts.settleIncident({ groupId: 'g1', now: T + 20, nextAt: T + 6000, logTtlSeconds: 60, gone: [['b', 'e3']] })).toBe(0);
    expect(await redis.exists(keys.incident('g1'))).toBe(1);
    // Told resolved: the group goes, its log is kept a while.
    await redis.hset(keys.incidentLog('g1'), 'action', 'resolve');
    expect(await scripts.settleIncident({ groupId: 'g1', now: T + 30, nextAt: T + 7000, logTtlSeconds: 60, gone: [] })).toBe(0);
    expect([await redis.exists(keys.incident('g1'), keys.incidentMembers('g1')), await redis.zscore(keys.incidentsDue, 'g1')]).toEqual([0, null]);
    expect(await redis.ttl(keys.incidentLog('g1'))).toBeGreaterThan(50);
  });
});
