// The watcher core against a real Redis: atomic commits, no double polls, one track.error, experiment tracks.
import * as path from 'node:path';
import { Status } from '../../src/model/status';
import { LocalProvider } from '../../src/providers/local/provider';
import type { RunProvider } from '../../src/model/provider';
import { claimsAt, pollJobs, pollsOfJob } from '../../src/store/queues';
import { pollTrack } from '../../src/watch/poll';
import { pollBatch } from '../../src/watch/poll-batch';
import { Slots } from '../../src/util/slots';
import { seedRun } from '../support/seed-runs';
import { nextEvents } from '../../src/watch/state';
import { StateStore } from '../../src/store/state-store';
import { trackFromRequest } from '../../src/store/tracks';
import { execStep, runPipelineText } from '../support/local-runs';
import { promises as fs } from 'node:fs';
import { stepSnapshot, watcherRig } from '../support/watcher-rig';

const { redis, keys, dataDir, local, tracks, deps, streamEvents } = watcherRig('watcher');

const PIPE = `
experiment: wexp
steps:
  - { name: ok, run: 'echo fine' }
  - { name: bad, run: 'echo line1 >&2; echo "fatal: disk full" >&2; exit 2', needs: [ok] }
  - { name: after, run: 'echo never', needs: [bad] }
`;

describe('commit', () => {
  it('a replayed commit appends nothing: one event per transition however often it is committed', async () => {
    const track = trackFromRequest({ provider: 'local', pipelineRun: 'px' }, 'cli', Date.now());
    await tracks.add(track);
    const state = new StateStore(redis, keys);
    const step = stepSnapshot({ pipelineRunId: 'px', status: Status.Running });
    const transitions = nextEvents(track, {}, [step], Date.now());
    const results = await Promise.all([1, 2, 3, 4].map(() => state.commit(track, transitions, Date.now(), Date.now() + 1000)));
    expect(results.map((r) => r.appended).sort()).toEqual([0, 0, 0, 1]);
    expect(await redis.xlen(keys.events)).toBe(1);
  });
});

