// Change -> webhook latency at the embedded poll defaults, with change hints on and off: local runs (the run store's
// change feed) and Azure ML runs on the contract server (Event Grid bodies pushed to POST /hooks/eventgrid, or written
// to Azurite's queue). 40 pipeline runs x 3 Running steps; one step of each ended at a random moment within a minute;
// each change's webhook timed at a local receiver, and a trace of where its time went (change -> provider request ->
// commit -> delivery record -> receiver, p50 of each stage).
// Usage: npm run bench:latency [-- --runs 40 --window 60 --local|--azureml]
//   [-- --background 1000 ...]: latency under load instead (latency-load.ts)
import { promises as fs, mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { systemClock } from '../src/util/clock';
import { validateConfig } from '../src/config/load';
import { Daemon } from '../src/runtime/daemon';
import { createLogger } from '../src/util/logger';
import { Status } from '../src/model/status';
import { LocalProvider } from '../src/providers/local/provider';
import { QueueClient, StorageSharedKeyCredential } from '@azure/storage-queue';
import { azureOptions, AzureMlServer, fixture } from '../test/support/azureml-server';
import { Azurite, DEV_ACCOUNT, DEV_KEY } from '../test/support/azurite';
import { WebhookReceiver } from '../test/support/webhook-receiver';
import { nextPollDelayMs } from '../src/watch/scheduler';
import { TrackStore, trackFromRequest } from '../src/store/tracks';
import { DeliveryStore } from '../src/store/deliveries';
import { arg, dropPrefix, percentile, until } from './support';
import { latencyUnderLoad } from './latency-load';
import { stagesOf, type TracedChange } from './latency-trace';
import { seededStep, seedRun } from '../test/support/seed-runs';

const RUNS = arg('runs', 40);
const STEPS = 3;
const WINDOW_S = arg('window', 60);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** When each step's change arrived at the receiver, by `stepRunId|status` (the first arrival). */
function arrivalsOf(receiver: WebhookReceiver): Map<string, number> {
  const arrivals = new Map<string, number>();
  for (const r of receiver.received) {
    const step = (r.json as { data?: { stepRun?: { stepRunId: string; status: string } } } | undefined)?.data?.stepRun;
    const key = step && `${step.stepRunId}|${step.status}`;
    if (key && !arrivals.has(key)) arrivals.set(key, r.at);
  }
  return arrivals;
}

/** What differs between the measured setups: where the runs live, how a change is made, what the daemon is told. */
interface Scenario {
  name: string;
  /** Starts what the scenario's config points at (a contract server, an emulator). */
  start?(): Promise<void>;
  /** Config of the daemon beyond the embedded defaults (providers, hints, api). */
  config(): Record<string, unknown>;
  /** Makes the runs (all steps Running) and tracks them. */
  seed(redis: Redis, keys: Daemon['keys'], at: { dataDir: string; apiUrl?: string }): Promise<void>;
  /** Flips the first step of run `i` to its end state, at the provider and (where there is one) through its change feed. */
  flip(i: number): Promise<void>;
  /** Provider requests so far (where countable). */
  requests?(): number;
  /** When the provider was first asked about run `i` at or after `since` (where it is a server here). */
  askedAt?(i: number, since: number): number | undefined;
  close(): Promise<void>;
}

/** Scenarios measured so far in this run: each gets its own key prefix. */
let scenarioCount = 0;

async function measure(
  scenario: Scenario,
): Promise<{ p50: number; p99: number; max: number; samples: number; providerRequests?: number; trace: Record<string, number | undefined> }> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'srw-latency-'));
  const prefix = `latency_${process.pid}_${++scenarioCount}`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const receiver = new WebhookReceiver();
  const url = await receiver.start();
  await scenario.start?.();
  // The embedded defaults, but for the notifier, the scenario's providers and hints, and a quiet log.
  const config = validateConfig(
    {
      redis: { url: REDIS_URL, prefix },
      notifiers: { hook: { type: 'webhook', url } },
      routes: [{ match: { type: ['steprun.running', 'steprun.finished'] }, notify: ['hook'] }],
      log: { level: process.env.BENCH_LOG ?? 'error' },
      api: { enabled: false },
      ...scenario.config(),
    },
    { dataDir, env: {} },
  );
  const daemon = await Daemon.create({ config, logger: createLogger({ level: config.log.level, pretty: false }) });
  await daemon.start();
  await scenario.seed(redis, daemon.keys, { dataDir, apiUrl: daemon.apiUrl });
  await until(() => arrivalsOf(receiver).size >= RUNS * STEPS, 120_000, 'every Running step seen');

  // One step of each run flips to its end at a random moment within the window.
  const requests0 = scenario.requests?.() ?? 0;
  const flips = Array.from({ length: RUNS }, (_, i) => ({ i, atMs: Math.random() * WINDOW_S * 1000, changedAt: 0 }));
  const t0 = Date.now();
  await Promise.all(
    flips.map(async (f) => {
      await new Promise((r) => setTimeout(r, f.atMs));
      f.changedAt = Date.now();
      await scenario.flip(f.i);
    }),
  );
  const key = (i: number) => `${stepRunIdOf(scenario, i)}|${Status.Finished}`;
  await until(() => flips.every((f) => arrivalsOf(receiver).has(key(f.i))), 600_000, 'every flip delivered');
  const arrivals = arrivalsOf(receiver);
  const latencies = flips.map((f) => arrivals.get(key(f.i))! - f.changedAt);
  const trace = await traceOf(scenario, { redis, keys: daemon.keys, receiver, flips, key });
  const providerRequests = scenario.requests ? scenario.requests() - requests0 : undefined;
  process.stderr.write(`${scenario.name}: ${flips.length} changes in ${Math.round((Date.now() - t0) / 1000)} s\n`);

  await daemon.stop();
  await receiver.close();
  await scenario.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
  await fs.rm(dataDir, { recursive: true, force: true });
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies), samples: latencies.length, providerRequests, trace };
}

