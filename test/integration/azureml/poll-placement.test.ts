// Poll placement through the real poll job: an Azure ML pipeline run (contract server) on a request budget, whose
// running step has learned durations in Redis, gets its next poll where that step usually ends; an unmetered provider,
// or a step not learned enough, keeps the back-off.
import { systemClock } from '../../../src/util/clock';
import { AzureMlProvider } from '../../../src/providers/azureml/provider';
import { parseAzureMlOptions } from '../../../src/providers/azureml/options';
import { Keys } from '../../../src/store/keys';
import { TrackStore, trackFromRequest } from '../../../src/store/tracks';
import { RedisBudget } from '../../../src/watch/budget';
import { pollTrack } from '../../../src/watch/poll';
import { StuckWatch } from '../../../src/watch/stuck';
import { azureOptions, AzureMlServer, fixture } from '../../support/azureml-server';
import { pollDeps } from '../../support/poll';
import { dropPrefix, testRedis, uniquePrefix } from '../../support/redis';

const server = new AzureMlServer();
const redis = testRedis();
const prefix = uniquePrefix('placement');
const keys = new Keys(prefix);
const MIN_MS = 5_000;
const MAX_MS = 300_000;
const minutes = (m: number) => m * 60_000;
const stuckSettings = { enabled: true, minDurationMs: 60_000, factor: 3, maxDurationMs: 86_400_000, minSamples: 5, maxQueuedMs: 86_400_000 };

beforeAll(async () => server.start());
beforeEach(() => {
  server.runs.clear();
  server.addRun(fixture('pipeline-run'));
});
afterAll(async () => {
  await server.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

/** A track of pipeline_run_1 whose one step, "evaluate", has run `runningFor`; polled twice (the second sees no change). */
async function nextPollAfterQuietPoll(o: { runningFor: number; learned: number[]; metered: boolean }): Promise<number> {
  await dropPrefix(redis, prefix);
  server.addRun({ ...fixture('step-running'), startTimeUtc: new Date(Date.now() - o.runningFor).toISOString() });
  const budget = new RedisBudget(() => redis, keys, 'prod', { perMinute: 600 }, systemClock);
  const provider = new AzureMlProvider(parseAzureMlOptions(azureOptions(server, { timeoutMs: 5000 }), 'prod'), o.metered ? budget : undefined);
  // Learned as the stuck watch learns it: under the experiment the run's listing names (the track's).
  if (o.learned.length) await redis.lpush(keys.durations('prod', 'churn', 'evaluate'), ...o.learned);
  const deps = {
    ...pollDeps(redis, keys, new Map([['prod', provider]]), { minMs: MIN_MS, maxMs: MAX_MS, placeAfterSamples: 5 }),
    stuck: new StuckWatch(redis, keys, stuckSettings),
  };
  const track = trackFromRequest({ provider: 'prod', pipelineRun: 'pipeline_run_1', experiment: 'churn' }, 'cli', Date.now());
  await new TrackStore(redis, keys, systemClock).add(track);
  await pollTrack(deps, track.id); // the step is seen Running: a change, polled again at the min
  const before = Date.now();
  await pollTrack(deps, track.id);
  return Number(await redis.zscore(keys.due('prod'), track.id)) - before;
}

const FORTY = [38, 39, 40, 41, 42].map(minutes);

describe('poll placement on a metered provider', () => {
  it('a step 2 minutes into its usual 40 is next polled after the max interval (the back-off would poll in 5 s)', async () => {
    const delay = await nextPollAfterQuietPoll({ runningFor: minutes(2), learned: FORTY, metered: true });
    expect(delay).toBeGreaterThan(MAX_MS - 2_000);
    expect(delay).toBeLessThanOrEqual(MAX_MS + 1_000);
  });

  it('a step 39 minutes into its usual 40 is polled within the learned range’s twentieth (36 s)', async () => {
    // The back-off would wait until the min here too (its last change was the poll before): a step 39 minutes into
    // its usual 40 seen running for the first time is polled at the learned range's density, not pushed out.
    const delay = await nextPollAfterQuietPoll({ runningFor: minutes(39), learned: FORTY, metered: true });
    expect(delay).toBeGreaterThanOrEqual(MIN_MS - 2_000);
    expect(delay).toBeLessThanOrEqual(minutes(12) / 20);
    expect(delay).toBeLessThan(await nextPollAfterQuietPoll({ runningFor: minutes(20), learned: FORTY, metered: true }));
  });

  it('an unmetered provider, or a step with fewer than stuck.minSamples learned runs, keeps the back-off', async () => {
    expect(await nextPollAfterQuietPoll({ runningFor: minutes(2), learned: FORTY, metered: false })).toBeLessThanOrEqual(MIN_MS + 1_000);
    expect(await nextPollAfterQuietPoll({ runningFor: minutes(2), learned: FORTY.slice(0, 4), metered: true })).toBeLessThanOrEqual(MIN_MS + 1_000);
  });
});
