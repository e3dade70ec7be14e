// Helpers shared by the benchmarks: arguments, waiting, percentiles, seeded step records, cleanup.
import type { Redis } from 'ioredis';
import { Status, type StepStatus } from '../src/model/status';
import type { StepRecord } from '../src/providers/local/records';
import { nodeIdFor } from '../src/providers/local/store';

/** `--name N` from the command line, or the fallback. */
export function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export function round(n: number): number {
  return Math.round(n * 100) / 100;
}

export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The record of step `s` of a seeded pipeline run, as the local store keeps it (no process behind it). */
export function seededStep(experiment: string, pipelineRunId: string, s: number, status: StepStatus, at: Date): StepRecord {
  return {
    schema: 1,
    stepRunId: `${pipelineRunId}_s${s}`,
    pipelineRunId,
    experiment,
    nodeId: nodeIdFor(experiment, `step${s}`),
    name: `step${s}`,
    status,
    rawStatus: status,
    createdTime: at.toISOString(),
    startTime: at.toISOString(),
    ...(status === Status.Finished ? { endTime: at.toISOString() } : {}),
    command: 'bench',
    isReused: false,
    outputs: {},
  };
}

/** Deletes every key of a benchmark's prefix. */
export async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `{${prefix}}*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** A pipeline run of `steps` steps, all in `status`, written to a local run store as `run` would (no process behind it). */
export async function seedRun(
  store: { createPipeline(r: object): Promise<boolean>; writeStep(r: StepRecord): Promise<void> },
  o: { experiment: string; pipelineRunId: string; steps?: number; status?: StepStatus; at?: Date },
): Promise<StepRecord[]> {
  const at = o.at ?? new Date();
  await store.createPipeline({
    schema: 1,
    pipelineRunId: o.pipelineRunId,
    experiment: o.experiment,
    createdTime: at.toISOString(),
    status: Status.Running,
    source: 'run',
  });
  const records = Array.from({ length: o.steps ?? 1 }, (_, s) => seededStep(o.experiment, o.pipelineRunId, s, o.status ?? Status.Running, at));
  await Promise.all(records.map((r) => store.writeStep(r)));
  return records;
}