/** Where each flip's time went (latency-trace.ts), from what the receiver got for it and when the provider was asked. */
async function traceOf(
  scenario: Scenario,
  o: { redis: Redis; keys: Daemon['keys']; receiver: WebhookReceiver; flips: { i: number; changedAt: number }[]; key: (i: number) => string },
): Promise<Record<string, number | undefined>> {
  const changes = o.flips.map((f): TracedChange => {
    const received = o.receiver.received.find((r) => {
      const step = (r.json as { data?: { stepRun?: { stepRunId: string; status: string } } }).data?.stepRun;
      return step && `${step.stepRunId}|${step.status}` === o.key(f.i);
    });
    const event = (received?.json as { data?: { id: string; detectedAt: number } } | undefined)?.data;
    const arrival = received && event ? { at: received.at, eventId: event.id, detectedAt: event.detectedAt } : undefined;
    return { changedAt: f.changedAt, askedAt: scenario.askedAt?.(f.i, f.changedAt), arrival };
  });
  return stagesOf(changes, new DeliveryStore(o.redis, o.keys), 'hook');
}

function stepRunIdOf(scenario: Scenario, i: number): string {
  return scenario.name.startsWith('local') ? `lat_${i}_s0` : `az_${i}_s0`;
}

/** Local runs, found by one experiment track; the change feed is the run store's markers. */
function localScenario(hints: boolean): Scenario {
  let local: LocalProvider;
  return {
    name: `local, hints ${hints ? 'on' : 'off'}`,
    config: () => ({ poll: { hints: { enabled: hints } } }),
    async seed(redis, keys, { dataDir }) {
      local = new LocalProvider({ root: path.join(dataDir, 'runs') });
      await new TrackStore(redis, keys, systemClock).add(trackFromRequest({ provider: 'local', experiment: 'lat' }, 'cli', Date.now()));
      for (let r = 0; r < RUNS; r++) await seedRun(local.store, { experiment: 'lat', pipelineRunId: `lat_${r}`, steps: STEPS });
    },
    flip: (i) => local.store.writeStep(seededStep('lat', `lat_${i}`, 0, Status.Finished, new Date())),
    close: async () => undefined,
  };
}

const HOOK_SECRET = 'latency-bench-hook-secret-0123456789';

