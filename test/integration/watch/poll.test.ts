// The poll job (watch/poll.ts) where an alert could silently never be raised: runs that grow after their summary,
// runs older than a track, corrupt records, a track's error and recovery, Redis errors. Real Redis, run store, processes.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ManualClock } from '../../../src/util/clock';
import { LocalProvider } from '../../../src/providers/local/provider';
import { Keys } from '../../../src/store/keys';
import { pollTrack } from '../../../src/watch/poll';
import { TrackStore, trackFromRequest } from '../../../src/store/tracks';
import { execStep } from '../../support/local-runs';
import { pollDeps } from '../../support/poll';
import { dropPrefix, testRedis, uniquePrefix } from '../../support/redis';
import { tempDir } from '../../support/tmp';
import { waitFor } from '../../support/wait-for';
import { outboxEvents } from '../../support/outbox';

const redis = testRedis();
const prefix = uniquePrefix('blind');
const keys = new Keys(prefix);
const dataDir = tempDir('blind');
const local = new LocalProvider({ root: path.join(dataDir, 'runs') });
const work = path.join(dataDir, 'work');
const GRACE_MS = 60_000;

function setup(clock: ManualClock) {
  const deps = { ...pollDeps(redis, keys, new Map([['local', local]]), { openRunGraceMs: GRACE_MS }), clock };
  return { deps, tracks: new TrackStore(redis, keys, clock) };
}

const streamEvents = () => outboxEvents(redis, keys);

/** Polls every due track (experiment tracks first add their runs) until nothing is due at `clock`. */
async function pollDue(deps: ReturnType<typeof setup>['deps']): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const due = await redis.zrangebyscore(keys.due('local'), '-inf', deps.clock.now());
    if (due.length === 0) return;
    for (const id of due) await pollTrack(deps, id);
  }
}

beforeAll(async () => fs.mkdir(work, { recursive: true }));
beforeEach(async () => dropPrefix(redis, prefix));
afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('a pipeline run made by exec stays watched while it can still grow', () => {
  it('a step added after the first summary is alerted, and the pipeline status is sent again with a new seq', async () => {
    const clock = new ManualClock(Date.now());
    const { deps, tracks } = setup(clock);
    const exp = trackFromRequest({ provider: 'local', experiment: 'open1' }, 'cli', clock.now());
    await tracks.add(exp);
    const prep = await execStep(local.store, { experiment: 'open1', step: 'prep', script: 'true', cwd: work });
    clock.advance(6000);
    await pollDue(deps);
    let events = await streamEvents();
    expect(events.map((e) => e.type)).toEqual(['steprun.finished', 'pipelinerun.finished']);
    const childId = trackFromRequest({ provider: 'local', pipelineRun: prep.pipelineRunId }, 'experiment', 0).id;
    expect(await tracks.get(childId)).toBeDefined(); // not retired: the run is open

    await execStep(local.store, { experiment: 'open1', step: 'train', script: 'exit 1', cwd: work, pipelineRunId: prep.pipelineRunId });
    clock.advance(6000);
    await pollDue(deps);
    events = await streamEvents();
    expect(events.map((e) => e.type)).toEqual(['steprun.finished', 'pipelinerun.finished', 'steprun.failed', 'pipelinerun.failed']);
    expect(new Set(events.map((e) => e.id)).size).toBe(4);

    // A third step that ends with the same pipeline status still re-sends the summary (new seq, new id).
    await execStep(local.store, { experiment: 'open1', step: 'report', script: 'true', cwd: work, pipelineRunId: prep.pipelineRunId });
    clock.advance(6000);
    await pollDue(deps);
    events = await streamEvents();
    const summaries = events.filter((e) => e.type.startsWith('pipelinerun.'));
    expect(summaries).toHaveLength(3);
    expect(summaries[2]!.pipelineRun!.steps.map((s) => s.name)).toEqual(['prep', 'train', 'report']);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);

    // Polled again with nothing new: nothing sent; after the grace period the track retires.
    clock.advance(6000);
    await pollDue(deps);
    expect(await streamEvents()).toHaveLength(events.length);
    clock.advance(GRACE_MS);
    await pollDue(deps);
    expect(await tracks.get(childId)).toBeUndefined();
    expect(await streamEvents()).toHaveLength(events.length);
  });

  it('a pipeline run made by `run` (it has its own terminal status) still retires at once', async () => {
    const clock = new ManualClock(Date.now());
    const { deps, tracks } = setup(clock);
    const r = await execStep(local.store, { experiment: 'closed1', step: 'a', script: 'true', cwd: work });
    const record = await local.store.readPipeline(r.pipelineRunId);
    await local.store.writePipeline({ ...record, status: 'Finished', source: 'run', endTime: new Date().toISOString() });
    const track = trackFromRequest({ provider: 'local', pipelineRun: r.pipelineRunId }, 'cli', clock.now());
    await tracks.add(track);
    await pollDue(deps);
    expect(await tracks.get(track.id)).toBeUndefined();
  });
});

