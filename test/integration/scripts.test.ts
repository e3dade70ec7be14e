// Each Lua command of src/store/commands, run directly against the real Redis through its typed method.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { TrackNotFoundError } from '../../src/model/errors';
import { Keys } from '../../src/store/keys';
import { ScriptErrorCode, Scripts } from '../../src/store/scripts';
import { TrackStore, trackFromRequest } from '../../src/store/tracks';
import { systemClock } from '../../src/util/clock';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis';

const redis = testRedis();
const prefix = uniquePrefix('scripts');
const keys = new Keys(prefix);
const scripts = new Scripts(redis, keys);
const T = 1_000_000;

beforeEach(async () => dropPrefix(redis, prefix));
afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

/** The events appended to the outbox, as parsed json. */
async function outbox(): Promise<{ id: string }[]> {
  return (await redis.xrange(keys.events, '-', '+')).map(([, fields]) => JSON.parse(fields[1]!) as { id: string });
}

async function addTrack(trackId = 't1'): Promise<void> {
  expect(await scripts.addTrack({ trackId, provider: 'local', json: `{"id":"${trackId}"}`, now: T })).toBe(true);
}

it('every Lua command has a test here', () => {
  const names = readdirSync(path.join(__dirname, '../../src/store/commands')).map((f) => f.replace(/-\d+\.lua$/, ''));
  const thisFile = readFileSync(__filename, 'utf8');
  expect(names.length).toBeGreaterThan(10);
  for (const name of names) expect(thisFile).toContain(`describe('${name}'`);
});

