// Latency under load (`npm run bench:latency -- --background N`): 100 foreground changes with hints (the run store's
// change feed, on as by default) made at random moments within a window, first on a quiet daemon, then on the same
// daemon while a writer lands N changes a second in the background; 100,000 tracked step runs (10,000 local
// pipeline runs of 10 Running steps, one track each), every change a webhook to this process. The daemon runs as
// its own process (as deployed), the background writer as another. Printed: p50/p99 of both, the trace of where the
// foreground's time went (latency-trace.ts), and the background's delivered rate.
// Usage: npm run bench:latency -- --background 1000 [--step-runs 100000 --foreground 100 --window 60 --per-run 1|3|9]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, promises as fs, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { Status } from '../src/model/status';
import { RunStore } from '../src/providers/local/store';
import { DeliveryStore } from '../src/store/deliveries';
import { Keys } from '../src/store/keys';
import { TrackStore, trackFromRequest } from '../src/store/tracks';
import { systemClock } from '../src/util/clock';
import { seededStep, seedRun } from '../test/support/seed-runs';
import { Arrivals } from './arrivals';
import { stagesOf } from './latency-trace';
import { arg, dropPrefix, percentile, round, until } from './support';

const BACKGROUND = arg('background', 1000);
const STEP_RUNS = arg('step-runs', 100_000);
const FOREGROUND = arg('foreground', 100);
const WINDOW_S = arg('window', 60);
/** Background changes written to a run at once (1, 3 or 9): 1 is a poll per change, 9 a poll per 9 changes. */
const PER_RUN = arg('per-run', 1);
const STEPS = 10;
/** The background writes to steps 0-8 of every run; the foreground ends step 9 of 100 of them (other runs each phase). */
const BACKGROUND_STEPS = STEPS - 1;
/** The background flows this long before the foreground's window opens. */
const LEAD_S = 10;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CLI = path.join(__dirname, '../src/cli/main.js');
const EXPERIMENT = 'load';

interface Foreground {
  /** Polls a second the daemon made over the phase (its srw_polls_total). */
  pollsPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  trace: Record<string, number | undefined>;
}

export async function latencyUnderLoad(): Promise<void> {
  const pipelines = STEP_RUNS / STEPS;
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'srw-latency-load-'));
  const root = path.join(dataDir, 'runs');
  const prefix = `latency_load_${process.pid}`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const keys = new Keys(prefix);
  const arrivals = new Arrivals();
  const url = await arrivals.start();
  const store = new RunStore(root);
  process.stderr.write(`seeding ${pipelines} pipeline runs x ${STEPS} Running steps, one track each...\n`);
  const t = new Date();
  const tracks = new TrackStore(redis, keys, systemClock);
  for (let p = 0; p < pipelines; p++) {
    await seedRun(store, { experiment: EXPERIMENT, pipelineRunId: runId(p), steps: STEPS, status: Status.Running, at: t });
    await tracks.add(trackFromRequest({ provider: 'local', pipelineRun: runId(p) }, 'cli', Date.now()));
  }
  const api = `127.0.0.1:${await freePort()}`;
  const daemon = startDaemon(dataDir, prefix, url, api);
  await until(() => arrivals.count('steprun.running') >= STEP_RUNS, 1_800_000, 'every first sight');
  process.stderr.write(`first round delivered; quiet: ${FOREGROUND} changes within ${WINDOW_S} s...\n`);
  const deliveries = new DeliveryStore(redis, keys);
  const phase = { store, arrivals, deliveries, pipelines, api };
  const quiet = await foreground(phase, 0);

  process.stderr.write(`loaded: ${BACKGROUND} changes/s in the background, and ${FOREGROUND} changes within ${WINDOW_S} s...\n`);
  const posted0 = arrivals.posted;
  const t0 = Date.now();
  const writer = spawnWriter(root, pipelines, WINDOW_S + LEAD_S + 5);
  await new Promise((r) => setTimeout(r, LEAD_S * 1000));
  const loaded = await foreground(phase, 1);
  const written = await writer;
  const backgroundSeconds = (Date.now() - t0) / 1000;
  const delivered = arrivals.posted - posted0;

  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  await arrivals.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
  await fs.rm(dataDir, { recursive: true, force: true });
  report({ quiet, loaded, background: { written, perSecondDelivered: Math.round(delivered / backgroundSeconds) } });
}

const runId = (p: number) => `load_${p}`;

function startDaemon(dataDir: string, prefix: string, url: string, api: string): ChildProcess {
  const configFile = path.join(dataDir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      redis: { url: REDIS_URL, prefix },
      notifiers: { hook: { type: 'webhook', url } },
      routes: [{ match: { type: 'steprun.*' }, notify: ['hook'] }],
      log: { level: process.env.BENCH_LOG ?? 'warn' },
      api: { listen: api },
    }),
  );
  // BENCH_DAEMON_NODE_OPTIONS: Node options for the daemon alone (e.g. --cpu-prof --cpu-prof-dir=DIR to profile it).
  const env = { ...process.env, NODE_OPTIONS: process.env.BENCH_DAEMON_NODE_OPTIONS ?? process.env.NODE_OPTIONS };
  return spawn(process.execPath, [CLI, 'daemon', '--config', configFile, '--data-dir', dataDir], { stdio: ['ignore', 'ignore', 'inherit'], env });
}