/** Azure ML runs on the contract server; Event Grid bodies pushed to the hook, written to Azurite's queue, or none. */
function azureScenario(feed: 'push' | 'queue' | 'off'): Scenario {
  const server = new AzureMlServer();
  const azurite = new Azurite('queue');
  let queue: QueueClient | undefined;
  let hookUrl = '';
  const event = (runId: string, pipelineRunId: string) => [
    {
      topic: '/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.MachineLearningServices/workspaces/ws-1',
      subject: `experiments/e1/runs/${runId}`,
      eventType: 'Microsoft.MachineLearningServices.RunStatusChanged',
      eventTime: new Date().toISOString(),
      id: `eg-${runId}`,
      data: { ExperimentName: 'churn', RunId: runId, RunType: 'azureml.StepRun', RunTags: { 'azureml.pipeline': pipelineRunId }, RunStatus: 'Completed' },
      dataVersion: '',
      metadataVersion: '1',
    },
  ];
  return {
    name: `azureml, ${feed === 'off' ? 'hints off' : feed === 'push' ? 'Event Grid push (POST /hooks/eventgrid)' : "Event Grid pull (Azurite's queue)"}`,
    config: () => ({
      providers: {
        prod: azureOptions(server, {
          maxRequestsPerMinute: 100_000,
          ...(queue ? { changeQueue: { url: azurite.queueUrl('hints'), accountKey: DEV_KEY } } : {}),
        }),
      },
      poll: { hints: { enabled: feed !== 'off' } },
      api: feed === 'push' ? { listen: '127.0.0.1:0', eventGrid: { provider: 'prod', secret: HOOK_SECRET } } : { enabled: false },
    }),
    async seed(redis, keys, { apiUrl }) {
      hookUrl = `${apiUrl}/hooks/eventgrid?secret=${HOOK_SECRET}`;
      const started = new Date().toISOString();
      server.pageSize = 100;
      for (let r = 0; r < RUNS; r++) {
        const id = `az_${r}`;
        server.addRun({ ...fixture('pipeline-run'), runId: id, rootRunId: id, name: id });
        for (let s = 0; s < STEPS; s++) {
          const stepId = `${id}_s${s}`;
          const step = { ...fixture('step-running'), runId: stepId, parentRunId: id, displayName: `step${s}`, startTimeUtc: started };
          server.addRun({ ...step, properties: { 'azureml.nodeid': `n${s}` }, tags: { 'azureml.nodeid': `n${s}`, 'azureml.pipeline': id } });
        }
        await new TrackStore(redis, keys, systemClock).add(trackFromRequest({ provider: 'prod', pipelineRun: id, experiment: 'churn' }, 'cli', Date.now()));
      }
    },
    async flip(i) {
      const runId = `az_${i}_s0`;
      server.runs.set(runId, { ...server.runs.get(runId)!, status: 'Completed', endTimeUtc: new Date().toISOString() });
      const body = event(runId, `az_${i}`);
      if (feed === 'push') {
        const res = await fetch(hookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        if (res.status !== 200) throw new Error(`hook answered ${res.status}`);
      } else if (feed === 'queue') {
        await queue!.sendMessage(Buffer.from(JSON.stringify(body[0])).toString('base64'));
      }
    },
    requests: () => server.requests.length,
    askedAt: (i, since) => server.requests.find((r) => r.at >= since && r.path.endsWith(`/runs/az_${i}/children`))?.at,
    async start() {
      await server.start();
      if (feed !== 'queue') return;
      await azurite.start();
      queue = new QueueClient(azurite.queueUrl('hints'), new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY));
      await queue.create();
    },
    async close() {
      await server.close();
      await azurite.stop();
    },
  };
}

/** Provider calls in an hour for one idle run (nothing changes), from the interval policy the poll applies. */
function idleCallsPerHour(pushed: boolean): number {
  const minMs = 5000;
  const maxMs = 300_000;
  let at = 0;
  let calls = 0;
  while (at < 3_600_000) {
    calls++;
    at += nextPollDelayMs({ minMs, maxMs, changed: false, lastChangeAt: 0, now: at, pushed });
  }
  return calls;
}

async function main(): Promise<void> {
  if (process.argv.includes('--background')) return latencyUnderLoad();
  const only = process.argv.includes('--local') ? 'local' : process.argv.includes('--azureml') ? 'azureml' : undefined;
  const scenarios = [
    ...(only !== 'azureml' ? [localScenario(true), localScenario(false)] : []),
    ...(only !== 'local' ? [azureScenario('push'), azureScenario('queue'), azureScenario('off')] : []),
  ];
  const measured: Record<string, Awaited<ReturnType<typeof measure>>> = {};
  for (const scenario of scenarios) measured[scenario.name] = await measure(scenario);
  const results = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, node ${process.version}`,
    setup:
      `${RUNS} pipeline runs x ${STEPS} Running steps, one step of each ended at a random moment within ${WINDOW_S} s; embedded poll ` +
      `defaults (tick 5 s, intervals 5-300 s); change -> webhook received, ms`,
    latencyMs: measured,
    idleRunProviderCallsPerHour: { hintsOff: idleCallsPerHour(false), hintsOnWhilePushed: idleCallsPerHour(true) },
  };
  process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  mkdirSync(path.join(__dirname, '../../bench/results'), { recursive: true });
  writeFileSync(path.join(__dirname, '../../bench/results/latency.json'), JSON.stringify(results, null, 2) + '\n');
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = 1;
});
