// Benchmark of the watcher on the local provider and the real Redis: checks/s, provider calls per tick, latency, memory, idle CPU.
// Usage: npm run bench:poll [-- --pipelines 1000 --steps 10 --window 10]
import { promises as fs, writeFileSync, mkdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { validateConfig } from '../src/config/load';
import { Daemon } from '../src/runtime/daemon';
import { createLogger } from '../src/util/logger';
import { Status } from '../src/model/status';
import { LocalProvider } from '../src/providers/local/provider';
import { Keys } from '../src/store/keys';
import { arg, dropPrefix, percentile, round, until } from './support';
import { seededStep } from '../test/support/seed-runs';
import { TrackStore, trackFromRequest } from '../src/store/tracks';
import { systemClock } from '../src/util/clock';
import { arrivals } from './latency-notifier';

const PIPELINES = arg('pipelines', 1000);
const STEPS = arg('steps', 10);
const WINDOW_S = arg('window', 10);
const FLIPS = Math.min(200, PIPELINES);
/** `--defaults`: the embedded poll defaults (tick 5 s, intervals 5-300 s), for the steady state users run. */
const DEFAULTS = process.argv.includes('--defaults');
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function seedStore(store: LocalProvider['store'], now: Date): Promise<string[]> {
  const ids: string[] = [];
  for (let p = 0; p < PIPELINES; p++) {
    const pipelineRunId = `bench_${p}`;
    ids.push(pipelineRunId);
    await store.createPipeline({ schema: 1, pipelineRunId, experiment: 'bench', createdTime: now.toISOString(), status: Status.Running, source: 'run' });
    await Promise.all(Array.from({ length: STEPS }, (_, s) => store.writeStep(seededStep('bench', pipelineRunId, s, Status.Running, now))));
  }
  return ids;
}

async function main(): Promise<void> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'srw-bench-'));
  const prefix = `bench_${process.pid}`;
  const keys = new Keys(prefix);
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const config = validateConfig(
    {
      redis: { url: REDIS_URL, prefix },
      poll: DEFAULTS ? {} : { tick: '* * * * * *', minIntervalSeconds: 1, maxIntervalSeconds: 5, concurrency: 8, batch: 5000 },
      notifiers: { bench: { type: 'module', module: path.join(__dirname, 'latency-notifier.js') } },
      routes: [{ match: {}, notify: ['bench'] }],
      delivery: { concurrency: 32 },
      log: { level: process.env.BENCH_LOG ?? 'error' },
    },
    { dataDir, env: {} },
  );
  const local = new LocalProvider({ root: path.join(dataDir, 'runs') });
  process.stderr.write(`seeding ${PIPELINES} pipeline runs x ${STEPS} steps...\n`);
  const ids = await seedStore(local.store, new Date());
  const memBefore = await usedMemory(redis);
  const tracks = new TrackStore(redis, keys, systemClock);
  for (const id of ids) await tracks.add(trackFromRequest({ provider: 'local', pipelineRun: id }, 'cli', Date.now()));

  let providerCalls = 0;
  const daemon = await Daemon.create({ config, logger: createLogger({ level: config.log.level, pretty: false }) });
  wrapProvider(daemon, () => providerCalls++);
  const started = Date.now();
  await daemon.start();
  const total = PIPELINES * STEPS;
  await until(() => arrivals.length >= total, 600000, 'first sight of every step');
  const firstRoundS = (Date.now() - started) / 1000;

  // Steady state: every step Running, nothing changes; count the provider calls and the steps they checked.
  const callsBefore = providerCalls;
  const steadyCpu0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
  const steadyCpu = process.cpuUsage(steadyCpu0);
  const steadyCalls = providerCalls - callsBefore;
  const rssMB = round(process.memoryUsage().rss / 1048576);
  const footprint = await keyFootprint(redis, prefix);
  const events = await redis.xlen(keys.events);

  // Latency: flip some steps to Finished at the provider and time their arrival.
  const before = arrivals.length;
  const flipAt = new Date();
  for (let i = 0; i < FLIPS; i++) await local.store.writeStep(seededStep('bench', ids[i]!, 0, Status.Finished, flipAt));
  await until(() => arrivals.length >= before + FLIPS, 120000, 'flipped steps');
  const latencies = arrivals.slice(before).map((a) => a.deliveredAt - (a.changedAt ?? flipAt.getTime()));
  // The naive loop runs in this process: measured after the latency, so its CPU does not delay the daemon's polls.
  const naive = await naiveWatcher(local, ids, 3);

  // Idle: finish everything, wait until every track retired, then measure CPU with nothing to do.
  const endAt = new Date();
  for (const id of ids) await Promise.all(Array.from({ length: STEPS }, (_, s) => local.store.writeStep(seededStep('bench', id, s, Status.Finished, endAt))));
  for (const id of ids)
    await local.store.writePipeline({
      schema: 1,
      pipelineRunId: id,
      experiment: 'bench',
      createdTime: endAt.toISOString(),
      status: Status.Finished,
      source: 'run',
    });
  await until(async () => (await redis.scard(keys.tracks)) === 0, 600000, 'every track retired');
  // Idle means idle: every event delivered too. Counted, not read off the stream's length: past events.maxLen the
  // stream is trimmed, and its length would say "all delivered" while thousands are still on their way.
  // First sight (total) + the flips + every other step Finished (total - FLIPS) + one pipeline event per run.
  await until(() => arrivals.length >= 2 * total + PIPELINES, 600000, 'every delivery');
  const cpu0 = process.cpuUsage();
  const idleCalls0 = providerCalls;
  await new Promise((r) => setTimeout(r, 5000));
  const cpu = process.cpuUsage(cpu0);
  const idleCpuPct = ((cpu.user + cpu.system) / 1000 / 5000) * 100;

  await daemon.stop();
  const results = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, node ${process.version}`,
    pipelines: PIPELINES,
    stepsPerPipeline: STEPS,
    trackedStepRuns: total,
    firstRoundSeconds: round(firstRoundS),
    stepChecksPerSecond: Math.round((steadyCalls * STEPS) / WINDOW_S),
    providerCallsPerTick: round(steadyCalls / WINDOW_S),
    watcherCpuMsPerTick: round((steadyCpu.user + steadyCpu.system) / 1000 / WINDOW_S),
    naiveCallsPerTick: naive.callsPerTick,
    naiveCpuMsPerTick: naive.cpuMsPerTick,
    callRatioNaiveToWatcher: round(naive.callsPerTick / Math.max(1, steadyCalls / WINDOW_S)),
    latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), samples: latencies.length },
    redisBytesPerTrackedStepRun: Math.round((footprint.track + footprint.state + footprint.due) / total),
    redisBytesPerRetainedEvent: Math.round(footprint.events / Math.max(1, events)),
    redisBytesPerDeliveryRecord: Math.round(footprint.delivery / Math.max(1, footprint.deliveryCount)),
    redisUsedMemoryDeltaMB: round((footprint.used - memBefore) / 1048576),
    daemonRssMB: rssMB,
    idleCpuPercent: round(idleCpuPct),
    idleProviderCalls: providerCalls - idleCalls0,
  };
  printTable(results);
  mkdirSync(path.join(__dirname, '../../bench/results'), { recursive: true });
  writeFileSync(path.join(__dirname, '../../bench/results/poll.json'), JSON.stringify(results, null, 2) + '\n');
  await dropPrefix(redis, prefix);
  redis.disconnect();
  await fs.rm(dataDir, { recursive: true, force: true });
}

/**
 * The naive watcher, measured in the same run: one status call per step run per tick, as loops over
 * `wait_for_completion` / `get_status()` do. Ticks are back to back; calls and CPU are per tick.
 */
async function naiveWatcher(provider: LocalProvider, pipelineIds: string[], ticks: number): Promise<{ callsPerTick: number; cpuMsPerTick: number }> {
  let calls = 0;
  const cpu0 = process.cpuUsage();
  for (let t = 0; t < ticks; t++) {
    for (const pipelineRunId of pipelineIds) {
      await Promise.all(
        Array.from({ length: STEPS }, (_, s) => provider.getStepRun({ stepRunId: `${pipelineRunId}_s${s}`, pipelineRunId }).then(() => calls++)),
      );
    }
  }
  const cpu = process.cpuUsage(cpu0);
  return { callsPerTick: Math.round(calls / ticks), cpuMsPerTick: round((cpu.user + cpu.system) / 1000 / ticks) };
}

/** Counts every call the daemon makes to the local provider. */
function wrapProvider(daemon: Daemon, count: () => void): void {
  const provider = daemon.providers.get('local')!;
  for (const method of ['getStepRun', 'listStepRuns', 'getPipelineRun', 'listPipelineRuns', 'readLog'] as const) {
    const original = provider[method].bind(provider) as (...a: unknown[]) => Promise<unknown>;
    (provider as unknown as Record<string, unknown>)[method] = (...a: unknown[]) => {
      count();
      return original(...a);
    };
  }
}

/** Bytes by kind of key (MEMORY USAGE of each key of the prefix). */
async function keyFootprint(redis: Redis, prefix: string) {
  const sums = { track: 0, state: 0, due: 0, events: 0, delivery: 0, deliveryCount: 0, other: 0, used: await usedMemory(redis) };
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `{${prefix}}*`, 'COUNT', 1000);
    const p = redis.pipeline();
    for (const k of keys) p.call('MEMORY', 'USAGE', k, 'SAMPLES', '0');
    const sizes = ((await p.exec()) ?? []).map(([, v]) => Number(v) || 0);
    keys.forEach((k, i) => {
      const kind = k.split(':')[1] ?? '';
      const size = sizes[i] ?? 0;
      if (kind === 'track' || kind === 'tracks') sums.track += size;
      else if (kind === 'state') sums.state += size;
      else if (kind === 'due') sums.due += size;
      else if (kind === 'events') sums.events += size;
      else if (kind === 'delivery') {
        sums.delivery += size;
        sums.deliveryCount++;
      } else sums.other += size;
    });
    cursor = next;
  } while (cursor !== '0');
  return sums;
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

function printTable(r: Record<string, unknown>): void {
  const rows = Object.entries(r).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]);
  const w = Math.max(...rows.map(([k]) => k!.length));
  process.stdout.write('\nsteprun-watch poll benchmark\n' + rows.map(([k, v]) => `  ${k!.padEnd(w)}  ${v}`).join('\n') + '\n');
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
