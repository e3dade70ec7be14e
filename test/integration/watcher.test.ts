// The watcher core against a real Redis: atomic commits, no double polls, one track.error, reclaimed events.
import { Scripts } from '../../src/store/scripts';
import { waitFor } from '../support/wait-for';
import { validateConfig } from '../../src/config/load';
import { alertPolicyOf } from '../../src/alerts/policy';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { systemClock } from '../../src/util/clock';
import { createLogger } from '../../src/util/logger';
import { Status, type StepStatus } from '../../src/model/status';
import { DeliveryStore } from '../../src/store/deliveries';
import { deliverJob } from '../../src/notify/deliver/deliver';
import { Dispatcher } from '../../src/notify/dispatch/dispatch';
import { LocalProvider } from '../../src/providers/local/provider';
import type { RunProvider, StepRunSnapshot } from '../../src/model/provider';
import { claimsAt, pollJobs, pollQueue, pollsOfJob } from '../../src/store/queues';
import type { WatchEvent } from '../../src/store/events';
import { DISPATCH_GROUP, Keys } from '../../src/store/keys';
import { pollTrack, type PollDeps } from '../../src/watch/poll';
import { pollBatch } from '../../src/watch/poll-batch';
import { Slots } from '../../src/util/slots';
import { seedRun } from '../support/seed-runs';
import { Scheduler } from '../../src/watch/scheduler';
import { nextEvents } from '../../src/watch/state';
import { StateStore } from '../../src/store/state-store';
import { TrackStore, trackFromRequest } from '../../src/store/tracks';
import { execStep, runPipelineText } from '../support/local-runs';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';

const logger = createLogger({ level: 'silent', pretty: false });
const redis = testRedis();
const prefix = uniquePrefix('watcher');
const keys = new Keys(prefix);
const dataDir = tempDir('watcher');
const local = new LocalProvider({ root: path.join(dataDir, 'runs') });
const tracks = new TrackStore(redis, keys, systemClock);

function deps(providers: Map<string, RunProvider> = new Map([['local', local]])): PollDeps {
  return {
    redis,
    keys,
    scripts: new Scripts(redis, keys),
    providers,
    clock: systemClock,
    logger,
    settings: { minMs: 100, maxMs: 1000, errorAfterFailures: 3, stderrTailLines: 5, openRunGraceMs: 0 },
  };
}

/** A step as a provider reports it: `s1` named `a` of experiment `e`, with the given fields. */
function stepSnapshot(o: Partial<StepRunSnapshot> & { pipelineRunId: string; status: StepStatus }): StepRunSnapshot {
  return { stepRunId: 's1', experiment: 'e', nodeId: 'n', name: 'a', rawStatus: o.status, isReused: false, outputNames: [], logNames: [], ...o };
}

/** A dispatcher on the test prefix routing every event to the given notifiers (default: one, `a`). */
function testDispatcher(blocking: Redis, deliverQueue: Queue, o: { notify?: string[]; consumer: string; reclaimIdleMs: number; maxLen?: number }): Dispatcher {
  const { notify = ['a'], ...rest } = o;
  const routes = validateConfig({ routes: [{ match: {}, notify }] }, { env: {} }).routes;
  return new Dispatcher({
    blocking,
    redis,
    keys,
    policy: alertPolicyOf({ notifiers: {}, routes }),
    deliverQueue,
    deliveries: new DeliveryStore(redis, keys),
    clock: systemClock,
    logger,
    blockMs: 100,
    ...rest,
  });
}

async function streamEvents(): Promise<WatchEvent[]> {
  return (await redis.xrange(keys.events, '-', '+')).map(([, f]) => JSON.parse(f[1]!) as WatchEvent);
}

afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

beforeEach(async () => {
  await dropPrefix(redis, prefix);
});

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

  it(
    'a job of several polls reads them in one round trip, polls each track once, never more at once than its slots, and fails only after the ' + 'others ended',
    async () => {
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
    },
  );

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