/** Ends step 9 of FOREGROUND runs (every 2nd, offset by `phase`) at random moments within the window; their latencies. */
async function foreground(
  { store, arrivals, deliveries, pipelines, api }: { store: RunStore; arrivals: Arrivals; deliveries: DeliveryStore; pipelines: number; api: string },
  phase: number,
): Promise<Foreground> {
  const polls0 = await pollsSoFar(api);
  const t0 = Date.now();
  const stride = Math.floor(pipelines / FOREGROUND);
  const flips = Array.from({ length: FOREGROUND }, (_, i) => ({ p: i * stride + phase, atMs: Math.random() * WINDOW_S * 1000, changedAt: 0 }));
  const key = (p: number) => `${runId(p)}_s${STEPS - 1} steprun.finished`;
  await Promise.all(
    flips.map(async (f) => {
      await new Promise((r) => setTimeout(r, f.atMs));
      f.changedAt = Date.now();
      await store.writeStep(seededStep(EXPERIMENT, runId(f.p), STEPS - 1, Status.Finished, new Date()));
    }),
  );
  await until(() => flips.every((f) => arrivals.at.has(key(f.p))), 600_000, 'every foreground change delivered');
  const latencies = flips.map((f) => arrivals.at.get(key(f.p))!.at - f.changedAt);
  const trace = await stagesOf(
    flips.map((f) => ({ changedAt: f.changedAt, arrival: arrivals.at.get(key(f.p)) })),
    deliveries,
    'hook',
    [50, 99],
  );
  const pollsPerSecond = Math.round(((await pollsSoFar(api)) - polls0) / ((Date.now() - t0) / 1000));
  return { pollsPerSecond, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies), trace };
}

/** Polls made so far, every provider and outcome (the daemon's /metrics). */
async function pollsSoFar(api: string): Promise<number> {
  const text = await (await fetch(`http://${api}/metrics`)).text();
  return [...text.matchAll(/^srw_polls_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

/** A port free on this host now (the daemon's API listens there). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** The background writer as a child process for `seconds`; resolves to the changes it wrote. */
function spawnWriter(root: string, pipelines: number, seconds: number): Promise<number> {
  const args = ['--writer', root, String(pipelines), String(BACKGROUND), String(seconds), String(PER_RUN)];
  const c = spawn(process.execPath, [__filename, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  c.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) =>
    c.once('exit', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`background writer exited ${code}`)))),
  );
}

/**
 * The child: `rate` changes a second for `seconds`, `perRun` steps of a run at a time, run after run (a run is written
 * again every pipelines x perRun / rate seconds), each step turning Queued then Running; prints the changes written.
 */
async function writer(root: string, pipelines: number, rate: number, seconds: number, perRun: number): Promise<void> {
  const store = new RunStore(root);
  const t0 = Date.now();
  let written = 0;
  while (Date.now() - t0 < seconds * 1000) {
    const due = Math.floor(((Date.now() - t0) / 1000) * rate);
    const batch = Array.from({ length: Math.max(0, due - written) }, (_, k) => written + k);
    await Promise.all(
      batch.map((n) => {
        // The n-th change: its write (perRun changes each), that write's place in a pass over every run and step.
        const write = Math.floor(n / perRun);
        const slots = (pipelines * BACKGROUND_STEPS) / perRun;
        const slot = write % slots;
        const step = Math.floor(slot / pipelines) * perRun + (n % perRun);
        const status = Math.floor(write / slots) % 2 === 0 ? Status.Queued : Status.Running;
        return store.writeStep(seededStep(EXPERIMENT, runId(slot % pipelines), step, status, new Date()));
      }),
    );
    written += batch.length;
    await new Promise((r) => setTimeout(r, 20));
  }
  process.stdout.write(`${written}\n`);
}

function report(r: { quiet: Foreground; loaded: Foreground; background: { written: number; perSecondDelivered: number } }): void {
  const results = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, node ${process.version}`,
    setup:
      `${STEP_RUNS} tracked step runs (${STEP_RUNS / STEPS} local pipeline runs x ${STEPS}, one track each), embedded defaults (hints on); ` +
      `${FOREGROUND} foreground changes within ${WINDOW_S} s, quiet then with ${BACKGROUND} changes/s in the background ` +
      `(${PER_RUN} step(s) of a run per write); change -> webhook, ms`,
    ...r,
    loadedP99OverQuietP99: round(r.loaded.p99 / r.quiet.p99),
  };
  process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  mkdirSync(path.join(__dirname, '../../bench/results'), { recursive: true });
  writeFileSync(path.join(__dirname, '../../bench/results/latency-load.json'), JSON.stringify(results, null, 2) + '\n');
}

if (require.main === module && process.argv.includes('--writer')) {
  const [root, pipelines, rate, seconds, perRun] = process.argv.slice(process.argv.indexOf('--writer') + 1);
  writer(root!, Number(pipelines), Number(rate), Number(seconds), Number(perRun)).catch((err) => {
    process.stderr.write(`writer failed: ${(err as Error).stack}\n`);
    process.exitCode = 1;
  });
}
