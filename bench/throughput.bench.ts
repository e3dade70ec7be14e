// Saturation throughput, side by side in one run and one process, in two modes, each beside its bare baseline:
//   burst: every change is on disk before the clock starts (a restart, an outage): the daemon, created when the clock
//          starts, against a bare BullMQ worker (concurrency 32) POSTing jobs queued beforehand;
//   live:  the daemon running, polling without change hints (tick 1 s, every track every 1 s), while a child process
//          writes the changes, against the same writer queueing a bare job for each record it writes.
// P local pipeline runs x S steps, found by one experiment track; every change is a webhook to a local receiver
// that counts deliveries by id (a repeat is a duplicate). Rounds alternate bare and daemon so that both see the same
// machine; every round is reported, and the median ratio.
// Usage: npm run bench:throughput [-- --pipelines 2000 --steps 10 --rounds 3] [-- --profile burst|live FILE.cpuprofile|FILE.heapprofile]
//   [-- --timeline] (appended, the dispatcher's lag, delivered: every 250 ms) [-- --commands] (Redis commands per change)
//   [-- --deliver-threads N] (workers.deliverThreads; default: the config's default, auto)
//   [-- --phases burst|live] (one mode only: a quicker loop while profiling; the ratios printed are that mode's)
import { spawnSync } from 'node:child_process';
import { mkdirSync, promises as fs, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { validateConfig } from '../src/config/load';
import { Status, type StepStatus } from '../src/model/status';
import { LocalProvider } from '../src/providers/local/provider';
import { Daemon } from '../src/runtime/daemon';
import { TrackStore, trackFromRequest } from '../src/store/tracks';
import { systemClock } from '../src/util/clock';
import { createLogger } from '../src/util/logger';
import { arg, dropPrefix, round, until } from './support';
import { seededStep, seedRun } from '../test/support/seed-runs';
import { BARE_QUEUE, bareBurst, bareLive, barePrefix, child, Receiver, type Rate } from './throughput-bare';
import { idleCores, measure, type Phase } from './throughput-measure';

const PIPELINES = arg('pipelines', 2000);
const STEPS = arg('steps', 10);
const ROUNDS = arg('rounds', 3);
const PHASES = process.argv.includes('--phases') ? [process.argv[process.argv.indexOf('--phases') + 1]] : ['burst', 'live'];
const CHANGES = PIPELINES * STEPS;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The tracked runs, and an untracked copy the bare writer flips. */
const TRACKED = 'tput';
const UNTRACKED = 'tputbare';

interface BurstRound {
  bare: Rate;
  daemon: Phase;
  ratio: number;
}
interface LiveRound extends BurstRound {
  idle: { node: number; redis: number };
}
interface Round {
  burst?: BurstRound;
  live?: LiveRound;
}

async function main(): Promise<void> {
  const receiver = new Receiver();
  const url = await receiver.start();
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'srw-tput-'));
  const runs = path.join(dataDir, 'runs');
  const prefix = `tput_${process.pid}`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const config = validateConfig(
    {
      redis: { url: REDIS_URL, prefix },
      poll: { tick: '* * * * * *', minIntervalSeconds: 1, maxIntervalSeconds: 1, hints: { enabled: false } },
      notifiers: { hook: { type: 'webhook', url } },
      routes: [{ match: { type: 'steprun.*' }, notify: ['hook'] }],
      log: { level: process.env.BENCH_LOG ?? 'error' },
      api: { enabled: false },
      ...(process.argv.includes('--deliver-threads') ? { workers: { deliverThreads: arg('deliver-threads', 0) } } : {}),
    },
    { dataDir, env: {} },
  );
  const createDaemon = () => Daemon.create({ config, logger: createLogger({ level: config.log.level, pretty: false }) });

  const local = new LocalProvider({ root: runs });
  process.stderr.write(`seeding 2 x ${PIPELINES} pipeline runs x ${STEPS} Queued steps...\n`);
  const t = new Date();
  for (let p = 0; p < PIPELINES; p++) {
    await seedRun(local.store, { experiment: TRACKED, pipelineRunId: `${TRACKED}_${p}`, steps: STEPS, status: Status.Queued, at: t });
    await seedRun(local.store, { experiment: UNTRACKED, pipelineRunId: `${UNTRACKED}_${p}`, steps: STEPS, status: Status.Queued, at: t });
  }
  let daemon = await createDaemon();
  await daemon.start();
  receiver.reset();
  const t0 = Date.now();
  await new TrackStore(redis, daemon.keys, systemClock).add(trackFromRequest({ provider: 'local', experiment: TRACKED, since: 0 }, 'cli', Date.now()));
  await until(() => receiver.seen.size >= CHANGES, 600_000, 'first sight of every step');
  const firstSightSeconds = round((Date.now() - t0) / 1000);
  await daemon.stop();
  // Bare posts what the daemon posted (a step event as a CloudEvent): the same bytes in its jobs and on the wire.
  const body = receiver.sample!;
  const bodyFile = path.join(dataDir, 'body.json');
  writeFileSync(bodyFile, body);

  const burst = async (status: StepStatus): Promise<BurstRound> => {
    await settleDisk();
    const bare = await bareBurst(receiver, url, REDIS_URL, CHANGES, body);
    await flipInChild(runs, TRACKED, status);
    await settleDisk();
    receiver.reset();
    const measured = await measure(receiver, redis, prefix, CHANGES, 'burst', async () => {
      daemon = await createDaemon();
      await daemon.start();
    });
    await daemon.stop();
    return { bare, daemon: measured, ratio: round(measured.perSecond / bare.perSecond) };
  };
  const live = async (status: StepStatus): Promise<LiveRound> => {
    await settleDisk();
    const bare = await bareLive(receiver, url, REDIS_URL, CHANGES, () => flipInChild(runs, UNTRACKED, status, { enqueue: bodyFile }));
    daemon = await createDaemon();
    await daemon.start();
    // Running and idle, past its start (the first polls after a start read every record: ~1.5 s here), nothing left
    // to deliver; then what polling alone costs.
    await new Promise((res) => setTimeout(res, 3000));
    const idle = await idleCores(redis, 2000);
    await settleDisk();
    receiver.reset();
    const measured = await measure(receiver, redis, prefix, CHANGES, 'live', () => flipInChild(runs, TRACKED, status));
    await daemon.stop();
    return { bare, daemon: measured, ratio: round(measured.perSecond / bare.perSecond), idle };
  };

  // Every daemon phase flips every step: Running, then back to Queued (the seeded status), and so on, whichever phases run.
  let flips = 0;
  const nextStatus = () => (flips++ % 2 === 0 ? Status.Running : Status.Queued);
  const rounds: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const round_: Round = {};
    if (PHASES.includes('burst')) {
      process.stderr.write(`round ${r + 1}: burst (bare, then the daemon started on ${CHANGES} changes on disk)...\n`);
      const b = await burst(nextStatus());
      round_.burst = b;
      const cpu = Math.round(((b.daemon.cores.node * b.daemon.seconds) / CHANGES) * 1e6);
      process.stderr.write(
        `round ${r + 1}: burst ratio ${b.ratio} (${b.bare.perSecond} / ${b.daemon.perSecond} changes/s; daemon and receiver ${cpu} µs of CPU a change)\n`,
      );
    }
    if (PHASES.includes('live')) {
      process.stderr.write(`round ${r + 1}: live (bare, then the daemon polling while a writer lands ${CHANGES} changes)...\n`);
      const l = await live(nextStatus());
      round_.live = l;
      process.stderr.write(
        `round ${r + 1}: live ratio ${l.ratio} (${l.bare.perSecond} / ${l.daemon.perSecond} changes/s; the writer ran ${l.bare.producedSeconds} s / ` +
          `${l.daemon.producedSeconds} s, the last delivery at ${l.bare.seconds} s / ${l.daemon.seconds} s; polling idle: ${l.idle.node} cores, ` +
          `Redis ${l.idle.redis})\n`,
      );
    }
    rounds.push(round_);
  }
  await dropPrefix(redis, prefix);
  redis.disconnect();
  await receiver.close();
  await fs.rm(dataDir, { recursive: true, force: true });
  report(firstSightSeconds, rounds);
}

