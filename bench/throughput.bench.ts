// Saturation throughput, side by side in one run and one process:
//   bare:   a BullMQ worker (concurrency 32) POSTing each of N jobs to a local webhook receiver — the least a
//           "one job per delivery" design costs;
//   daemon: P local pipeline runs x 10 steps found by one experiment track, each change delivered to the same
//           receiver (tick 1 s, intervals 1-2 s, other settings default), in a burst and live (see daemonRun).
// Prints the rates, the ratio daemon (burst) / bare, and the duplicates the receiver saw (by delivery id).
// Usage: npm run bench:throughput [-- --pipelines 2000 --steps 10] [-- --profile FILE.cpuprofile]
//   --profile records a CPU profile of this process for the burst phase only (open it in Chrome DevTools).
import { spawn } from 'node:child_process';
import { mkdirSync, promises as fs, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { systemClock } from '../src/util/clock';
import { validateConfig } from '../src/config/load';
import { Daemon } from '../src/runtime/daemon';
import { createLogger } from '../src/util/logger';
import { Status, type StepStatus } from '../src/model/status';
import { LocalProvider } from '../src/providers/local/provider';
import { Keys } from '../src/store/keys';
import { TrackStore, trackFromRequest } from '../src/store/tracks';
import { arg, dropPrefix, round, seededStep, seedRun, until } from './support';

const PIPELINES = arg('pipelines', 2000);
const STEPS = arg('steps', 10);
const CHANGES = PIPELINES * STEPS;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A webhook receiver: counts deliveries by id (a repeat is a duplicate) and the Running ones per step. */
class Receiver {
  readonly seen = new Set<string>();
  duplicates = 0;
  lastAt = 0;
  private server?: http.Server;

  async start(): Promise<string> {
    // Keep-alive on both sides, as a real receiver would.
    this.server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
      req.resume();
      req.on('end', () => {
        const id = String(req.headers['webhook-id'] ?? req.headers['x-job-id']);
        if (this.seen.has(id)) this.duplicates++;
        else this.seen.add(id);
        this.lastAt = Date.now();
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  reset(): void {
    this.seen.clear();
    this.duplicates = 0;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}

/** The bare baseline: N jobs, one worker with concurrency 32, each job one POST. */
async function bare(receiver: Receiver, url: string): Promise<{ perSecond: number; seconds: number; duplicates: number }> {
  const prefix = `{tput_bare_${process.pid}}`;
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('bare', { connection, prefix });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const post = (id: string) =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'x-job-id': id } }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('error', reject);
      req.end(JSON.stringify({ id, type: 'bench' }));
    });
  const worker = new Worker('bare', (job) => post(job.id!), { connection, prefix, concurrency: 32 });
  receiver.reset();
  const t0 = Date.now();
  for (let i = 0; i < CHANGES; i += 1000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1000, CHANGES - i) }, (_, k) => ({ name: 'post', data: {}, opts: { jobId: `j${i + k}`, removeOnComplete: true } })),
    );
  }
  await until(() => receiver.seen.size >= CHANGES, 600_000, 'every bare job posted');
  const seconds = (receiver.lastAt - t0) / 1000;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  agent.destroy();
  connection.disconnect();
  return { perSecond: Math.round(CHANGES / seconds), seconds: round(seconds), duplicates: receiver.duplicates };
}

interface Phase {
  perSecond: number;
  seconds: number;
  duplicates: number;
  /** This process (daemon, receiver) and the Redis server, in cores over the phase. */
  cores: { node: number; redis: number };
}

/**
 * The daemon, in three phases on the same 2,000 x 10 step runs found by one experiment track:
 *   discovery: the track finds every run and announces every Queued step;
 *   burst:     with the daemon stopped, every step is flipped to Running (the changes are all on disk, as after a
 *              restart or an outage); the clock starts when the daemon is created and stops at the last delivery.
 *              This is the daemon's own cost per change, the figure compared with bare BullMQ;
 *   live:      with the daemon running, another process flips every step to Finished while the daemon follows
 *              (end to end, the writer's cost on the same 2 cores included).
 */