it('the stores use the Scripts they are handed: the composition root’s one', async () => {
  // A Scripts that counts what it is asked: the store's writes go through it, not one of its own.
  const asked: string[] = [];
  const counting = new Proxy(new Scripts(redis, keys), {
    get: (target, name, receiver) => {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => (asked.push(String(name)), (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
  const tracks = new TrackStore(redis, keys, systemClock, counting);
  await tracks.add(trackFromRequest({ provider: 'local', pipelineRun: 'handed-in' }, 'cli', Date.now()));
  expect(asked).toEqual(['addTrack']);
});

it('every script that can refuse answers one shape: an array whose first element is a ScriptErrorCode', async () => {
  const refusing = readdirSync(path.join(__dirname, '../../src/store/commands'))
    .map((f) => readFileSync(path.join(__dirname, '../../src/store/commands', f), 'utf8'))
    .flatMap((lua) => [...lua.matchAll(/^\s*return ([{]?\s*-\d.*)$/gm)].map((m) => m[1]!.trim()));
  expect(refusing.length).toBeGreaterThan(2);
  for (const ret of refusing) expect(ret).toMatch(new RegExp(`^\\{${ScriptErrorCode.TrackGone}\\b`));
  // The raw reply of a refusal, as Redis sends it.
  const raw = await redis.eval(
    readFileSync(path.join(__dirname, '../../src/store/commands/addPipelineTracks-5.lua'), 'utf8'),
    5,
    keys.seen('gone'),
    keys.tracks,
    keys.due('local'),
    keys.track('gone'),
    keys.failing,
    T,
    0,
    T,
    T,
    keys.track(''),
    'gone',
    0,
  );
  expect(raw).toEqual([ScriptErrorCode.TrackGone]);
});

describe('addTrack', () => {
  it('stores the track, indexes it and makes it due now; a second add leaves it as it was', async () => {
    await addTrack();
    expect(await redis.hget(keys.track('t1'), 'json')).toBe('{"id":"t1"}');
    expect(await redis.sismember(keys.tracks, 't1')).toBe(1);
    expect(await redis.zscore(keys.due('local'), 't1')).toBe(String(T));
    expect(await scripts.addTrack({ trackId: 't1', provider: 'local', json: '{"other":1}', now: T + 5 })).toBe(false);
    expect(await redis.hget(keys.track('t1'), 'json')).toBe('{"id":"t1"}');
  });
});

describe('removeTrack', () => {
  it('removes the track, its schedule, state and failing mark; false for an unknown track', async () => {
    await addTrack();
    await redis.hset(keys.state('t1'), 's1', '1|Running');
    await redis.sadd(keys.failing, 't1');
    expect(await scripts.removeTrack({ trackId: 't1', provider: 'local' })).toBe(true);
    expect(await redis.exists(keys.track('t1'), keys.state('t1'))).toBe(0);
    expect(await redis.zscore(keys.due('local'), 't1')).toBeNull();
    expect(await redis.sismember(keys.failing, 't1')).toBe(0);
    expect(await scripts.removeTrack({ trackId: 't1', provider: 'local' })).toBe(false);
  });
});

describe('claimDue', () => {
  it('claims only what is due by the horizon, at most the limit, earliest first, and leases it from its due time', async () => {
    await redis.zadd(keys.stuck, T - 2, 'a', T - 1, 'b', T, 'c', T + 3000, 'soon', T + 9000, 'later');
    const claim = (horizon: number, limit = 10) => scripts.claimDue({ schedule: keys.stuck, now: T, horizon, limit, leaseMs: 60_000 });
    expect(await claim(T, 2)).toEqual([
      { member: 'a', dueAt: T - 2 },
      { member: 'b', dueAt: T - 1 },
    ]);
    expect(await claim(T + 5000)).toEqual([
      { member: 'c', dueAt: T },
      { member: 'soon', dueAt: T + 3000 },
    ]);
    expect(await claim(T + 5000)).toEqual([]);
    // Overdue: leased from now; due later: leased from its due time.
    expect(await redis.zscore(keys.stuck, 'a')).toBe(String(T + 60_000));
    expect(await redis.zscore(keys.stuck, 'soon')).toBe(String(T + 63_000));
  });
});

describe('commitPoll', () => {
  const transition = (field: string, expected: string, next: string) => ({ field, expected, next, eventJson: `{"id":"${field}:${next}"}` });

  it('compare-and-sets each transition with its event, reschedules, and appends nothing on replay', async () => {
    await addTrack();
    const commit = { trackId: 't1', provider: 'local', now: T, nextPollAt: T + 5000, transitions: [transition('s1', '', '1|Running')] };
    expect(await scripts.commitPoll(commit)).toEqual({ appended: 1, conflicts: 0, won: [true] });
    expect(await scripts.commitPoll(commit)).toEqual({ appended: 0, conflicts: 1, won: [false] });
    expect((await outbox()).map((e) => e.id)).toEqual(['s1:1|Running']);
    // A conflict makes the track due at once: the next poll looks again rather than act on a stale view.
    expect(await redis.zscore(keys.due('local'), 't1')).toBe(String(T));
  });

  it('writes a transition’s stuck note with it (a deadline set, or dropped when the step ended), and none for a transition that conflicted', async () => {
    await addTrack();
    await redis.hset(keys.state('t1'), 's3', '2|Running');
    const noted = (field: string, expected: string, next: string, deadline?: number) => ({
      ...transition(field, expected, next),
      stuck: { member: `t1|${field}`, ...(deadline ? { deadline, facts: `{"step":"${field}"}` } : {}) },
    });
    await redis.zadd(keys.stuck, T, 't1|s2');
    await redis.hset(keys.stuckInfo, 't1|s2', '{"step":"s2"}');
    const result = await scripts.commitPoll({
      trackId: 't1',
      provider: 'local',
      now: T,
      nextPollAt: T + 5000,
      transitions: [noted('s1', '', '1|Running', T + 60_000), noted('s2', '', '2|Finished'), noted('s3', '1|Queued', '2|Running', T + 1)],
    });
    expect(result).toEqual({ appended: 2, conflicts: 1, won: [true, true, false] });
    expect(await redis.zrange(keys.stuck, 0, -1, 'WITHSCORES')).toEqual(['t1|s1', String(T + 60_000)]);
    expect(await redis.hgetall(keys.stuckInfo)).toEqual({ 't1|s1': '{"step":"s1"}' });
  });

  it('retires the track when nextPollAt is null and nothing conflicted', async () => {
    await addTrack();
    await scripts.commitPoll({ trackId: 't1', provider: 'local', now: T, nextPollAt: null, transitions: [transition('s1', '', '1|Finished')] });
    expect(await redis.exists(keys.track('t1'), keys.state('t1'))).toBe(0);
    expect(await redis.zscore(keys.due('local'), 't1')).toBeNull();
  });

  it('throws TrackNotFoundError (its -1) when the track was removed, and writes nothing', async () => {
    const commit = scripts.commitPoll({
      trackId: 'gone',
      provider: 'local',
      now: T,
      nextPollAt: T,
      transitions: [transition('s1', '', '1|Failed')],
    });
    await expect(commit).rejects.toBeInstanceOf(TrackNotFoundError);
    expect(await outbox()).toEqual([]);
  });
});

describe('recordPollFailure', () => {
  const failure = (expectedError: string) => ({
    trackId: 't1',
    provider: 'local',
    nextPollAt: T + 30_000,
    threshold: 2,
    expectedError,
    nextError: '1|Failed',
    eventJson: '{"id":"err1"}',
  });

  it('counts failures, reschedules, and raises one track.error at the threshold (not one per failure)', async () => {
    await addTrack();
    expect(await scripts.recordPollFailure(failure(''))).toEqual({ failures: 1, raised: false });
    expect(await scripts.recordPollFailure(failure(''))).toEqual({ failures: 2, raised: true });
    expect(await scripts.recordPollFailure(failure(''))).toEqual({ failures: 3, raised: false });
    expect((await outbox()).map((e) => e.id)).toEqual(['err1']);
    expect(await redis.sismember(keys.failing, 't1')).toBe(1);
    expect(await redis.zscore(keys.due('local'), 't1')).toBe(String(T + 30_000));
  });

  it('throws TrackNotFoundError when the track is gone', async () => {
    await expect(scripts.recordPollFailure(failure(''))).rejects.toBeInstanceOf(TrackNotFoundError);
  });
});

describe('addPipelineTracks', () => {
  const found = (runs: string[], now = T) => ({
    trackId: 'exp',
    provider: 'local',
    now,
    forgetBefore: now - 600_000,
    cursor: now,
    nextPollAt: now + 5000,
    newestRunAt: now - 10,
    runs: runs.map((r) => ({ pipelineRunId: r, createdMs: now - 10, childTrackId: `child-${r}`, childJson: `{"id":"child-${r}"}` })),
  });

  it('tracks each run once, moves the cursor and notes the newest run', async () => {
    await addTrack('exp');
    expect(await scripts.addPipelineTracks(found(['r1', 'r2']))).toEqual(['child-r1', 'child-r2']);
    expect(await scripts.addPipelineTracks(found(['r1', 'r2', 'r3'], T + 1000))).toEqual(['child-r3']);
    expect(await redis.smembers(keys.tracks)).toEqual(expect.arrayContaining(['exp', 'child-r1', 'child-r2', 'child-r3']));
    expect(await redis.hget(keys.track('child-r3'), 'json')).toBe('{"id":"child-r3"}');
    expect(await redis.hmget(keys.track('exp'), 'cursor', 'lastRunAt')).toEqual([String(T + 1000), String(T + 990)]);
  });

  it('throws TrackNotFoundError when the experiment track is gone, and tracks nothing', async () => {
    await expect(scripts.addPipelineTracks(found(['r1']))).rejects.toBeInstanceOf(TrackNotFoundError);
    expect(await redis.exists(keys.track('child-r1'))).toBe(0);
  });
});

describe('casAppend', () => {
  it('appends when the field holds the expected value, then never again', async () => {
    const cas = { hash: keys.state('t1'), field: '@missing', expected: '', next: '1|Failed', eventJson: '{"id":"m1"}' };
    expect(await scripts.casAppend(cas)).toBe(true);
    expect(await scripts.casAppend(cas)).toBe(false);
    expect(await redis.hget(keys.state('t1'), '@missing')).toBe('1|Failed');
    expect((await outbox()).map((e) => e.id)).toEqual(['m1']);
  });
});

describe('ensureDeliveries', () => {
  it('creates each record once, pending unless told, and indexes it among recent ones (bounded)', async () => {
    await scripts.ensureDeliveries([{ id: 'd1', fields: { notifier: 'hook' } }], T, 2);
    await redis.hset(keys.delivery('d1'), 'status', 'delivered');
    await scripts.ensureDeliveries(
      [
        { id: 'd1', fields: { notifier: 'hook' } },
        { id: 'd2', fields: { notifier: 'mail', status: 'silenced', silencedBy: 's1' } },
        { id: 'd3', fields: { notifier: 'mail' } },
      ],
      T + 1,
      2,
    );
    expect(await redis.hmget(keys.delivery('d1'), 'id', 'status', 'attempts')).toEqual(['d1', 'delivered', '0']);
    expect(await redis.hmget(keys.delivery('d2'), 'status', 'silencedBy')).toEqual(['silenced', 's1']);
    expect(await redis.zrange(keys.deliveries, 0, -1)).toEqual(['d2', 'd3']);
    expect(await scripts.ensureDeliveries([{ id: 'd3', fields: { notifier: 'mail' } }], T + 2, 2)).toBe(0);
  });
});

describe('markDelivered', () => {
  it('marks a batch delivered: no claim, no error, no dead letter left; the detail only where given', async () => {
    await scripts.ensureDeliveries(
      [
        { id: 'm1', fields: { notifier: 'hook' } },
        { id: 'm2', fields: { notifier: 'hook' } },
      ],
      T,
      10,
    );
    await redis.hset(keys.delivery('m1'), { claim: 'job-1', claimUntil: T + 60_000, lastError: 'HTTP 503' });
    await redis.zadd(keys.deadLetters, T, 'm2');
    await scripts.markDelivered([{ id: 'm1', detail: 'HTTP 204' }, { id: 'm2' }], 2, T + 5);
    expect(await redis.hgetall(keys.delivery('m1'))).toMatchObject({ status: 'delivered', attempts: '2', updatedAt: String(T + 5), detail: 'HTTP 204' });
    expect(await redis.hmget(keys.delivery('m1'), 'claim', 'claimUntil', 'lastError')).toEqual([null, null, null]);
    expect(await redis.hget(keys.delivery('m2'), 'detail')).toBeNull();
    expect(await redis.zrange(keys.deadLetters, 0, -1)).toEqual([]);
    expect(await redis.zscore(keys.deliveries, 'm2')).toBe(String(T + 5));
  });
});

describe('claimDeliveries', () => {
  it('claims what is neither delivered nor held by another live job; the holder takes it again; a lapsed claim is free', async () => {
    await scripts.ensureDeliveries(
      [
        { id: 'c1', fields: {} },
        { id: 'c2', fields: {} },
        { id: 'c3', fields: {} },
      ],
      T,
      10,
    );
    await redis.hset(keys.delivery('c3'), 'status', 'delivered');
    const claim = (token: string, now = T) => scripts.claimDeliveries({ ids: ['c1', 'c2', 'c3'], token, now, leaseMs: 1000 });
    expect(await claim('job-a')).toEqual(['c1', 'c2']);
    expect(await claim('job-b')).toEqual([]);
    expect(await claim('job-a')).toEqual(['c1', 'c2']);
    expect(await claim('job-b', T + 1001)).toEqual(['c1', 'c2']);
  });
});

describe('takeBudget', () => {
  it('lets the window allowance through, refuses the rest, and lets the counter expire', async () => {
    const budget = { counter: keys.budget('azure', 1), perWindow: 2, windowMs: 60_000 };
    expect([await scripts.takeBudget(budget), await scripts.takeBudget(budget), await scripts.takeBudget(budget)]).toEqual([true, true, false]);
    expect(await redis.pttl(budget.counter)).toBeGreaterThan(60_000);
  });
});

describe('openAlert', () => {
  const open = (eventId: string, notifiers: string[]) => ({
    alertId: 'a1',
    key: 'local/churn/step/train',
    now: T,
    event: { id: eventId, type: 'steprun.failed', summary: 'train Failed', run: 'r1', json: `{"id":"${eventId}"}` },
    maxAlerts: 2,
    fields: notifiers.flatMap((n) => [`n:${n}`, `${eventId}-${n}`]),
  });

  it('opens once, counts later failures once each (a replay counts nothing), and notes the notifiers', async () => {
    expect(await scripts.openAlert(open('e1', ['hook']))).toBe(true);
    expect(await scripts.openAlert(open('e1', ['hook']))).toBe(false);
    expect(await scripts.openAlert(open('e2', ['mail']))).toBe(false);
    expect(await scripts.openAlert(open('e2', ['mail']))).toBe(false);
    expect(await redis.hmget(keys.alert('a1'), 'failures', 'openedBy', 'lastBy', 'n:hook', 'n:mail')).toEqual(['2', 'e1', 'e2', 'e1-hook', 'e2-mail']);
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

describe('notifyAlert', () => {
  it('notes the message a notifier is sent of an open alert (its pending group note goes), nothing for an alert that is not open', async () => {
    expect(await scripts.notifyAlert({ alertId: 'a1', notifier: 'hook', deliveryId: 'g1-1-hook' })).toBe(false);
    expect(await redis.exists(keys.alert('a1'))).toBe(0);
    await redis.hset(keys.alert('a1'), 'openedBy', 'e1', 'g:hook', 'g1-1-hook', 'g:mail', 'g2-1-mail');
    expect(await scripts.notifyAlert({ alertId: 'a1', notifier: 'hook', deliveryId: 'g1-1-hook' })).toBe(true);
    expect(await redis.hmget(keys.alert('a1'), 'n:hook', 'g:hook')).toEqual(['g1-1-hook', null]);
    // '' drops the pending note only (a group that no longer carries it).
    expect(await scripts.notifyAlert({ alertId: 'a1', notifier: 'mail', deliveryId: '' })).toBe(true);
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

describe('releaseLock', () => {
  it('releases a lock its holder still holds, and not one another caller took since', async () => {
    await redis.set(`${prefix}:lock`, 'me', 'PX', 10_000);
    expect(await scripts.releaseLock({ key: `${prefix}:lock`, token: 'you' })).toBe(false);
    expect(await redis.get(`${prefix}:lock`)).toBe('me');
    expect(await scripts.releaseLock({ key: `${prefix}:lock`, token: 'me' })).toBe(true);
    expect(await redis.exists(`${prefix}:lock`)).toBe(0);
  });
});

describe('addToGroup', () => {
  it('events within the wait share a generation; once sent, the next waits for the interval; joining is idempotent', async () => {
    const add = (eventId: string, now: number) =>
      scripts.addToGroup({ groupId: 'g1', now, waitMs: 30_000, intervalMs: 300_000, eventId, eventJson: `{"id":"${eventId}"}`, keepMs: 86_400_000 });
    expect(await add('e1', T)).toEqual({ generation: 1, flushAt: T + 30_000 });
    expect(await add('e2', T + 5000)).toEqual({ generation: 1, flushAt: T + 30_000 });
    expect(await add('e2', T + 6000)).toEqual({ generation: 1, flushAt: T + 30_000 });
    await scripts.closeGroup({ groupId: 'g1', generation: 1, now: T + 30_000 });
    // Alertmanager's group_interval: the next notification of this group no sooner than 5 min after the last.
    expect(await add('e3', T + 40_000)).toEqual({ generation: 2, flushAt: T + 30_000 + 300_000 });
  });
});

describe('closeGroup', () => {
  it("returns the generation's events in arrival order, the same again when retried", async () => {
    for (const id of ['e1', 'e2'])
      await scripts.addToGroup({ groupId: 'g1', now: T, waitMs: 1000, intervalMs: 1000, eventId: id, eventJson: `{"id":"${id}"}`, keepMs: 60_000 });
    const close = { groupId: 'g1', generation: 1, now: T + 1000 };
    expect(await scripts.closeGroup(close)).toEqual(['{"id":"e1"}', '{"id":"e2"}']);
    expect(await scripts.closeGroup({ ...close, now: T + 2000 })).toEqual(['{"id":"e1"}', '{"id":"e2"}']);
    expect(await redis.hmget(keys.group('g1'), 'closed', 'flushedAt')).toEqual(['1', String(T + 1000)]);
  });
});

describe('joinIncident', () => {
  const settings = { notifier: 'pd', route: 0, values: '["run1"]', waitMs: 30_000, intervalMs: 300_000, repeatMs: 0 };
  it(
    'makes the group, notes the member, and brings the flush forward to `wait` after the first alert, never later; a touch of a gone group does ' + 'nothing',
    async () => {
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
    },
  );
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

describe('hintTracks', () => {
  const limits = { debounceMs: 50, minGapMs: 1000, leaseMs: 60_000, pushedForMs: 600_000 };
  const hint = (now: number, runTrackIds: string[], experimentTrackId?: string) =>
    scripts.hintTracks({ provider: 'local', now, runTrackIds, experimentTrackId, limits });

  it('claims the existing run tracks for a debounced poll, coalesces while one is pending, spaces the next by the gap', async () => {
    await addTrack('run');
    expect(await hint(T, ['run', 'untracked'], 'exp')).toEqual([{ trackId: 'run', pollAt: T + 50 }]);
    expect(await redis.zscore(keys.due('local'), 'run')).toBe(String(T + 50 + 60_000));
    expect(await hint(T + 40, ['run'])).toEqual([]);
    expect(await hint(T + 60, ['run'])).toEqual([{ trackId: 'run', pollAt: T + 1050 }]);
    expect(await redis.pttl(keys.pushed('local'))).toBeGreaterThan(590_000);
  });

  it('hints the experiment track only when no run track exists (a run it has not found yet), and nothing untracked', async () => {
    await addTrack('exp');
    expect(await hint(T, ['new-run'], 'exp')).toEqual([{ trackId: 'exp', pollAt: T + 50 }]);
    expect(await hint(T, ['other'], 'other-exp')).toEqual([]);
    expect(await redis.zscore(keys.due('local'), 'other')).toBeNull();
  });
});

describe('claimLiveMessage', () => {
  it('takes over a stale claim once, and never a message that was posted', async () => {
    const message = keys.liveMessage('slack', 'r1');
    await redis.hset(message, 'claim', String(T));
    const takeOver = { notifier: 'slack', run: 'r1', claimRead: String(T), now: T + 60_000 };
    expect(await scripts.claimLiveMessage(takeOver)).toBe(true);
    expect(await scripts.claimLiveMessage(takeOver)).toBe(false);
    await redis.hset(message, 'claim', String(T), 'ts', '123.456');
    expect(await scripts.claimLiveMessage(takeOver)).toBe(false);
  });
});

describe('putLiveRow', () => {
  it('keeps the highest-ranked text of each row (a late event never undoes a newer one) and returns every row', async () => {
    const put = (rowId: string, text: string, rank: number) => scripts.putLiveRow({ notifier: 'slack', run: 'r1', rowId, text, rank, keepSeconds: 60 });
    expect(await put('train', 'train Running', 1)).toEqual(['train Running']);
    expect(await put('train', 'train Failed', 3)).toEqual(['train Failed']);
    expect(await put('train', 'train Running', 1)).toEqual(['train Failed']);
    expect((await put('score', 'score Queued', 0)).sort()).toEqual(['score Queued', 'train Failed']);
  });
});

describe('trimOutbox', () => {
  const GROUP = 'dispatch';
  const append = async (n: number) => {
    for (let i = 0; i < n; i += 100) {
      const p = redis.pipeline();
      for (let k = i; k < Math.min(n, i + 100); k++) p.xadd(keys.events, '*', 'event', `{"id":"e${k}"}`);
      await p.exec();
    }
  };
  const ids = async () => (await redis.xrange(keys.events, '-', '+')).map(([id]) => id);
  const read = async (count: number) =>
    ((await redis.xreadgroup('GROUP', GROUP, 'c', 'COUNT', count, 'STREAMS', keys.events, '>')) as [string, [string, string[]][]][])[0]![1].map(([id]) => id);

  it('keeps everything under maxLen, and everything while no dispatch group exists', async () => {
    await append(50);
    expect(await scripts.trimOutbox({ group: GROUP, maxLen: 100 })).toBe(0);
    await append(950);
    expect(await scripts.trimOutbox({ group: GROUP, maxLen: 100 })).toBe(0);
    expect(await redis.xlen(keys.events)).toBe(1000);
  });

  it('never removes an entry the group has not read, nor one read and not acknowledged', async () => {
    await append(1000);
    await redis.xgroup('CREATE', keys.events, GROUP, '0');
    const readIds = await read(800);
    await redis.xack(keys.events, GROUP, ...readIds.slice(0, 300)); // 500 read and pending, 200 unread
    await scripts.trimOutbox({ group: GROUP, maxLen: 100 });
    const left = await ids();
    expect(left).toEqual(expect.arrayContaining(readIds.slice(300)));
    expect(left.length).toBeGreaterThanOrEqual(700);
    expect(left.length).toBeLessThan(1000); // some of the 300 finished ones went
  });

  it('cuts back to about maxLen (whole macro nodes, never fewer) once everything is acknowledged', async () => {
    await append(1000);
    await redis.xgroup('CREATE', keys.events, GROUP, '0');
    await redis.xack(keys.events, GROUP, ...(await read(1000)));
    expect(await scripts.trimOutbox({ group: GROUP, maxLen: 100 })).toBeGreaterThan(0);
    const left = await redis.xlen(keys.events);
    expect(left).toBeGreaterThanOrEqual(100);
    expect(left).toBeLessThanOrEqual(200);
  });

  it('does bounded work a call however far past maxLen the outbox is (a backlog cost a full scan per batch)', async () => {
    await append(6000);
    await redis.xgroup('CREATE', keys.events, GROUP, '0');
    await redis.xack(keys.events, GROUP, ...(await read(6000)));
    // One call reads at most TRIM_STEP (1,000) entries, so it removes at most about that many (whole macro nodes).
    const first = await scripts.trimOutbox({ group: GROUP, maxLen: 100 });
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(1100);
    // Called again (as the dispatcher does after each batch), it still comes down to about maxLen.
    for (let i = 0; i < 10; i++) await scripts.trimOutbox({ group: GROUP, maxLen: 100 });
    expect(await redis.xlen(keys.events)).toBeLessThanOrEqual(200);
  });

  it('reads nothing past a backlog the group has not finished: the oldest entry unfinished, nothing may go', async () => {
    await append(3000);
    await redis.xgroup('CREATE', keys.events, GROUP, '0');
    expect(await scripts.trimOutbox({ group: GROUP, maxLen: 100 })).toBe(0);
    expect(await redis.xlen(keys.events)).toBe(3000);
  });
});

describe('after Redis lost its scripts (a restart, a new node)', () => {
  it('each call sends the script again, once, and works', async () => {
    await redis.script('FLUSH');
    expect(await scripts.casAppend({ hash: keys.state('t1'), field: 'f', expected: '', next: '1|Running', eventJson: '{"id":"x"}' })).toBe(true);
    await redis.script('FLUSH');
    await scripts.ensureDeliveries([{ id: 'd9', fields: { notifier: 'hook' } }], T, 10);
    expect(await redis.hget(keys.delivery('d9'), 'status')).toBe('pending');
  });
});