function median(values: number[]): number | undefined {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function report(firstSightSeconds: number, rounds: Round[]): void {
  const phases = rounds.flatMap((r) => [r.burst, r.live]).filter((p) => p !== undefined);
  const results = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, node ${process.version}`,
    changes: CHANGES,
    setup:
      `${PIPELINES} local pipeline runs x ${STEPS} steps, one experiment track, webhook receiver; tick 1 s, intervals 1 s, no change hints, ` +
      `other settings default; bare posts the daemon's body with its headers`,
    firstSightSeconds,
    rounds,
    ratio: { burst: median(rounds.flatMap((r) => (r.burst ? [r.burst.ratio] : []))), live: median(rounds.flatMap((r) => (r.live ? [r.live.ratio] : []))) },
    duplicates: phases.reduce((n, p) => n + p.bare.duplicates + p.daemon.duplicates, 0),
  };
  process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  mkdirSync(path.join(__dirname, '../../bench/results'), { recursive: true });
  writeFileSync(path.join(__dirname, '../../bench/results/throughput.json'), JSON.stringify(results, null, 2) + '\n');
}

/**
 * The kernel writes back what the bench's own set-up wrote (seeding, the flips: up to 40,000 files) about 30 s
 * later, in whichever phase runs then: written back before each phase, no side pays for the other's files.
 */
