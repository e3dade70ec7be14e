// Change -> webhook latency at the embedded poll defaults, with change hints on and off.
// 40 local pipeline runs x 3 Running steps, found by one experiment track; one step of each run flipped to
// Finished at a random moment within a minute; each change's webhook timed at a local receiver.
// Usage: npm run bench:latency [-- --runs 40 --window 60]
import { promises as fs, mkdirSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { systemClock } from '../src/clock';
import { validateConfig } from '../src/config/load';
import { Daemon } from '../src/daemon';
import { createLogger } from '../src/logger';
import { Status } from '../src/model/status';
import { LocalProvider } from '../src/providers/local/provider';
import { nextPollDelayMs } from '../src/watch/scheduler';
import { TrackStore, trackFromRequest } from '../src/watch/tracks';
import { arg, dropPrefix, percentile, seededStep, until } from './support';

const RUNS = arg('runs', 40);
const STEPS = 3;
const WINDOW_S = arg('window', 60);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Webhook bodies received, by step run id and status: when each arrived. */
class Receiver {
  readonly arrivals = new Map<string, number>();
  private server?: http.Server;

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const at = Date.now();
        const step = (JSON.parse(body) as { data?: { stepRun?: { stepRunId: string; status: string } } }).data?.stepRun;
        if (step) this.arrivals.set(`${step.stepRunId}|${step.status}`, at);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}

async function measure(hints: boolean): Promise<{ p50: number; p99: number; max: number; samples: number }> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'srw-latency-'));
  const prefix = `latency_${process.pid}_${hints ? 'on' : 'off'}`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const receiver = new Receiver();
  const url = await receiver.start();
  // The embedded defaults, but for the notifier, the hints switch and a quiet log.
  const config = validateConfig(
    {
      redis: { url: REDIS_URL, prefix },
      poll: { hints: { enabled: hints } },
      notifiers: { hook: { type: 'webhook', url } },
      routes: [{ match: { type: 'steprun.*' }, notify: ['hook'] }],
      log: { level: process.env.BENCH_LOG ?? 'error' },
      api: { enabled: false },
    },
    { dataDir, env: {} },
  );
  const local = new LocalProvider({ root: path.join(dataDir, 'runs') });
  const daemon = await Daemon.create({ config, logger: createLogger({ level: config.log.level, pretty: false }) });
  await daemon.start();
  await new TrackStore(redis, daemon.keys, systemClock).add(trackFromRequest({ provider: 'local', experiment: 'lat' }, 'cli', Date.now()));
  const started = new Date();
  const runs = Array.from({ length: RUNS }, (_, i) => `lat_${i}`);
  for (const id of runs) {
    await local.store.createPipeline({ schema: 1, pipelineRunId: id, experiment: 'lat', createdTime: started.toISOString(), status: Status.Running, source: 'run' });
    for (let s = 0; s < STEPS; s++) await local.store.writeStep(seededStep('lat', id, s, Status.Running, started));
  }
  await until(() => receiver.arrivals.size >= RUNS * STEPS, 120_000, 'every Running step seen');

  // One step of each run flips to Finished at a random moment within the window.
  const flips = runs.map((id) => ({ id, atMs: Math.random() * WINDOW_S * 1000, changedAt: 0 }));
  const t0 = Date.now();
  await Promise.all(
    flips.map(async (f) => {
      await new Promise((r) => setTimeout(r, f.atMs));
      f.changedAt = Date.now();
      await local.store.writeStep(seededStep('lat', f.id, 0, Status.Finished, new Date(f.changedAt)));
    }),
  );
  const key = (id: string) => `${id}_s0|${Status.Finished}`;
  await until(() => flips.every((f) => receiver.arrivals.has(key(f.id))), 600_000, 'every flip delivered');
  const latencies = flips.map((f) => receiver.arrivals.get(key(f.id))! - f.changedAt);
  process.stderr.write(`hints ${hints ? 'on' : 'off'}: ${flips.length} changes in ${Math.round((Date.now() - t0) / 1000)} s\n`);

  await daemon.stop();
  await receiver.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
  await fs.rm(dataDir, { recursive: true, force: true });
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies), samples: latencies.length };
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
  const on = await measure(true);
  const off = await measure(false);
  const results = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, node ${process.version}`,
    setup: `${RUNS} local pipeline runs x ${STEPS} Running steps (one experiment track), one step of each flipped within ${WINDOW_S} s; embedded defaults (tick 5 s, intervals 5-300 s)`,
    hintsOnMs: on,
    hintsOffMs: off,
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