async function daemonRun(receiver: Receiver, url: string): Promise<{ firstSightSeconds: number; burst: Phase; live: Phase & { flipSeconds: number } }> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'srw-tput-'));
  const prefix = `tput_${process.pid}`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const config = validateConfig(
    {
      redis: { url: REDIS_URL, prefix },
      poll: { tick: '* * * * * *', minIntervalSeconds: 1, maxIntervalSeconds: 2 },
      notifiers: { hook: { type: 'webhook', url } },
      routes: [{ match: { type: 'steprun.*' }, notify: ['hook'] }],
      log: { level: process.env.BENCH_LOG ?? 'error' },
      api: { enabled: false },
    },
    { dataDir, env: {} },
  );
  const createDaemon = () => Daemon.create({ config, logger: createLogger({ level: config.log.level, pretty: false }) });
  const local = new LocalProvider({ root: path.join(dataDir, 'runs') });
  const runs = path.join(dataDir, 'runs');
  const ids = Array.from({ length: PIPELINES }, (_, p) => `tput_${p}`);
  const t = new Date();
  process.stderr.write(`seeding ${PIPELINES} pipeline runs x ${STEPS} Queued steps...\n`);
  for (const id of ids) await seedRun(local.store, { experiment: 'tput', pipelineRunId: id, steps: STEPS, status: Status.Queued, at: t });
  let daemon = await createDaemon();
  await daemon.start();
  receiver.reset();
  const seedStart = Date.now();
  await new TrackStore(redis, daemon.keys, systemClock).add(trackFromRequest({ provider: 'local', experiment: 'tput', since: 0 }, 'cli', Date.now()));
  await until(() => receiver.seen.size >= CHANGES, 600_000, 'first sight of every step');
  const firstSightSeconds = round((Date.now() - seedStart) / 1000);
  await daemon.stop();

  process.stderr.write(`burst: ${CHANGES} steps flipped to Running while the daemon is stopped, then the daemon...\n`);
  await flipInChild(runs, Status.Running);
  receiver.reset();
  const burst = await measure(
    receiver,
    redis,
    async () => {
      daemon = await createDaemon();
      await daemon.start();
    },
    { profile: true },
  );

  process.stderr.write(`live: ${CHANGES} steps flipped to Finished by another process while the daemon follows...\n`);
  receiver.reset();
  let flipSeconds = 0;
  const live = await measure(receiver, redis, async () => {
    const t0 = Date.now();
    await flipInChild(runs, Status.Finished);
    flipSeconds = round((Date.now() - t0) / 1000);
  });
  await daemon.stop();
  await dropPrefix(redis, prefix);
  redis.disconnect();
  await fs.rm(dataDir, { recursive: true, force: true });
  return { firstSightSeconds, burst, live: { ...live, flipSeconds } };
}

/** Runs `start`, then waits for every change at the receiver; the rate and the cores used from `start` to the last one. */
async function measure(receiver: Receiver, redis: Redis, start: () => Promise<void>, o: { profile?: boolean } = {}): Promise<Phase> {
  if (process.argv.includes('--commands')) await redis.config('RESETSTAT');
  const redisCpu0 = await redisCpuSeconds(redis);
  const cpu0 = process.cpuUsage();
  const profiler = o.profile ? await startProfile() : undefined;
  const t0 = Date.now();
  const timeline = process.argv.includes('--timeline') ? traceTimeline(receiver, redis, t0) : undefined;
  await start();
  await until(() => receiver.seen.size >= CHANGES, 600_000, 'every change delivered');
  timeline?.stop();
  const seconds = (receiver.lastAt - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await profiler?.stop();
  if (process.argv.includes('--commands')) await printCommands(redis);
  const cores = { node: round((cpu.user + cpu.system) / 1e6 / seconds), redis: round(((await redisCpuSeconds(redis)) - redisCpu0) / seconds) };
  return { perSecond: Math.round(CHANGES / seconds), seconds: round(seconds), duplicates: receiver.duplicates, cores };
}

/** With --timeline: every 250 ms, on stderr, the events appended to the outbox so far and the deliveries received. */
function traceTimeline(receiver: Receiver, redis: Redis, t0: number): { stop(): void } {
  const events = new Keys(`tput_${process.pid}`).events;
  const base = redis.xlen(events);
  const timer = setInterval(() => {
    void Promise.all([base, redis.xlen(events)]).then(([b, n]) =>
      process.stderr.write(`${((Date.now() - t0) / 1000).toFixed(2)} s  appended ${n - b}  delivered ${receiver.seen.size}\n`),
    );
  }, 250);
  return { stop: () => clearInterval(timer) };
}

/** Flips every step to `status` from a child process (this file, run with --flip ROOT STATUS). */
function flipInChild(root: string, status: StepStatus): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, '--flip', root, status, '--pipelines', String(PIPELINES), '--steps', String(STEPS)], {
      stdio: 'inherit',
    });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`flipping exited ${code}`))));
  });
}