describe('scheduler', () => {
  it('two schedulers ticking at once enqueue each due track once', async () => {
    const queue = pollQueue(redis, keys, 'local');
    try {
      for (let i = 0; i < 50; i++) await tracks.add(trackFromRequest({ provider: 'local', pipelineRun: `p${i}` }, 'cli', Date.now()));
      const make = () => new Scheduler({ redis, keys, queues: new Map([['local', queue]]), clock: systemClock, batch: 1000, leaseMs: 60000, logger });
      const [a, b] = await Promise.all([make().tick(), make().tick()]);
      expect(a + b).toBe(50);
      const queued = (await queue.getJobs(['waiting'])).flatMap((j) => pollsOfJob(j.data).map((c) => c.trackId));
      expect(queued).toHaveLength(50);
      expect(new Set(queued).size).toBe(50);
      // Still leased: a third tick finds nothing due.
      expect(await make().tick()).toBe(0);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('a tick claims only due tracks: its cost follows the number due, not the number tracked', async () => {
    const queue = pollQueue(redis, keys, 'local');
    try {
      for (let i = 0; i < 20; i++) await tracks.add(trackFromRequest({ provider: 'local', pipelineRun: `q${i}` }, 'cli', Date.now()));
      const ids = (await tracks.list()).map((t) => t.id).slice(0, 15);
      for (const id of ids) await redis.zadd(keys.due('local'), Date.now() + 60000, id);
      const s = new Scheduler({ redis, keys, queues: new Map([['local', queue]]), clock: systemClock, batch: 1000, leaseMs: 60000, logger });
      expect(await s.tick()).toBe(5);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
  it('issue 13: a tick also claims the tracks due before the next tick, each as a poll delayed to its exact due time', async () => {
    const queue = pollQueue(redis, keys, 'local');
    try {
      const now = Date.now();
      const dueIn = [0, 1200, 3900, 4500, 9000];
      for (const [i, ms] of dueIn.entries()) {
        const t = trackFromRequest({ provider: 'local', pipelineRun: `la${i}` }, 'cli', now);
        await tracks.add(t);
        await redis.zadd(keys.due('local'), now + ms, t.id);
      }
      const s = new Scheduler({ redis, keys, queues: new Map([['local', queue]]), clock: { now: () => now }, batch: 1000, leaseMs: 60000, logger });
      // The next tick is 5 s away: everything due before it is claimed now, not left to wait for that tick.
      expect(await s.tick(5000)).toBe(4);
      const delays = (await queue.getJobs(['waiting', 'delayed'])).map((j) => j.opts.delay ?? 0).sort((a, b) => a - b);
      expect(delays).toEqual([0, 1200, 3900, 4500]);
      // A claimed track is leased from its due time: the next tick does not claim it again.
      expect(await s.tick(5000)).toBe(0);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('a started scheduler ticks at once: after a restart, what is due is polled now, not at the first cron tick', async () => {
    const queue = pollQueue(redis, keys, 'local');
    // A tick that never comes during the test (midnight on January 1st).
    const s = new Scheduler({ redis, keys, queues: new Map([['local', queue]]), clock: systemClock, batch: 1000, leaseMs: 60000, logger });
    try {
      await tracks.add(trackFromRequest({ provider: 'local', pipelineRun: 'restarted' }, 'cli', Date.now()));
      s.start('0 0 0 1 1 *');
      await waitFor(async () => (await queue.getJobCountByTypes('waiting', 'delayed')) > 0, { timeoutMs: 2000, what: 'the start-up claim' });
      expect(await queue.getJobCountByTypes('waiting', 'delayed')).toBe(1);
    } finally {
      await s.stop();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('a track claimed while its last poll job is still finishing gets a poll of its own, not one dropped as a duplicate', async () => {
    // A poll commits the track's next due time, then its job still runs a little (stuck notes, recovery) before it
    // completes: a tick in that gap claims the track. Its add must not be a no-op on the finishing job's id, or the
    // track waits out its whole lease (90 s at the defaults) with no poll at all.
    const queue = pollQueue(redis, keys, 'local');
    const connection = redis.duplicate();
    const worker = new Worker(queue.name, null, { connection, prefix: keys.bullPrefix, autorun: false });
    try {
      const t = trackFromRequest({ provider: 'local', pipelineRun: 'finishing' }, 'cli', Date.now());
      await tracks.add(t);
      const [first] = pollJobs([{ trackId: t.id, dueAt: Date.now() }], Date.now());
      await queue.add(first!.name, first!.data, first!.opts);
      const active = (await worker.getNextJob('tok'))!;
      expect(pollsOfJob(active.data).map((c) => c.trackId)).toEqual([t.id]);
      await redis.zadd(keys.due('local'), Date.now() + 5, t.id); // the commit's next due time
      const s = new Scheduler({ redis, keys, queues: new Map([['local', queue]]), clock: systemClock, batch: 1000, leaseMs: 60000, logger });
      expect(await s.tick(1000)).toBe(1);
      await active.moveToCompleted('done', 'tok', false);
      const pending = await queue.getJobs(['waiting', 'delayed']);
      expect(pending.flatMap((j) => pollsOfJob(j.data).map((c) => c.trackId))).toEqual([t.id]);
    } finally {
      await worker.close();
      connection.disconnect();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});

describe('dispatch and delivery', () => {
  it('an entry that is not an event is kept in the dead-letter stream and logged, not acknowledged silently', async () => {
    const blocking = redis.duplicate();
    const deliverQ = new Queue('deliver', { connection: redis, prefix: keys.bullPrefix });
    try {
      await redis.xgroup('CREATE', keys.events, DISPATCH_GROUP, '0', 'MKSTREAM');
      await redis.xadd(keys.events, '*', 'event', '{"id": "e1", "type": tru');
      const d = testDispatcher(blocking, deliverQ, { consumer: 'c1', reclaimIdleMs: 100 });
      expect(await d.step()).toBe(1);
      const dead = await redis.xrange(keys.deadEvents, '-', '+');
      expect(dead.map(([, f]) => f)).toEqual([['event', '{"id": "e1", "type": tru']]);
      expect(((await redis.xpending(keys.events, DISPATCH_GROUP)) as [number])[0]).toBe(0);
      expect(await deliverQ.getJobCountByTypes('waiting')).toBe(0);
    } finally {
      blocking.disconnect();
      await deliverQ.close();
    }
  });

  it('events left pending by a dead dispatcher are reclaimed and fanned out once per notifier', async () => {
    const blocking = redis.duplicate();
    const deliverQ = new Queue('deliver', { connection: redis, prefix: keys.bullPrefix });
    try {
      const track = trackFromRequest({ provider: 'local', pipelineRun: 'pz' }, 'cli', Date.now());
      await tracks.add(track);
      const step = stepSnapshot({ pipelineRunId: 'pz', status: Status.Failed });
      await new StateStore(redis, keys).commit(track, nextEvents(track, {}, [step], Date.now()), Date.now(), Date.now() + 1000);
      await redis.xgroup('CREATE', keys.events, DISPATCH_GROUP, '0', 'MKSTREAM');
      // A dispatcher reads the event and dies before acknowledging it.
      await redis.xreadgroup('GROUP', DISPATCH_GROUP, 'dead-one', 'COUNT', 10, 'STREAMS', keys.events, '>');
      const deliveries = new DeliveryStore(redis, keys);
      const d = testDispatcher(blocking, deliverQ, { notify: ['a', 'b'], consumer: 'alive', reclaimIdleMs: 100 });
      await new Promise((r) => setTimeout(r, 150));
      expect(await d.step()).toBe(1);
      expect(await d.step()).toBe(0);
      expect(await deliverQ.getJobCountByTypes('waiting')).toBe(2);
      const pending = (await redis.xpending(keys.events, DISPATCH_GROUP)) as [number];
      expect(pending[0]).toBe(0);
      expect((await deliveries.list()).map((r) => r.notifier).sort()).toEqual(['a', 'b']);
    } finally {
      await deliverQ.obliterate({ force: true });
      await deliverQ.close();
      blocking.disconnect();
    }
  });

  it('a burst larger than events.maxLen loses nothing: the outbox is trimmed only behind the dispatcher', async () => {
    const blocking = redis.duplicate();
    const deliverQ = new Queue('deliver', { connection: redis, prefix: keys.bullPrefix });
    const maxLen = 100;
    try {
      const track = trackFromRequest({ provider: 'local', pipelineRun: 'burst' }, 'cli', Date.now());
      await tracks.add(track);
      const steps = Array.from({ length: 1000 }, (_, i) =>
        stepSnapshot({ stepRunId: `s${i}`, nodeId: `n${i}`, name: `step${i}`, pipelineRunId: 'burst', status: Status.Failed }),
      );
      // 1,000 events appended before any dispatcher reads (it was down, or slow): ten times the stream's length.
      await new StateStore(redis, keys).commit(track, nextEvents(track, {}, steps, Date.now()), Date.now(), Date.now() + 1000);
      const d = testDispatcher(blocking, deliverQ, { consumer: 'c1', reclaimIdleMs: 60000, maxLen });
      await d.ensureGroup();
      while ((await d.step()) > 0);
      expect(await redis.zcard(keys.deliveries)).toBe(1000);
      // Once fanned out, the stream is cut back to about maxLen (whole macro nodes: approximately, never below).
      const left = await redis.xlen(keys.events);
      expect(left).toBeGreaterThanOrEqual(maxLen);
      expect(left).toBeLessThanOrEqual(2 * maxLen);
    } finally {
      await deliverQ.obliterate({ force: true });
      await deliverQ.close();
      blocking.disconnect();
    }
  });

  it('a delivery already marked delivered is not sent again', async () => {
    const deliveries = new DeliveryStore(redis, keys);
    const sent: string[] = [];
    const notifier = { type: 't', name: 'n', deliver: async (e: WatchEvent) => void sent.push(e.id) };
    const event = { id: 'ev1', type: 'steprun.finished' } as WatchEvent;
    await deliveries.ensureMany([{ id: 'ev1-n', eventId: 'ev1', notifier: 'n', eventType: event.type, summary: 's' }], Date.now());
    const job = { data: { deliveryId: 'ev1-n', notifier: 'n', event }, attemptsMade: 0, opts: { attempts: 3 } } as never;
    const d = { notifiers: new Map([['n', notifier]]), deliveries, clock: systemClock, logger };
    expect(await deliverJob(d, job, new AbortController().signal)).toBe('delivered');
    expect(await deliverJob(d, job, new AbortController().signal)).toBe('already-delivered');
    expect(sent).toEqual(['ev1']);
    expect(await deliveries.get('ev1-n')).toMatchObject({ status: 'delivered', attempts: 1 });
  });
});
