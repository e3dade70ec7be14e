// The cost curve of the daemon at the embedded defaults, on a local Redis Cluster of three masters: for 10,000,
// 100,000 and 1,000,000 tracked step runs (pipeline runs of 10 Running steps, one track each), the daemon runs as
// its own process (`steprun-watch daemon`, as deployed), every change a webhook to this process. Per size:
//   first round: daemon start to every step's first sight delivered (the dispatcher's lag every 10 s);
//   steady: the daemon's CPU (cores) over --window seconds after that, and its RSS;
//   Redis: used memory on the cluster per tracked step run (tracks alone; and with the state, events, deliveries);
//   latency: 100 steps finished in the run store -> their webhooks, p50 / p99 (change hints on, as by default).
// Usage: npm run bench:scale [-- --sizes 10000,100000,1000000 --window 60]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, promises as fs, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Cluster, type Redis } from 'ioredis';
import { Status } from '../src/model/status';
import { RunStore } from '../src/providers/local/store';
import { TrackStore, trackFromRequest } from '../src/store/tracks';
import { Keys } from '../src/store/keys';
import { systemClock } from '../src/util/clock';
import { LocalRedisCluster } from '../test/support/redis';
import { Arrivals } from './arrivals';
import { arg, percentile, round, until } from './support';
import { seededStep, seedRun } from '../test/support/seed-runs';

const SIZES = process.argv.includes('--sizes') ? process.argv[process.argv.indexOf('--sizes') + 1]!.split(',').map(Number) : [10_000, 100_000, 1_000_000];
const STEPS = 10;
const WINDOW_S = arg('window', 60);
const FLIPS = 100;
const CLI = path.join(__dirname, '../src/cli/main.js');

/** The cluster's used memory, every master summed. */
async function clusterMemory(cluster: Cluster): Promise<number> {
  let total = 0;
  for (const node of cluster.nodes('master')) total += Number(/used_memory:(\d+)/.exec(await node.info('memory'))?.[1] ?? 0);
  return total;
}

/** CPU seconds and RSS of a process, from /proc. */
function processUsage(pid: number): { cpuSeconds: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return { cpuSeconds: ticks / 100, rssMb: round(rssKb / 1024) };
}

async function measureSize(stepRuns: number, nodes: string[], url: string, arrivals: Arrivals): Promise<Record<string, unknown>> {
  const pipelines = stepRuns / STEPS;
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'srw-scale-'));
  const prefix = `scale_${stepRuns}`;
  const cluster = new Cluster(nodes.map((n) => ({ host: '127.0.0.1', port: Number(n.split(':')[1]) })));
  const redis = cluster as unknown as Redis;
  const store = new RunStore(path.join(dataDir, 'runs'));
  const t = new Date();
  process.stderr.write(`${stepRuns}: seeding ${pipelines} pipeline runs x ${STEPS} Running steps...\n`);
  for (let p = 0; p < pipelines; p++) await seedRun(store, { experiment: 'scale', pipelineRunId: `scale_${p}`, steps: STEPS, status: Status.Running, at: t });
  const memEmpty = await clusterMemory(cluster);
  const tracks = new TrackStore(redis, new Keys(prefix), systemClock);
  for (let p = 0; p < pipelines; p++) await tracks.add(trackFromRequest({ provider: 'local', pipelineRun: `scale_${p}` }, 'cli', Date.now()));
  const memTracked = await clusterMemory(cluster);

  const configFile = path.join(dataDir, 'config.json');
  const config = {
    redis: { cluster: nodes, prefix },
    notifiers: { hook: { type: 'webhook', url } },
    routes: [{ match: { type: 'steprun.*' }, notify: ['hook'] }],
    log: { level: 'warn' },
    api: { enabled: false },
  };
  writeFileSync(configFile, JSON.stringify(config));
  arrivals.reset();
  process.stderr.write(`${stepRuns}: the daemon's first round...\n`);
  const t0 = Date.now();
  const daemon: ChildProcess = spawn(process.execPath, [CLI, 'daemon', '--config', configFile, '--data-dir', dataDir], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const lag = traceLag(redis, new Keys(prefix).events, arrivals, t0);
  await until(() => arrivals.count('steprun.running') >= stepRuns, 3_600_000, 'every first sight');
  const firstRoundSeconds = round((Date.now() - t0) / 1000);
  const dispatcherLag = lag.stop();
  const memFirstRound = await clusterMemory(cluster);

  process.stderr.write(`${stepRuns}: steady state for ${WINDOW_S} s...\n`);
  const u0 = processUsage(daemon.pid!);
  await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
  const u1 = processUsage(daemon.pid!);

  const written = new Map<string, number>();
  for (let i = 0; i < FLIPS; i++) {
    const p = Math.floor((i * pipelines) / FLIPS);
    const step = { ...seededStep('scale', `scale_${p}`, i % STEPS, Status.Finished, new Date()) };
    await store.writeStep(step);
    written.set(step.stepRunId, Date.now());
  }
  await until(() => [...written.keys()].every((id) => arrivals.at.has(`${id} steprun.finished`)), 600_000, 'the 100 changes');
  const latencies = [...written].map(([id, at]) => arrivals.at.get(`${id} steprun.finished`)!.at - at);

  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  for (const node of cluster.nodes('master')) await node.flushall();
  cluster.disconnect();
  // A million step records take minutes to delete: the row is written first (main), the folder removed after.
  cleanups.push(() => fs.rm(dataDir, { recursive: true, force: true }));
  return {
    stepRuns,
    firstRoundSeconds,
    steadyCores: round((u1.cpuSeconds - u0.cpuSeconds) / WINDOW_S),
    daemonRssMb: u1.rssMb,
    redisBytesPerStepRun: { tracked: Math.round((memTracked - memEmpty) / stepRuns), afterFirstRound: Math.round((memFirstRound - memEmpty) / stepRuns) },
    changeToWebhookMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
    dispatcherLag,
  };
}

