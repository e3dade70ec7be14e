// Change hints make polls happen now, and never make, lose or duplicate an alert on their own.
import * as path from 'node:path';
import { systemClock } from '../../src/util/clock';
import type { Daemon } from '../../src/runtime/daemon';
import { createLogger } from '../../src/util/logger';
import { Status } from '../../src/model/status';
import { LocalProvider } from '../../src/providers/local/provider';
import { pollQueue, pollsOfJob, type PollQueue } from '../../src/store/queues';
import { Keys } from '../../src/store/keys';
import { HintRouter } from '../../src/watch/hints';
import { TrackStore, trackFromRequest } from '../../src/store/tracks';
import { seedRun } from '../support/seed-runs';
import { startDaemon, testConfig } from '../support/daemon';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';
import { waitFor } from '../support/wait-for';
import { WebhookReceiver } from '../support/webhook-receiver';

const redis = testRedis();
const receiver = new WebhookReceiver();
let url: string;

beforeAll(async () => {
  url = await receiver.start();
});
afterAll(async () => {
  await receiver.close();
  redis.disconnect();
});

/** A daemon whose own polling would take an hour to look again: whatever arrives sooner came through a hint. */
function slowPollingConfig(prefix: string, dataDir: string, hints: Record<string, unknown> = {}) {
  return testConfig({
    prefix,
    dataDir,
    extra: {
      poll: { tick: '* * * * * *', minIntervalSeconds: 3600, maxIntervalSeconds: 3600, hints },
      notifiers: { hook: { type: 'webhook', url } },
      routes: [{ match: {}, notify: ['hook'] }],
    },
  });
}

function stepEvents(stepRunId: string): string[] {
  return receiver.received
    .map((r) => r.json as { type?: string; data?: { stepRun?: { stepRunId?: string; status?: string } } })
    .filter((e) => e.data?.stepRun?.stepRunId === stepRunId)
    .map((e) => e.data!.stepRun!.status!);
}

describe('local change feed', () => {
  let daemon: Daemon | undefined;
  afterEach(async () => {
    await daemon?.stop();
    daemon = undefined;
  });

  it("a step's change is polled at once: with an hour between polls, it still arrives", async () => {
    const prefix = uniquePrefix('hints');
    const dataDir = tempDir('hints');
    const local = new LocalProvider({ root: path.join(dataDir, 'runs') });
    const [step] = await seedRun(local.store, { experiment: 'hx', pipelineRunId: 'h1' });
    daemon = await startDaemon(slowPollingConfig(prefix, dataDir));
    await new TrackStore(redis, daemon.keys, systemClock).add(trackFromRequest({ provider: 'local', pipelineRun: 'h1' }, 'cli', Date.now()));
    await waitFor(() => stepEvents(step!.stepRunId).includes('Running'), { what: 'the first poll' });

    await local.store.writeStep({ ...step!, status: Status.Failed, rawStatus: 'Failed', endTime: new Date().toISOString() });
    await waitFor(() => stepEvents(step!.stepRunId).includes('Failed'), { what: 'the hinted poll' });
    expect(stepEvents(step!.stepRunId)).toEqual(['Running', 'Failed']);
    await dropPrefix(redis, prefix);
  });

  it('a new run of a tracked experiment is found at once, and its steps too', async () => {
    const prefix = uniquePrefix('hints');
    const dataDir = tempDir('hints');
    const local = new LocalProvider({ root: path.join(dataDir, 'runs') });
    daemon = await startDaemon(slowPollingConfig(prefix, dataDir));
    await new TrackStore(redis, daemon.keys, systemClock).add(trackFromRequest({ provider: 'local', experiment: 'hy' }, 'cli', Date.now() - 1000));
    // The experiment's first poll (it lists nothing yet) is done before the run appears.
    await waitFor(
      async () => (await redis.hget(daemon!.keys.track(trackFromRequest({ provider: 'local', experiment: 'hy' }, 'cli', 0).id), 'cursor')) !== null,
      { what: 'first poll' },
    );
    const [step] = await seedRun(local.store, { experiment: 'hy', pipelineRunId: 'h2' });
    await waitFor(() => stepEvents(step!.stepRunId).includes('Running'), { what: 'the new run found through hints' });
    // One transition, once: the hinted poll of the experiment added the run's track, whose poll saw the step.
    expect(stepEvents(step!.stepRunId)).toEqual(['Running']);
    await dropPrefix(redis, prefix);
  });
});

const DEBOUNCE_MS = 1000;

