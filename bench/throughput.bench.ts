// End-to-end throughput and latency: poll -> event -> delivery to a local webhook receiver, with 1, 2 and 4 worker processes.
// Usage: npm run bench:throughput [-- --pipelines 200 --steps 10]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, promises as fs, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { systemClock } from '../src/clock';
import { loadConfig } from '../src/config/load';
import { Daemon } from '../src/daemon';
import { createLogger } from '../src/logger';
import { Status } from '../src/model/status';
import { LocalProvider } from '../src/providers/local/provider';
import { Keys } from '../src/store/keys';
import { arg, dropPrefix, percentile, round, seededStep, until } from './support';
import { TrackStore, trackFromRequest } from '../src/watch/tracks';

const PIPELINES = arg('pipelines', 200);
const STEPS = arg('steps', 10);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const BIN = path.join(__dirname, '../../bin/steprun-watch.js');

interface Arrival {
  stepRunId?: string;
  status?: string;
  at: number;
}

/** A webhook receiver that notes when each event arrived. */
async function receiver(): Promise<{ url: string; arrivals: Arrival[]; close(): Promise<void> }> {
  const arrivals: Arrival[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const e = (JSON.parse(body) as { data: { stepRun?: { stepRunId: string; status: string } } }).data;
      arrivals.push({ stepRunId: e.stepRun?.stepRunId, status: e.stepRun?.status, at: Date.now() });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, arrivals, close: () => new Promise((r) => server.close(() => r())) };
}

/** One scenario: K worker processes; returns transitions delivered per second and latencies. */
async function scenario(workers: number, o: { tick: string; minIntervalSeconds: number; pipelines: number }) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'srw-tput-'));
  const prefix = `tput_${process.pid}_${workers}_${o.minIntervalSeconds}`;
  const hook = await receiver();
  const configFile = path.join(dir, 'config.yaml');
  writeFileSync(
    configFile,
    stringify({
      redis: { url: REDIS_URL, prefix },
      poll: { tick: o.tick, minIntervalSeconds: o.minIntervalSeconds, maxIntervalSeconds: Math.max(5, o.minIntervalSeconds), concurrency: 16, batch: 10000 },
      delivery: { concurrency: 32 },
      notifiers: { hook: { type: 'webhook', url: hook.url } },
      routes: [{ match: { type: 'steprun.*' }, notify: ['hook'] }],
      log: { level: 'error' },
      api: { enabled: false },
      // Several worker processes on one machine: each serves its metrics on a port of its own.
      workers: { listen: '127.0.0.1:0' },
    }),
  );
  const env = { ...process.env, SRW_CONFIG: configFile, SRW_DATA_DIR: dir };
  const local = new LocalProvider({ root: path.join(dir, 'runs') });
  const ids = Array.from({ length: o.pipelines }, (_, p) => `tput_${p}`);
  const t0 = new Date();
  for (const id of ids) {
    await local.store.createPipeline({
      schema: 1,
      pipelineRunId: id,
      experiment: 'tput',
      createdTime: t0.toISOString(),
      status: Status.Running,
      source: 'run',
    });
    await Promise.all(Array.from({ length: STEPS }, (_, s) => local.store.writeStep(seededStep('tput', id, s, Status.Queued, t0))));
  }
  // The coordinator runs the scheduler and the dispatcher; the worker processes poll and deliver.
  const config = await loadConfig({ file: configFile, env, dataDir: dir });
  const coordinator = await Daemon.create({
    config,
    logger: createLogger({ level: 'error', pretty: false }),
    roles: { scheduler: true, dispatcher: true, pollWorkers: false, deliverWorkers: false },
  });
  const children: ChildProcess[] = Array.from({ length: workers }, () => spawn(process.execPath, [BIN, 'workers'], { env, stdio: 'ignore' }));
  await coordinator.start();
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const tracks = new TrackStore(redis, new Keys(prefix), systemClock);
  for (const id of ids) await tracks.add(trackFromRequest({ provider: 'local', pipelineRun: id }, 'cli', Date.now()));
  const total = ids.length * STEPS;
  await until(() => hook.arrivals.length >= total, 120000, 'first sight of every step');

  // Every step changes twice (Running, then Finished); time from the first change to the last delivery.
  const start = Date.now();
  const changedAt = new Map<string, number>();
  for (const status of [Status.Running, Status.Finished]) {
    const before = hook.arrivals.length;
    for (const id of ids) {
      await Promise.all(Array.from({ length: STEPS }, (_, s) => local.store.writeStep(seededStep('tput', id, s, status, new Date()))));
      for (let s = 0; s < STEPS; s++) changedAt.set(`${id}_s${s}|${status}`, Date.now());
    }
    await until(() => hook.arrivals.length >= before + total, 300000, `${status} of every step`);
  }
  const seconds = (Date.now() - start) / 1000;
  const latencies = hook.arrivals.filter((a) => a.at >= start).map((a) => a.at - (changedAt.get(`${a.stepRunId}|${a.status}`) ?? a.at));
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => new Promise((r) => c.once('exit', r))));
  await coordinator.stop();
  await dropPrefix(redis, prefix);
  redis.disconnect();
  await hook.close();
  await fs.rm(dir, { recursive: true, force: true });
  return {
    transitions: 2 * total,
    seconds: round(seconds),
    perSecond: Math.round((2 * total) / seconds),
    latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99) },
  };
}

async function main(): Promise<void> {
  const throughput: Record<string, unknown> = {};
  for (const workers of [1, 2, 4]) {
    process.stderr.write(`throughput with ${workers} worker process(es)...\n`);
    throughput[`${workers}`] = await scenario(workers, { tick: '* * * * * *', minIntervalSeconds: 1, pipelines: PIPELINES });
  }
  process.stderr.write('latency at the default tick (5 s)...\n');
  const defaults = await scenario(1, { tick: '*/5 * * * * *', minIntervalSeconds: 5, pipelines: Math.min(PIPELINES, 50) });
  const results = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} cores, node ${process.version}`,
    stepRunsPerScenario: PIPELINES * STEPS,
    throughputByWorkerProcesses: throughput,
    latencyAtDefaultTick: defaults.latencyMs,
  };
  process.stdout.write('\nsteprun-watch end-to-end benchmark (poll -> event -> webhook)\n');
  process.stdout.write('  worker processes  transitions  seconds  transitions/s  latency p50/p95/p99 ms\n');
  for (const [k, v] of Object.entries(throughput) as [string, Awaited<ReturnType<typeof scenario>>][]) {
    process.stdout.write(
      `  ${k.padEnd(16)}  ${String(v.transitions).padEnd(11)}  ${String(v.seconds).padEnd(7)}  ${String(v.perSecond).padEnd(13)}  ${v.latencyMs.p50}/${v.latencyMs.p95}/${v.latencyMs.p99}\n`,
    );
  }
  process.stdout.write(
    `  latency at the default 5 s tick: p50 ${defaults.latencyMs.p50} ms, p95 ${defaults.latencyMs.p95} ms, p99 ${defaults.latencyMs.p99} ms\n`,
  );
  mkdirSync(path.join(__dirname, '../../bench/results'), { recursive: true });
  writeFileSync(path.join(__dirname, '../../bench/results/throughput.json'), JSON.stringify(results, null, 2) + '\n');
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