describe('an experiment track picks up every pipeline run that is not terminal, whatever its age', () => {
  it('a track added after the run started (as after an empty Redis restart) watches it to the end', async () => {
    const clock = new ManualClock(Date.now());
    const { deps, tracks } = setup(clock);
    // An old run, still running, and an old run long finished.
    const done = await execStep(local.store, { experiment: 'restart1', step: 'old', script: 'true', cwd: work });
    const controller = new AbortController();
    const running = execStep(local.store, { experiment: 'restart1', step: 'long', script: 'sleep 30', cwd: work, signal: controller.signal });
    await waitForSteps('restart1', 2);
    clock.advance(60 * 60 * 1000); // the track is created an hour after both runs
    const exp = trackFromRequest({ provider: 'local', experiment: 'restart1' }, 'config', clock.now());
    await tracks.add(exp);
    await pollDue(deps);
    const events = await streamEvents();
    expect(events.map((e) => [e.type, e.stepRun?.name])).toEqual([['steprun.running', 'long']]);
    expect(events.some((e) => e.pipelineRunId === done.pipelineRunId)).toBe(false);
    controller.abort();
    await running;
    clock.advance(6000);
    await pollDue(deps);
    expect((await streamEvents()).map((e) => e.type)).toEqual(['steprun.running', 'steprun.canceled', 'pipelinerun.canceled']);
  });

  it('--since all also takes the finished runs', async () => {
    const clock = new ManualClock(Date.now());
    const { deps, tracks } = setup(clock);
    await execStep(local.store, { experiment: 'since1', step: 'old', script: 'true', cwd: work });
    clock.advance(60 * 60 * 1000);
    await tracks.add(trackFromRequest({ provider: 'local', experiment: 'since1', since: 0 }, 'cli', clock.now()));
    await pollDue(deps);
    expect((await streamEvents()).map((e) => e.type)).toEqual(['steprun.finished', 'pipelinerun.finished']);
  });
});