async function settleDisk(): Promise<void> {
  spawnSync('sync');
  await new Promise((res) => setTimeout(res, 500));
}

/** Flips every step of the `experiment`'s runs to `status` from a child process; with `enqueue`, a bare job per record. */
function flipInChild(root: string, experiment: string, status: StepStatus, o: { enqueue?: string } = {}): Promise<void> {
  const args = ['--flip', root, experiment, status, '--pipelines', String(PIPELINES), '--steps', String(STEPS)];
  return child(__filename, o.enqueue ? [...args, '--enqueue', String(process.pid), o.enqueue] : args);
}

/** The child: writes the records 100 pipeline runs at a time (as `run` writes them), queueing their jobs (carrying the body) if asked. */
async function flip(root: string, experiment: string, status: StepStatus): Promise<void> {
  const local = new LocalProvider({ root });
  const at = new Date();
  const enqueueFor = process.argv.indexOf('--enqueue');
  const connection = enqueueFor > 0 ? new Redis(REDIS_URL, { maxRetriesPerRequest: null }) : undefined;
  const queue = connection ? new Queue(BARE_QUEUE, { connection, prefix: barePrefix(Number(process.argv[enqueueFor + 1])) }) : undefined;
  const body = connection ? readFileSync(process.argv[enqueueFor + 2]!, 'utf8') : '';
  const ids = Array.from({ length: PIPELINES }, (_, p) => `${experiment}_${p}`);
  for (let i = 0; i < ids.length; i += 100) {
    const records = ids.slice(i, i + 100).flatMap((id) => Array.from({ length: STEPS }, (_, s) => seededStep(experiment, id, s, status, at)));
    await Promise.all(records.map((r) => local.store.writeStep(r)));
    await queue?.addBulk(records.map((r) => ({ name: 'post', data: { body }, opts: { jobId: `${r.stepRunId}-${status}`, removeOnComplete: true } })));
  }
  await queue?.close();
  connection?.disconnect();
}

const flipAt = process.argv.indexOf('--flip');
(flipAt > 0 ? flip(process.argv[flipAt + 1]!, process.argv[flipAt + 2]!, process.argv[flipAt + 3] as StepStatus) : main()).catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exitCode = 1;
});