async function flip(root: string, status: StepStatus): Promise<void> {
  const local = new LocalProvider({ root });
  const at = new Date();
  const ids = Array.from({ length: PIPELINES }, (_, p) => `tput_${p}`);
  for (let i = 0; i < ids.length; i += 100) {
    await Promise.all(
      ids.slice(i, i + 100).flatMap((id) => Array.from({ length: STEPS }, (_, s) => local.store.writeStep(seededStep('tput', id, s, status, at)))),
    );
  }
}

/** With `--profile FILE`, a CPU profile of this process from now until `stop()` (written to FILE). */
async function startProfile(): Promise<{ stop(): Promise<void> } | undefined> {
  const i = process.argv.indexOf('--profile');
  if (i < 0) return undefined;
  const file = process.argv[i + 1]!;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

/** With --commands: the Redis commands of the phase, per change, most first (INFO commandstats). */
async function printCommands(redis: Redis): Promise<void> {
  const stats = [...(await redis.info('commandstats')).matchAll(/^cmdstat_([\w|]+):calls=(\d+),usec=(\d+)/gm)];
  const rows = stats.map(([, name, calls, usec]) => ({ name, perChange: Number(calls) / CHANGES, usecPerChange: Number(usec) / CHANGES }));
  rows.sort((a, b) => b.perChange - a.perChange);
  for (const r of rows.slice(0, 25))
    process.stderr.write(`${r.name!.padEnd(28)} ${r.perChange.toFixed(3).padStart(8)} calls/change ${r.usecPerChange.toFixed(1).padStart(7)} µs/change\n`);
}

/** CPU seconds the Redis server has used (INFO cpu). */
async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  return Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? 0) + Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? 0);
}

async function main(): Promise<void> {
  const receiver = new Receiver();
  const url = await receiver.start();
  process.stderr.write(`bare BullMQ + POST, ${CHANGES} jobs...\n`);
  const b = await bare(receiver, url);
  const d = await daemonRun(receiver, url);
  await receiver.close();
  const results = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, node ${process.version}`,
    changes: CHANGES,
    setup: `${PIPELINES} local pipeline runs x ${STEPS} steps, one experiment track, webhook receiver; tick 1 s, intervals 1-2 s, other settings default`,
    bare: b,
    daemon: d,
    // The daemon's own cost per change (burst) against the bare baseline; live adds the writer on the same cores.
    ratio: round(d.burst.perSecond / b.perSecond),
    liveRatio: round(d.live.perSecond / b.perSecond),
  };
  process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  mkdirSync(path.join(__dirname, '../../bench/results'), { recursive: true });
  writeFileSync(path.join(__dirname, '../../bench/results/throughput.json'), JSON.stringify(results, null, 2) + '\n');
}

const flipRoot = process.argv.indexOf('--flip');
(flipRoot > 0 ? flip(process.argv[flipRoot + 1]!, process.argv[flipRoot + 2] as StepStatus) : main()).catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exitCode = 1;
});