/**
 * Every 10 s of the first round, on stderr and in the row: the seconds since start, the events the dispatcher has not
 * read yet (its consumer group's lag), and the first sights delivered: whether the dispatcher keeps pace with the polls.
 */
function traceLag(redis: Redis, events: string, arrivals: Arrivals, t0: number): { stop(): [number, number, number][] } {
  const samples: [number, number, number][] = [];
  const timer = setInterval(() => {
    void (redis.xinfo('GROUPS', events) as Promise<unknown[][]>)
      .then((groups) => {
        const lag = Math.max(0, ...groups.map((g) => Number(g[g.indexOf('lag') + 1] ?? 0)));
        const sample: [number, number, number] = [Math.round((Date.now() - t0) / 1000), lag, arrivals.count('steprun.running')];
        samples.push(sample);
        process.stderr.write(`  ${sample[0]} s: dispatcher lag ${sample[1]} events, ${sample[2]} first sights delivered\n`);
      })
      .catch(() => undefined); // before the daemon made its group
  }, 10_000);
  return { stop: () => (clearInterval(timer), samples) };
}

const cleanups: (() => Promise<void>)[] = [];

async function main(): Promise<void> {
  const clusterDir = await fs.mkdtemp(path.join(os.tmpdir(), 'srw-scale-cluster-'));
  const cluster = new LocalRedisCluster(clusterDir);
  await cluster.start();
  const arrivals = new Arrivals();
  const url = await arrivals.start();
  const rows: Record<string, unknown>[] = [];
  try {
    for (const size of SIZES) {
      rows.push(await measureSize(size, cluster.nodes, url, arrivals));
      process.stderr.write(`${JSON.stringify(rows.at(-1))}\n`);
      writeResults(rows);
      for (const cleanup of cleanups.splice(0)) await cleanup();
    }
  } finally {
    await arrivals.close();
    await cluster.stop();
  }
  process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
}

function writeResults(rows: Record<string, unknown>[]): void {
  const results = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
    setup: 'embedded defaults (tick 5 s, intervals 5-300 s, hints on), a local Redis Cluster of 3 masters, one track per pipeline run of 10 steps',
    rows,
  };
  mkdirSync(path.join(__dirname, '../../bench/results'), { recursive: true });
  writeFileSync(path.join(__dirname, '../../bench/results/scale.json'), JSON.stringify(results, null, 2) + '\n');
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exitCode = 1;
});
