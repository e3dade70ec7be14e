// A short request budget shared by many tracks: every track gets its share of the polls (none starves), the budget
// is never overspent, and the shortfall is surfaced. Contract server; the budget counted in 1 s windows.
import { systemClock } from '../../../src/util/clock';
import type { Daemon } from '../../../src/runtime/daemon';
import { TrackStore, trackFromRequest } from '../../../src/store/tracks';
import { azureOptions, AzureMlServer, fixture } from '../../support/azureml-server';
import { startDaemon, testConfig } from '../../support/daemon';
import { dropPrefix, testRedis, uniquePrefix } from '../../support/redis';
import { tempDir } from '../../support/tmp';
import { timePasses } from '../../support/wait-for';

jest.setTimeout(90_000);

const RUNS = 20;
const PER_MINUTE = 600; // 10 a second: about 3 polls a second for 20 tracks that want 1 to 5 each
const server = new AzureMlServer();
const redis = testRedis();
const prefix = uniquePrefix('azbudget');
let daemon: Daemon;

const runIds = Array.from({ length: RUNS }, (_, i) => `budget_run_${i}`);

beforeAll(async () => {
  await server.start();
  for (const runId of runIds) {
    server.addRun({ ...fixture('pipeline-run'), runId });
    server.addRun({ ...fixture('step-running'), runId: `${runId}_step`, parentRunId: runId });
  }
  daemon = await startDaemon(
    testConfig({
      prefix,
      dataDir: tempDir('azbudget'),
      extra: {
        providers: { prod: azureOptions(server, { maxRequestsPerMinute: PER_MINUTE, budgetWindowSeconds: 1 }) },
        stuck: { enabled: false },
      },
    }),
  );
  const tracks = new TrackStore(redis, daemon.keys, systemClock);
  for (const runId of runIds) await tracks.add(trackFromRequest({ provider: 'prod', pipelineRun: runId, experiment: 'churn' }, 'cli', Date.now()));
});

afterAll(async () => {
  await daemon.stop();
  await server.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

it('20 tracks on a budget of 10 requests a second: each is polled its share, none starves, the budget holds', async () => {
  const start = server.requests.length;
  const t0 = Date.now();
  await timePasses(20_000, 'the budget is a rate: it is measured over a span of windows');
  const seconds = (Date.now() - t0) / 1000;
  const during = server.requests.slice(start);
  const pollsOf = (runId: string) => during.filter((r) => r.path.endsWith(`/runs/${runId}/children`)).length;
  const polls = runIds.map(pollsOf);
  // The budget holds: at most its share of each second (plus the one window the span may cut).
  expect(during.length).toBeLessThanOrEqual((PER_MINUTE / 60) * (Math.ceil(seconds) + 1));
  // It is spent, not left idle: at least 80 % of it.
  expect(during.length).toBeGreaterThanOrEqual(0.8 * (PER_MINUTE / 60) * seconds);
  // Fair: every track was polled, the most-polled at most twice the least.
  expect(Math.min(...polls)).toBeGreaterThanOrEqual(2);
  expect(Math.max(...polls)).toBeLessThanOrEqual(2 * Math.min(...polls));
  // The shortfall is surfaced: counted in /metrics (and warned in the log, once a minute).
  const metrics = await (await fetch(`${daemon.apiUrl}/metrics`)).text();
  const waits = Number(/^srw_provider_budget_waits_total\{provider="prod"\} (\d+)/m.exec(metrics)?.[1] ?? 0);
  expect(waits).toBeGreaterThan(0);
});