describe('one corrupt record fails only what depends on it', () => {
  it('a truncated step.json: siblings reported, other runs discovered, one track.error naming the file', async () => {
    const clock = new ManualClock(Date.now());
    const { deps, tracks } = setup(clock);
    const exp = trackFromRequest({ provider: 'local', experiment: 'corrupt1' }, 'cli', clock.now());
    await tracks.add(exp);
    const a = await execStep(local.store, { experiment: 'corrupt1', step: 'a', script: 'true', cwd: work });
    const b = await execStep(local.store, { experiment: 'corrupt1', step: 'b', script: 'exit 3', cwd: work, pipelineRunId: a.pipelineRunId });
    const stepFile = path.join(local.store.stepDir(a.pipelineRunId, a.stepRunId), 'step.json');
    const text = await fs.readFile(stepFile, 'utf8');
    await fs.writeFile(stepFile, text.slice(0, 40));
    const other = await execStep(local.store, { experiment: 'corrupt1', step: 'c', script: 'true', cwd: work });
    for (let i = 0; i < 4; i++) {
      clock.advance(6000);
      await pollDue(deps);
    }
    const events = await streamEvents();
    expect(events.filter((e) => e.stepRun?.stepRunId === b.stepRunId).map((e) => e.type)).toEqual(['steprun.failed']);
    expect(events.filter((e) => e.pipelineRunId === other.pipelineRunId).map((e) => e.type)).toEqual(['steprun.finished', 'pipelinerun.finished']);
    const errors = events.filter((e) => e.type === 'track.error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.error!.message).toContain(stepFile);
    // The run with the unreadable step is neither summarized nor retired: its status is not known.
    expect(events.some((e) => e.pipelineRunId === a.pipelineRunId && e.type.startsWith('pipelinerun.'))).toBe(false);
    expect(await tracks.get(trackFromRequest({ provider: 'local', pipelineRun: a.pipelineRunId }, 'cli', 0).id)).toBeDefined();
  });

  it('a corrupt step record written whole again: one track.recovered, the run summarized; corrupt once more: a new track.error', async () => {
    const clock = new ManualClock(Date.now());
    const { deps, tracks } = setup(clock);
    const a = await execStep(local.store, { experiment: 'corrupt3', step: 'a', script: 'true', cwd: work });
    const track = trackFromRequest({ provider: 'local', pipelineRun: a.pipelineRunId }, 'cli', clock.now());
    await tracks.add(track);
    const b = await execStep(local.store, { experiment: 'corrupt3', step: 'b', script: 'true', cwd: work, pipelineRunId: a.pipelineRunId });
    const stepFile = path.join(local.store.stepDir(a.pipelineRunId, a.stepRunId), 'step.json');
    const text = await fs.readFile(stepFile, 'utf8');
    const poll = async () => {
      clock.advance(6000);
      await pollTrack(deps, track.id);
    };
    await fs.writeFile(stepFile, text.slice(0, 40));
    await poll();
    await poll();
    await fs.writeFile(stepFile, text); // the writer finishes its record
    await poll();
    await fs.writeFile(stepFile, text.slice(0, 40));
    await poll();
    const types = (await streamEvents()).filter((e) => e.type.startsWith('track.')).map((e) => e.type);
    // Without the recovery, the track's alert stayed open for good once the record was whole again.
    expect(types).toEqual(['track.error', 'track.recovered', 'track.error']);
    await fs.writeFile(stepFile, text);
    clock.advance(GRACE_MS);
    await poll();
    const events = await streamEvents();
    expect(events.filter((e) => e.type.startsWith('track.')).map((e) => e.type)).toEqual(['track.error', 'track.recovered', 'track.error', 'track.recovered']);
    expect(events.filter((e) => e.stepRun?.stepRunId === b.stepRunId).map((e) => e.type)).toEqual(['steprun.finished']);
    expect(events.filter((e) => e.type.startsWith('pipelinerun.')).map((e) => e.type)).toEqual(['pipelinerun.finished']);
  });

  it('a corrupt pipeline.json does not stop the discovery of the other runs', async () => {
    const clock = new ManualClock(Date.now());
    const { deps, tracks } = setup(clock);
    await tracks.add(trackFromRequest({ provider: 'local', experiment: 'corrupt2' }, 'cli', clock.now()));
    const a = await execStep(local.store, { experiment: 'corrupt2', step: 'a', script: 'true', cwd: work });
    await fs.writeFile(path.join(local.store.pipelineDir(a.pipelineRunId), 'pipeline.json'), '{"schema": 1, "pipel');
    const other = await execStep(local.store, { experiment: 'corrupt2', step: 'c', script: 'true', cwd: work });
    for (let i = 0; i < 3; i++) {
      clock.advance(6000);
      await pollDue(deps);
    }
    const events = await streamEvents();
    expect(events.filter((e) => e.pipelineRunId === other.pipelineRunId).map((e) => e.type)).toEqual(['steprun.finished', 'pipelinerun.finished']);
    const errors = events.filter((e) => e.type === 'track.error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.error!.message).toContain('pipeline.json');
  });
});

/** Waits until `n` step records of the experiment exist (read straight from the folders, no provider code). */
async function waitForSteps(experiment: string, n: number): Promise<void> {
  const stepRecords = async () => {
    let count = 0;
    for (const id of await local.store.pipelineIdsOf(experiment)) {
      const dir = path.join(local.store.pipelineDir(id), 'steps');
      for (const step of await fs.readdir(dir).catch(() => [])) if (await fs.stat(path.join(dir, step, 'step.json')).catch(() => undefined)) count++;
    }
    return count >= n;
  };
  await waitFor(stepRecords, { timeoutMs: 10_000, what: `${n} steps of ${experiment}` });
}

describe('track.error resolves', () => {
  it('a track that polls fine again after a track.error raises one track.recovered', async () => {
    const clock = new ManualClock(Date.now());
    const { deps, tracks } = setup(clock);
    const track = trackFromRequest({ provider: 'local', pipelineRun: 'appears_later' }, 'cli', clock.now());
    await tracks.add(track);
    await pollTrack(deps, track.id); // not found: one track.error at once
    await pollTrack(deps, track.id);
    await local.store.createPipeline({
      schema: 1,
      pipelineRunId: 'appears_later',
      experiment: 'late',
      createdTime: new Date().toISOString(),
      status: null,
      source: 'exec',
    });
    await pollTrack(deps, track.id);
    await pollTrack(deps, track.id);
    expect((await streamEvents()).map((e) => e.type)).toEqual(['track.error', 'track.recovered']);
  });

  it('a track in error whose run is found already over raises its track.recovered as it retires', async () => {
    const clock = new ManualClock(Date.now());
    const { deps, tracks } = setup(clock);
    const track = trackFromRequest({ provider: 'local', pipelineRun: 'over_when_found' }, 'cli', clock.now());
    await tracks.add(track);
    await pollTrack(deps, track.id); // not found: one track.error at once
    // Found again (an outage ends, a store comes back) with the run already finished: this poll retires the track.
    const at = new Date(clock.now() - 60_000).toISOString();
    await local.store.createPipeline({ schema: 1, pipelineRunId: 'over_when_found', experiment: 'late', createdTime: at, status: 'Finished', source: 'exec' });
    await local.store.writeStep({
      schema: 1,
      stepRunId: 'over_when_found_s1',
      pipelineRunId: 'over_when_found',
      experiment: 'late',
      nodeId: 'n1',
      name: 'train',
      status: 'Finished',
      rawStatus: 'Finished',
      createdTime: at,
      startTime: at,
      endTime: at,
      command: 'train',
      isReused: false,
      outputs: {},
    });
    const outcome = await pollTrack(deps, track.id);
    expect(outcome).toMatchObject({ kind: 'committed', retired: true });
    // Without its track.recovered, the track's alert would stay open (and repeat) for a track that no longer exists.
    expect((await streamEvents()).map((e) => e.type)).toEqual(['track.error', 'steprun.finished', 'pipelinerun.finished', 'track.recovered']);
    expect(await redis.exists(keys.track(track.id), keys.state(track.id))).toBe(0);
  });
});

describe('a Redis error is not the provider’s', () => {
  it('a commit that Redis refuses fails the poll job, and counts no provider failure', async () => {
    const clock = new ManualClock(Date.now());
    const { deps, tracks } = setup(clock);
    const r = await execStep(local.store, { experiment: 'redisfault', step: 'a', script: 'true', cwd: work });
    const track = trackFromRequest({ provider: 'local', pipelineRun: r.pipelineRunId }, 'cli', clock.now());
    await tracks.add(track);
    await redis.set(keys.events, 'not a stream'); // XADD in the commit script now fails (WRONGTYPE)
    await expect(pollTrack(deps, track.id)).rejects.toThrow(/WRONGTYPE/);
    expect(await redis.hget(keys.track(track.id), 'failures')).toBe('0');
    await redis.del(keys.events);
  });

  it('a failed read of the track is an error, not "the track is gone"', async () => {
    const clock = new ManualClock(Date.now());
    const { deps } = setup(clock);
    await redis.set(keys.state('tbroken'), 'x');
    await redis.hset(keys.track('tbroken'), 'json', JSON.stringify(trackFromRequest({ provider: 'local', pipelineRun: 'nope' }, 'cli', 0)));
    await expect(pollTrack(deps, 'tbroken')).rejects.toThrow(/WRONGTYPE/);
  });
});
