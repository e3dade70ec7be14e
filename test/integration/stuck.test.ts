// Stuck steps — a limit learned from earlier Finished runs, raised once on the tick with no provider call, resolved when the step ends.
import * as path from 'node:path';
import { alertKeyOf } from '../../src/alerts/alert-key';
import { AlertStore } from '../../src/alerts/alert-store';
import { ManualClock } from '../../src/util/clock';
import { LocalProvider } from '../../src/providers/local/provider';
import type { StepRecord } from '../../src/providers/local/records';
import type { RunProvider } from '../../src/model/provider';
import type { WatchEvent } from '../../src/store/events';
import { Keys } from '../../src/store/keys';
import { pollTrack } from '../../src/watch/poll';
import { StuckWatch, runningLimit } from '../../src/watch/stuck';
import { TrackStore, trackFromRequest } from '../../src/store/tracks';
import { stepEventFixture } from '../support/events';
import { pollDeps } from '../support/poll';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';
import { outboxEvents } from '../support/outbox';

const redis = testRedis();
const prefix = uniquePrefix('stuck');
const keys = new Keys(prefix);
const local = new LocalProvider({ root: path.join(tempDir('stuck'), 'runs') });
const MIN = 60_000;
const settings = {
  enabled: true,
  minDurationMs: 15 * MIN,
  factor: 3,
  maxDurationMs: 6 * 60 * MIN,
  minSamples: 5,
  maxQueuedMs: 120 * MIN,
  subStateMs: { Finalizing: 60 * MIN, NotResponding: 30 * MIN },
};

let calls = 0;
const counting: RunProvider = new Proxy(local, {
  get: (t, p) => {
    const v = Reflect.get(t, p);
    return typeof v === 'function'
      ? (...a: unknown[]) => {
          calls++;
          return v.apply(t, a);
        }
      : v;
  },
});

async function writeRun(id: string, step: Partial<StepRecord> & { status: StepRecord['status'] }): Promise<void> {
  await local.store.createPipeline({
    schema: 1,
    pipelineRunId: id,
    experiment: 'stuckexp',
    createdTime: new Date(0).toISOString(),
    status: null,
    source: 'exec',
  });
  await local.store.writeStep({
    schema: 1,
    stepRunId: `s_${id}`,
    pipelineRunId: id,
    experiment: 'stuckexp',
    nodeId: 'n1',
    name: 'train',
    rawStatus: step.status,
    createdTime: new Date(0).toISOString(),
    command: 'train',
    isReused: false,
    outputs: {},
    ...step,
  });
}

async function events(): Promise<WatchEvent[]> {
  return outboxEvents(redis, keys);
}