describe('poll', () => {
  it('one listStepRuns call per pipeline-run poll, events for every step, a pipeline event, then the track retires', async () => {
    const work = path.join(dataDir, 'w1');
    const result = await runPipelineText(local.store, PIPE, work);
    const calls: string[] = [];
    const counting: RunProvider = new Proxy(local, {
      get: (t, p) => {
        const v = Reflect.get(t, p);
        return typeof v === 'function'
          ? (...a: unknown[]) => {
              calls.push(String(p));
              return v.apply(t, a);
            }
          : v;
      },
    });
    const track = trackFromRequest({ provider: 'local', pipelineRun: result.pipelineRunId, labels: { env: 'test' } }, 'cli', Date.now());
    await tracks.add(track);
    const outcome = await pollTrack(deps(new Map([['local', counting]])), track.id);
    expect(outcome).toEqual({ kind: 'committed', appended: 4, conflicts: 0, retired: true });
    // One listing for all steps, the stderr tail of the failure, and the pipeline run itself once all is terminal.
    expect(calls.sort()).toEqual(['getPipelineRun', 'listStepRuns', 'readLog']);
    const events = await streamEvents();
    expect(events.map((e) => [e.type, e.stepRun?.name ?? null, e.stepRun?.previousStatus ?? null])).toEqual([
      ['steprun.finished', 'ok', null],
      ['steprun.failed', 'bad', null],
      ['steprun.canceled', 'after', null],
      ['pipelinerun.failed', null, null],
    ]);
    const failed = events[1]!;
    expect(failed.stderrTail).toBe('line1\nfatal: disk full');
    expect(failed.stepRun!.error).toEqual({ code: 'ExitCode2', message: 'exited with code 2' });
    expect(failed.labels).toEqual({ env: 'test' });
    expect(await tracks.get(track.id)).toBeUndefined();
    expect(await redis.zcard(keys.due('local'))).toBe(0);
  });

  it('a job of several polls reads them in one round trip, polls each track once, at most its slots at once, failing only after the rest', async () => {
    const at = new Date();
    const runs = ['pb0', 'pb1', 'pb2', 'pb3', 'pb4', 'pb5'];
    for (const id of runs) await seedRun(local.store, { experiment: 'pbx', pipelineRunId: id, steps: 2, status: Status.Running, at });
    const ids: string[] = [];
    for (const id of runs) {
      const t = trackFromRequest({ provider: 'local', pipelineRun: id }, 'cli', Date.now());
      await tracks.add(t);
      ids.push(t.id);
    }
    // The listing of pb3 finds its state hash replaced by a plain key: its commit fails with Redis's WRONGTYPE.
    let inFlight = 0;
    let most = 0;
    let pipelines = 0;
    let pipelinesBeforeListing: number | undefined;
    const slow: RunProvider = new Proxy(local, {
      get: (t, p) => {
        const v = Reflect.get(t, p) as unknown;
        if (p !== 'listStepRuns' || typeof v !== 'function') return v;
        return async (...a: [{ pipelineRunId: string }]) => {
          pipelinesBeforeListing ??= pipelines;
          most = Math.max(most, ++inFlight);
          await new Promise((r) => setTimeout(r, 30));
          if (a[0].pipelineRunId === 'pb3') await redis.set(keys.state(ids[3]!), 'not a hash');
          inFlight--;
          return (v as (...args: unknown[]) => Promise<unknown>).apply(t, a);
        };
      },
    });
    // Round trips before the first provider call: one pipeline reads every track of the job.
    const counted = new Proxy(redis, {
      get: (t, p) => {
        const v = Reflect.get(t, p) as unknown;
        if (p !== 'pipeline' || typeof v !== 'function') return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
        return (...a: unknown[]) => {
          pipelines++;
          return (v as (...args: unknown[]) => unknown).apply(t, a);
        };
      },
    });
    const outcomes: string[] = [];
    const batch = pollBatch({ ...deps(new Map([['local', slow]])), redis: counted }, claimsAt(ids, Date.now()), new Slots(2), (o) => outcomes.push(o.kind));
    await expect(batch).rejects.toThrow(/WRONGTYPE/);
    expect(most).toBe(2);
    expect(outcomes).toEqual(['committed', 'committed', 'committed', 'committed', 'committed']);
    const events = await streamEvents();
    expect(events.map((e) => e.pipelineRunId).sort()).toEqual(['pb0', 'pb0', 'pb1', 'pb1', 'pb2', 'pb2', 'pb4', 'pb4', 'pb5', 'pb5']);
    expect(pipelinesBeforeListing).toBe(1);
  });

  it(
    'each poll of a shared job runs at its own due time, never before: a track due later in the job is not polled early (polled early, tracks ' +
      'that followed others got more of a short request budget)',
    async () => {
      const at = new Date();
      await seedRun(local.store, { experiment: 'pdx', pipelineRunId: 'pd0', steps: 1, status: Status.Running, at });
      await seedRun(local.store, { experiment: 'pdx', pipelineRunId: 'pd1', steps: 1, status: Status.Running, at });
      const [a, b] = [
        trackFromRequest({ provider: 'local', pipelineRun: 'pd0' }, 'cli', Date.now()),
        trackFromRequest({ provider: 'local', pipelineRun: 'pd1' }, 'cli', Date.now()),
      ];
      await tracks.add(a!);
      await tracks.add(b!);
      const calledAt = new Map<string, number>();
      const timed: RunProvider = new Proxy(local, {
        get: (t, p) => {
          const v = Reflect.get(t, p) as unknown;
          if (p !== 'listStepRuns' || typeof v !== 'function') return v;
          return (...args: [{ pipelineRunId: string }]) => {
            calledAt.set(args[0].pipelineRunId, Date.now());
            return (v as (...x: unknown[]) => Promise<unknown>).apply(t, args);
          };
        },
      });
      const now = Date.now();
      const [job] = pollJobs(
        [
          { trackId: a!.id, dueAt: now },
          { trackId: b!.id, dueAt: now + 90 },
        ],
        now,
      );
      expect(pollsOfJob(job!.data)).toHaveLength(2);
      await pollBatch(deps(new Map([['local', timed]])), pollsOfJob(job!.data), new Slots(4), () => undefined);
      expect(calledAt.get('pd1')! - now).toBeGreaterThanOrEqual(90);
      expect(calledAt.get('pd0')! - now).toBeLessThan(90);
    },
  );

  it('two workers polling the same change at once emit each transition once', async () => {
    const work = path.join(dataDir, 'w2');
    await fs.mkdir(work, { recursive: true });
    const r = await execStep(local.store, { experiment: 'e2', step: 's', script: 'exit 0', cwd: work });
    const track = trackFromRequest({ provider: 'local', pipelineRun: r.pipelineRunId }, 'cli', Date.now());
    await tracks.add(track);
    await Promise.all(Array.from({ length: 6 }, () => pollTrack(deps(), track.id)));
    const events = await streamEvents();
    expect(events.filter((e) => e.type === 'steprun.finished')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'pipelinerun.finished')).toHaveLength(1);
  });

  it('an unknown run raises ONE track.error, not one per poll', async () => {
    const track = trackFromRequest({ provider: 'local', pipelineRun: 'does_not_exist' }, 'cli', Date.now());
    await tracks.add(track);
    for (let i = 0; i < 5; i++)
      expect(await pollTrack(deps(), track.id)).toMatchObject({ kind: 'failed', failures: i + 1, raised: i === 0, code: 'SRW_RUN_NOT_FOUND' });
    const events = await streamEvents();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'track.error', error: { code: 'SRW_RUN_NOT_FOUND', retryable: false } });
    // It stays tracked (the run may still appear), polled slowly.
    const next = Number(await redis.zscore(keys.due('local'), track.id));
    expect(next - Date.now()).toBeGreaterThan(500);
  });

  it('a provider outage backs off, raises one track.error after the threshold, and recovers', async () => {
    const brokenRoot = path.join(dataDir, 'not-a-dir');
    await fs.writeFile(brokenRoot, 'x');
    const broken = new LocalProvider({ root: brokenRoot });
    const track = trackFromRequest({ provider: 'local', pipelineRun: 'p_any' }, 'cli', Date.now());
    await tracks.add(track);
    const outcomes = [];
    for (let i = 0; i < 5; i++) outcomes.push(await pollTrack(deps(new Map([['local', broken]])), track.id));
    expect(outcomes.map((o) => (o.kind === 'failed' ? o.raised : null))).toEqual([false, false, true, false, false]);
    const delays = [];
    expect((await streamEvents()).filter((e) => e.type === 'track.error')).toHaveLength(1);
    delays.push(Number(await redis.zscore(keys.due('local'), track.id)) - Date.now());
    expect(delays[0]).toBeGreaterThan(300); // backed off beyond the 100 ms minimum
    // Another track on a healthy provider is not held up by it.
    const ok = await execStep(local.store, { experiment: 'e3', step: 's', script: 'exit 0', cwd: dataDir });
    const healthy = trackFromRequest({ provider: 'local', pipelineRun: ok.pipelineRunId }, 'cli', Date.now());
    await tracks.add(healthy);
    expect(await pollTrack(deps(), healthy.id)).toMatchObject({ kind: 'committed', appended: 2 });
  });

  it('an experiment track adds each new pipeline run once, also after that run retired', async () => {
    const track = trackFromRequest({ provider: 'local', experiment: 'expx', labels: { team: 'a' } }, 'cli', Date.now() - 1000);
    await tracks.add(track);
    expect(await pollTrack(deps(), track.id)).toEqual({ kind: 'tracked', added: 0 });
    const r = await execStep(local.store, { experiment: 'expx', step: 's', script: 'exit 0', cwd: dataDir });
    expect(await pollTrack(deps(), track.id)).toEqual({ kind: 'tracked', added: 1 });
    const child = (await tracks.list()).find((t) => t.pipelineRunId === r.pipelineRunId)!;
    expect(child).toMatchObject({ kind: 'pipeline', parent: track.id, labels: { team: 'a' }, source: 'experiment' });
    expect(await pollTrack(deps(), child.id)).toMatchObject({ retired: true });
    expect(await pollTrack(deps(), track.id)).toEqual({ kind: 'tracked', added: 0 });
    expect((await tracks.list()).map((t) => t.id)).toEqual([track.id]);
  });
});
