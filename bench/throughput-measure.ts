// Measuring one daemon phase of bench:throughput: from `start` to the last delivery, with the cores used, and on
// request a CPU profile (--profile PHASE FILE), a timeline (--timeline) and the Redis commands per change (--commands).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { Redis } from 'ioredis';
import { Keys } from '../src/store/keys';
import { round, until } from './support';
import type { Receiver } from './throughput-bare';

export interface Phase {
  perSecond: number;
  seconds: number;
  duplicates: number;
  /** From the clock's start until `start` returned (live: the writer's run; burst: the daemon started). */
  producedSeconds: number;
  /** This process (daemon, receiver) and the Redis server, in cores over the phase. */
  cores: { node: number; redis: number };
}

/** Runs `start`, then waits for `changes` deliveries at the receiver; the rate and the cores used from `start` to the last. */
export async function measure(receiver: Receiver, redis: Redis, prefix: string, changes: number, phase: string, start: () => Promise<void>): Promise<Phase> {
  const commands = process.argv.includes('--commands');
  if (commands) await redis.config('RESETSTAT');
  const redisCpu0 = await redisCpuSeconds(redis);
  const cpu0 = process.cpuUsage();
  const profiler = await startProfile(phase);
  const t0 = Date.now();
  const timeline = process.argv.includes('--timeline') ? traceTimeline(receiver, redis, new Keys(prefix).events, t0) : undefined;
  await start();
  const producedSeconds = round((Date.now() - t0) / 1000);
  await until(() => receiver.seen.size >= changes, 600_000, `every change delivered (${phase})`);
  timeline?.stop();
  const seconds = (receiver.lastAt - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await profiler?.stop();
  if (commands) await printCommands(redis, changes);
  const cores = { node: round((cpu.user + cpu.system) / 1e6 / seconds), redis: round(((await redisCpuSeconds(redis)) - redisCpu0) / seconds) };
  return { perSecond: Math.round(changes / seconds), seconds: round(seconds), duplicates: receiver.duplicates, producedSeconds, cores };
}

/** The cores this process and Redis use over `ms` while the daemon runs with nothing to do but poll (the live phase's floor). */
export async function idleCores(redis: Redis, ms: number): Promise<{ node: number; redis: number }> {
  const redisCpu0 = await redisCpuSeconds(redis);
  const cpu0 = process.cpuUsage();
  await new Promise((res) => setTimeout(res, ms));
  const cpu = process.cpuUsage(cpu0);
  return { node: round((cpu.user + cpu.system) / 1e3 / ms), redis: round((((await redisCpuSeconds(redis)) - redisCpu0) * 1e3) / ms) };
}

/** Every 250 ms, on stderr: the events appended to the outbox so far, the dispatcher's lag behind them, and the deliveries received. */
function traceTimeline(receiver: Receiver, redis: Redis, events: string, t0: number): { stop(): void } {
  const base = redis.xlen(events);
  const timer = setInterval(() => {
    void Promise.all([base, redis.xlen(events), redis.xinfo('GROUPS', events) as Promise<unknown[][]>]).then(([b, n, groups]) => {
      // XINFO GROUPS: a flat [name, value, ...] list per consumer group; `lag` is what the group has not read yet.
      const lag = groups.map((g) => `${String(g[1])} lag ${String(g[g.indexOf('lag') + 1])}`).join(', ');
      process.stderr.write(`${((Date.now() - t0) / 1000).toFixed(2)} s  appended ${n - b}  ${lag}  delivered ${receiver.seen.size}\n`);
    });
  }, 250);
  return { stop: () => clearInterval(timer) };
}

/**
 * With `--profile PHASE FILE`, a CPU profile of this process during that phase (the first round's), written to FILE;
 * a sampling heap profile instead when FILE ends in `.heapprofile`.
 */
async function startProfile(phase: string): Promise<{ stop(): Promise<void> } | undefined> {
  const i = process.argv.indexOf('--profile');
  if (i < 0 || process.argv[i + 1] !== phase || profiled.has(phase)) return undefined;
  profiled.add(phase);
  const file = process.argv[i + 2]!;
  const session = new Session();
  session.connect();
  if (file.endsWith('.heapprofile')) {
    // Every allocation sampled, the collected ones included: what the phase allocates, not what it keeps.
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 32768,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    return {
      async stop() {
        const { profile } = await session.post('HeapProfiler.stopSampling');
        writeFileSync(file, JSON.stringify(profile));
        session.disconnect();
      },
    };
  }
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
const profiled = new Set<string>();

/** The Redis commands of the phase, per change, most first (INFO commandstats). */
async function printCommands(redis: Redis, changes: number): Promise<void> {
  const stats = [...(await redis.info('commandstats')).matchAll(/^cmdstat_([\w|]+):calls=(\d+),usec=(\d+)/gm)];
  const rows = stats.map(([, name, calls, usec]) => ({ name: name!, perChange: Number(calls) / changes, usecPerChange: Number(usec) / changes }));
  rows.sort((a, b) => b.perChange - a.perChange);
  for (const r of rows.slice(0, 25))
    process.stderr.write(`${r.name.padEnd(28)} ${r.perChange.toFixed(3).padStart(8)} calls/change ${r.usecPerChange.toFixed(1).padStart(7)} µs/change\n`);
}

/** CPU seconds the Redis server has used (INFO cpu). */
async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  return Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? 0) + Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? 0);
}