beforeAll(async () => dropPrefix(redis, prefix));
afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('stuck steps', () => {
  it('runningLimit: max(minDuration, factor × p95), or maxDuration without enough history', () => {
    expect(runningLimit([], settings)).toEqual({ limitMs: 360 * MIN, samples: 0 });
    expect(runningLimit(Array(20).fill(10 * MIN), settings)).toEqual({ limitMs: 30 * MIN, p95Ms: 10 * MIN, samples: 20 });
    expect(runningLimit(Array(20).fill(2 * MIN), settings)).toMatchObject({ limitMs: 15 * MIN });
  });

  it('a limit learned from 20 Finished runs: one steprun.stuck past it, zero provider calls, resolved when the step ends', async () => {
    const t0 = Date.parse('2026-11-26T00:00:00Z');
    const clock = new ManualClock(t0);
    const stuck = new StuckWatch(redis, keys, settings);
    const deps = { ...pollDeps(redis, keys, new Map([['local', counting]])), clock, stuck };
    const tracks = new TrackStore(redis, keys, clock);
    // 20 earlier runs of `train`, 10 minutes each.
    for (let i = 0; i < 20; i++) {
      const id = `old${i}`;
      await writeRun(id, {
        status: 'Finished',
        startTime: new Date(t0 - 86_400_000 + i * 1000).toISOString(),
        endTime: new Date(t0 - 86_400_000 + i * 1000 + 10 * MIN).toISOString(),
      });
      const track = trackFromRequest({ provider: 'local', pipelineRun: id }, 'cli', clock.now());
      await tracks.add(track);
      await pollTrack(deps, track.id);
    }
    expect(await redis.llen(keys.durations('local', 'stuckexp', 'train'))).toBe(20);

    await writeRun('now1', { status: 'Running', startTime: new Date(t0).toISOString() });
    const track = trackFromRequest({ provider: 'local', pipelineRun: 'now1' }, 'cli', clock.now());
    await tracks.add(track);
    await pollTrack(deps, track.id);
    calls = 0;
    clock.set(t0 + 29 * MIN);
    expect(await stuck.raiseDue(clock.now())).toBe(0);
    clock.set(t0 + 31 * MIN);
    expect(await stuck.raiseDue(clock.now())).toBe(1);
    expect(await stuck.raiseDue(clock.now())).toBe(0);
    clock.advance(60 * MIN);
    expect(await stuck.raiseDue(clock.now())).toBe(0); // once per step run
    expect(calls).toBe(0);
    const raised = (await events()).filter((e) => e.type === 'steprun.stuck');
    expect(raised).toHaveLength(1);
    expect(raised[0]!.stuck).toEqual({ reason: 'running', forMs: 31 * MIN, limitMs: 30 * MIN, p95Ms: 10 * MIN, samples: 20 });

    // The alert it opens is the step's: the step finishing resolves it.
    const alerts = new AlertStore(redis, keys);
    await alerts.open(alertKeyOf(raised[0]!), raised[0]!, { told: { pd: `${raised[0]!.id}-pd` }, pending: {} }, clock.now());
    await writeRun('now1', { status: 'Finished', startTime: new Date(t0).toISOString(), endTime: new Date(clock.now()).toISOString() });
    await pollTrack(deps, track.id);
    const finished = (await events()).find((e) => e.type === 'steprun.finished' && e.pipelineRunId === 'now1')!;
    expect(alertKeyOf(finished)).toBe(alertKeyOf(raised[0]!));
    expect(await alerts.resolve(alertKeyOf(finished), finished, clock.now())).toMatchObject({ type: 'alert.resolved' });
    expect(await redis.zcard(keys.stuck)).toBe(0);
  });

  it('a step Queued longer than stuck.maxQueued is stuck with the reason "queued"; one that starts gets a running limit instead', async () => {
    const t0 = Date.parse('2026-11-27T00:00:00Z');
    const clock = new ManualClock(t0);
    const stuck = new StuckWatch(redis, keys, settings);
    const deps = { ...pollDeps(redis, keys, new Map([['local', counting]])), clock, stuck };
    const tracks = new TrackStore(redis, keys, clock);
    for (const id of ['q1', 'q2']) {
      await writeRun(id, { status: 'Queued' });
      const track = trackFromRequest({ provider: 'local', pipelineRun: id }, 'cli', clock.now());
      await tracks.add(track);
      await pollTrack(deps, track.id);
    }
    // q2 starts running within the queue limit: its queued deadline is replaced by a running one (30 min, learned above).
    clock.advance(10 * MIN);
    await writeRun('q2', { status: 'Running', startTime: new Date(clock.now()).toISOString() });
    await pollTrack(deps, trackFromRequest({ provider: 'local', pipelineRun: 'q2' }, 'cli', 0).id);
    clock.set(t0 + 121 * MIN);
    expect(await stuck.raiseDue(clock.now())).toBe(2);
    const raised = (await events()).filter((e) => e.type === 'steprun.stuck' && e.pipelineRunId?.startsWith('q'));
    expect(raised.map((e) => [e.pipelineRunId, e.stuck!.reason, e.stuck!.limitMs]).sort()).toEqual([
      ['q1', 'queued', 120 * MIN],
      ['q2', 'running', 30 * MIN],
    ]);
  });

  it('a poll that dies right after its commit still leaves the step that started running its deadline', async () => {
    const t0 = Date.parse('2026-11-28T00:00:00Z');
    const clock = new ManualClock(t0);
    const stuck = new StuckWatch(redis, keys, settings);
    const deps = { ...pollDeps(redis, keys, new Map([['local', counting]])), clock, stuck };
    await writeRun('crash1', { status: 'Running', startTime: new Date(t0).toISOString() });
    const track = trackFromRequest({ provider: 'local', pipelineRun: 'crash1' }, 'cli', clock.now());
    await new TrackStore(redis, keys, clock).add(track);
    // The worker dies as soon as the transition is committed (the hook runs right after the commit).
    const dying = {
      ...deps,
      onTransitions: () => {
        throw new Error('killed');
      },
    };
    await expect(pollTrack(dying, track.id)).rejects.toThrow('killed');
    // Its job runs again: the state already holds Running, so this poll sees no transition.
    clock.advance(1000);
    expect(await pollTrack(deps, track.id)).toMatchObject({ kind: 'committed', appended: 0 });
    const member = `${track.id}|s_crash1`;
    expect(await redis.zscore(keys.stuck, member)).not.toBeNull();
    clock.set(t0 + 6 * 60 * MIN + MIN);
    expect(await stuck.raiseDue(clock.now())).toBeGreaterThanOrEqual(1);
    expect((await events()).filter((e) => e.type === 'steprun.stuck' && e.pipelineRunId === 'crash1')).toHaveLength(1);
  });

  it('learned durations: what this process learns counts at once, what another worker learns within a minute', async () => {
    const t0 = Date.parse('2026-11-27T00:00:00Z');
    const track = trackFromRequest({ provider: 'local', pipelineRun: 'learn1' }, 'cli', t0);
    const step = (stepRunId: string, status: 'Running' | 'Finished') => ({
      field: stepRunId,
      expected: '',
      next: '',
      event: stepEventFixture({ trackId: track.id, experiment: 'learnexp', status, stepRun: undefined, step: 'fit', id: stepRunId }),
    });
    const running = (id: string) => {
      const t = step(id, 'Running');
      t.event.stepRun = { ...t.event.stepRun!, stepRunId: id, name: 'fit', status: 'Running', startTime: new Date(t0).toISOString() };
      return t;
    };
    const finished = (id: string, durationMs: number) => {
      const t = step(id, 'Finished');
      t.event.stepRun = { ...t.event.stepRun!, stepRunId: id, name: 'fit', status: 'Finished', durationMs };
      return t;
    };
    /** The limit a worker gives step `id` that started running at `now` (the note its commit would write). */
    const limitOf = async (w: StuckWatch, id: string, now: number) => {
      const [note] = (await w.notesFor(track, [running(id)], now)).values();
      return (JSON.parse(note!.facts!) as { limitMs: number }).limitMs;
    };
    const worker = new StuckWatch(redis, keys, settings);
    const other = new StuckWatch(redis, keys, settings);

    expect(await limitOf(worker, 'r1', t0)).toBe(settings.maxDurationMs); // nothing learned yet: the fallback limit
    await worker.learnFrom(
      track,
      Array.from({ length: 5 }, (_, i) => finished(`own${i}`, 10 * MIN)),
    );
    expect(await limitOf(worker, 'r2', t0 + 1000)).toBe(30 * MIN); // its own five count at once

    await other.learnFrom(
      track,
      Array.from({ length: 20 }, (_, i) => finished(`other${i}`, 20 * MIN)),
    );
    expect(await limitOf(worker, 'r3', t0 + 3000)).toBe(30 * MIN); // another worker's learning: not read again yet
    expect(await limitOf(worker, 'r4', t0 + 61_000)).toBe(60 * MIN); // a minute on, read again
  });

  it('a track’s maxDuration replaces the learned limit', async () => {
    const t0 = Date.parse('2026-11-28T00:00:00Z');
    const clock = new ManualClock(t0);
    const stuck = new StuckWatch(redis, keys, settings);
    const deps = { ...pollDeps(redis, keys, new Map([['local', counting]])), clock, stuck };
    await writeRun('m1', { status: 'Running', startTime: new Date(t0).toISOString() });
    const track = trackFromRequest({ provider: 'local', pipelineRun: 'm1', maxDurationMs: 5 * MIN }, 'cli', clock.now());
    await new TrackStore(redis, keys, clock).add(track);
    await pollTrack(deps, track.id);
    clock.set(t0 + 6 * MIN);
    expect(await stuck.raiseDue(clock.now())).toBe(1);
    const raised = (await events()).filter((e) => e.type === 'steprun.stuck' && e.pipelineRunId === 'm1');
    expect(raised.map((e) => e.stuck!.limitMs)).toEqual([5 * MIN]);
  });

  it('a raw sub-state has its own limit from when it was entered: Finalizing for over an hour is stuck; NotResponding that recovers is not', async () => {
    const t0 = Date.parse('2026-11-29T00:00:00Z');
    const clock = new ManualClock(t0);
    // A step name with no history: its Running limit is maxDuration (100 h), far beyond the test.
    const stuck = new StuckWatch(redis, keys, { ...settings, maxDurationMs: 100 * 60 * MIN });
    const deps = { ...pollDeps(redis, keys, new Map([['local', counting]])), clock, stuck };
    const tracks = new TrackStore(redis, keys, clock);
    for (const id of ['f1', 'n1']) {
      await writeRun(id, { name: 'deploy', status: 'Running', rawStatus: 'Running', startTime: new Date(t0).toISOString() });
      await tracks.add(trackFromRequest({ provider: 'local', pipelineRun: id }, 'cli', clock.now()));
    }
    const poll = (id: string) => pollTrack(deps, trackFromRequest({ provider: 'local', pipelineRun: id }, 'cli', 0).id);
    await poll('f1');
    await poll('n1');
    clock.set(t0 + 10 * MIN);
    await writeRun('f1', { name: 'deploy', status: 'Running', rawStatus: 'Finalizing', startTime: new Date(t0).toISOString() });
    await writeRun('n1', { name: 'deploy', status: 'Running', rawStatus: 'NotResponding', startTime: new Date(t0).toISOString() });
    await poll('f1');
    await poll('n1');
    clock.set(t0 + 20 * MIN); // polled again in the same sub-state: the deadline keeps its start
    await poll('f1');
    await writeRun('n1', { name: 'deploy', status: 'Running', rawStatus: 'Running', startTime: new Date(t0).toISOString() });
    await poll('n1'); // back to plain Running: its NotResponding deadline is gone
    clock.set(t0 + 69 * MIN);
    expect(await stuck.raiseDue(clock.now())).toBe(0);
    clock.set(t0 + 71 * MIN);
    expect(await stuck.raiseDue(clock.now())).toBe(1);
    const raised = (await events()).filter((e) => e.type === 'steprun.stuck' && ['f1', 'n1'].includes(e.pipelineRunId!));
    expect(raised.map((e) => [e.pipelineRunId, e.stuck!.reason, e.stuck!.limitMs, e.stuck!.forMs])).toEqual([['f1', 'Finalizing', 60 * MIN, 61 * MIN]]);
  });
});
