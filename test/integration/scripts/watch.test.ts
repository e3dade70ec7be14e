// The watch's Lua commands (tracks, claims, the poll's commit, failures, found runs, budgets, hints), each run
// directly against the real Redis through its typed method.
import { TrackNotFoundError } from '../../../src/model/errors';
import { T, scriptRig } from '../../support/script-rig';

const { redis, keys, scripts, outbox, addTrack } = scriptRig('scripts-watch');

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

describe('takeBudget', () => {
  it('lets the window allowance through, refuses the rest, and lets the counter expire', async () => {
    const budget = { counter: keys.budget('azure', 1), perWindow: 2, windowMs: 60_000 };
    expect([await scripts.takeBudget(budget), await scripts.takeBudget(budget), await scripts.takeBudget(budget)]).toEqual([true, true, false]);
    expect(await redis.pttl(budget.counter)).toBeGreaterThan(60_000);
  });
});

describe('hintTracks', () => {
  const limits = { debounceMs: 50, minGapMs: 1000, leaseMs: 60_000, pushedForMs: 600_000 };
  const hint = async (now: number, runTrackIds: string[], experimentTrackId?: string) =>
    (await scripts.hintTracks({ provider: 'local', now, runs: [{ runTrackIds, experimentTrackId }], limits })).map(({ trackId, pollAt }) => ({
      trackId,
      pollAt,
    }));

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

  it('takes several runs at once, run after run as separate calls would: each poll names the run it serves', async () => {
    await addTrack('exp');
    await addTrack('run');
    const runs = [
      { runTrackIds: ['new-run'], experimentTrackId: 'exp' },
      { runTrackIds: ['untracked'] },
      { runTrackIds: ['new-run2'], experimentTrackId: 'exp' },
      { runTrackIds: ['run'] },
    ];
    expect(await scripts.hintTracks({ provider: 'local', now: T, runs, limits })).toEqual([
      { run: 0, trackId: 'exp', pollAt: T + 50 },
      // The experiment's poll is pending already: the third run is served by it, as a second call would be.
      { run: 3, trackId: 'run', pollAt: T + 50 },
    ]);
  });
});