/** A prefix of the describe's own, its local poll queue (emptied after), and routers over them (debounce 1 s). */
function routerRig(name: string) {
  const prefix = uniquePrefix(name);
  const keys = new Keys(prefix);
  let queue: PollQueue;
  beforeAll(() => {
    queue = pollQueue(redis, keys, 'local');
  });
  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    await dropPrefix(redis, prefix);
  });
  return {
    keys,
    queue: () => queue,
    router: () =>
      new HintRouter({
        redis,
        keys,
        queues: new Map([['local', queue]]),
        clock: systemClock,
        settings: { debounceMs: DEBOUNCE_MS, minGapMs: 60_000, leaseMs: 60_000, pushedForMs: 600_000 },
        logger: createLogger({ level: 'silent', pretty: false }),
      }),
  };
}

describe('hint router', () => {
  const { keys, queue, router } = routerRig('hintrouter');

  it(
    'a burst of hints for one run (within the debounce) is one poll, and the next is a min gap later; a hint for an untracked run is nothing; ' +
      'the provider is marked pushed',
    async () => {
      const track = trackFromRequest({ provider: 'local', pipelineRun: 'b1' }, 'cli', Date.now());
      await new TrackStore(redis, keys, systemClock).add(track);
      const results = await Promise.all(Array.from({ length: 20 }, () => router().hint({ provider: 'local', experiment: 'bx', pipelineRunId: 'b1' })));
      expect(results.flat()).toEqual([track.id]);
      expect(await router().hint({ provider: 'local', experiment: 'nobody', pipelineRunId: 'nothing' })).toEqual([]);
      expect(await queue().getJobCountByTypes('waiting', 'delayed', 'prioritized')).toBe(1);
      expect(await redis.exists(keys.pushed('local'))).toBe(1);
      const [job] = await queue().getJobs(['delayed']);
      expect(job!.opts.delay).toBeGreaterThan(900);
    },
  );

  it('a hint that could only reach the experiment track (the run had no track yet) does not hold back the run track found since', async () => {
    // A new run's first writes are hinted to its experiment track, whose poll adds the run's own track; the run's
    // next writes (its steps failing) must reach that track, not wait for the experiment's hinted poll to pass (a
    // pushed provider polls a changed run track again only at the max interval: such a change went unseen for 5 min).
    const tracks = new TrackStore(redis, keys, systemClock);
    const experiment = trackFromRequest({ provider: 'local', experiment: 'fresh' }, 'cli', Date.now());
    await tracks.add(experiment);
    const r = router();
    expect(await r.hint({ provider: 'local', experiment: 'fresh', pipelineRunId: 'fresh_1' })).toEqual([experiment.id]);
    const runTrack = trackFromRequest({ provider: 'local', experiment: 'fresh', pipelineRun: 'fresh_1' }, 'experiment', Date.now(), experiment.id);
    await tracks.add(runTrack);
    expect(await r.hint({ provider: 'local', experiment: 'fresh', pipelineRunId: 'fresh_1' })).toEqual([runTrack.id]);
  });
});

describe('hint router, many runs at once', () => {
  const { keys, queue, router: newRouter } = routerRig('hintgather');

  it('hints for many runs arriving together are gathered: their polls share jobs, each poll due a debounce after its hint', async () => {
    // At 1,000 hinted runs a second a job per hinted poll was most of what a hinted poll cost (BullMQ's four scripts a job).
    const router = newRouter();
    const tracks = new TrackStore(redis, keys, systemClock);
    const runs = Array.from({ length: 40 }, (_, i) => trackFromRequest({ provider: 'local', pipelineRun: `many_${i}` }, 'cli', Date.now()));
    for (const track of runs) await tracks.add(track);

    const before = Date.now();
    const polled = await Promise.all(runs.map((_, i) => router.hint({ provider: 'local', experiment: 'many', pipelineRunId: `many_${i}` })));
    const after = Date.now();

    expect(polled).toEqual(runs.map((track) => [track.id]));
    const jobs = await queue().getJobs(['delayed', 'waiting']);
    expect(jobs.map((job) => pollsOfJob(job.data).length).sort((a, b) => b - a)).toEqual([16, 16, 8]);
    const polls = jobs.flatMap((job) => pollsOfJob(job.data));
    expect(new Set(polls.map((p) => p.trackId))).toEqual(new Set(runs.map((track) => track.id)));
    for (const p of polls) {
      expect(p.dueAt).toBeGreaterThanOrEqual(before + DEBOUNCE_MS);
      expect(p.dueAt).toBeLessThanOrEqual(after + DEBOUNCE_MS);
    }
  });
});
