// What the dashboard knows of pipeline runs without asking a provider: the recent events stream, folded per run.
// Tracks retire when their run ends; the events stay (up to events.maxLen), so finished runs are still listed.
import type { Redis } from 'ioredis';
import { Status, type StepStatus } from '../../model/status';
import type { WatchEvent } from '../../store/events';
import type { Keys } from '../../store/keys';
import { parseEntry } from '../../store/outbox';

/** Events read from the end of the stream to build the run list. */
const RECENT_EVENTS = 5000;

export interface RunSummary {
  provider: string;
  experiment: string;
  pipelineRunId: string;
  /** The pipeline run's own status once it ended, else undefined (still going). */
  status?: StepStatus;
  /** Step name -> its latest status. */
  steps: Map<string, StepStatus>;
  lastChangeAt: number;
  /** Steps whose latest status is Failed, and track errors of the run. */
  failures: number;
}

/** The newest `count` events, newest first, with their stream ids. */
export async function recentEvents(redis: Redis, keys: Keys, count = RECENT_EVENTS, before?: string): Promise<{ id: string; event: WatchEvent }[]> {
  const entries = await redis.xrevrange(keys.events, before ? `(${before}` : '+', '-', 'COUNT', count);
  return entries.flatMap(([id, fields]) => {
    const event = parseEntry(fields);
    return event ? [{ id, event }] : [];
  });
}

/** Pipeline runs seen in the recent events, the most recently changed first. */
export async function recentRuns(redis: Redis, keys: Keys, limit = 100): Promise<RunSummary[]> {
  const runs = new Map<string, RunSummary>();
  for (const { event } of await recentEvents(redis, keys)) {
    if (!event.pipelineRunId) continue;
    const key = `${event.provider}\u0000${event.pipelineRunId}`;
    let run = runs.get(key);
    if (!run) {
      run = {
        provider: event.provider,
        experiment: event.experiment,
        pipelineRunId: event.pipelineRunId,
        steps: new Map(),
        lastChangeAt: event.detectedAt,
        failures: 0,
      };
      runs.set(key, run);
    }
    // Newest first: the first word on a step (or the pipeline) is its latest.
    if (event.stepRun && event.type !== 'steprun.stuck' && !run.steps.has(event.stepRun.name)) {
      run.steps.set(event.stepRun.name, event.stepRun.status);
      if (event.stepRun.status === Status.Failed) run.failures++;
    }
    if (event.pipelineRun && run.status === undefined) run.status = event.pipelineRun.status;
    run.lastChangeAt = Math.max(run.lastChangeAt, event.detectedAt);
  }
  return [...runs.values()].sort((a, b) => b.lastChangeAt - a.lastChangeAt).slice(0, limit);
}

/** Steps by status, e.g. {Finished: 2, Failed: 1}. */
export function countByStatus(steps: Map<string, StepStatus>): Partial<Record<StepStatus, number>> {
  const counts: Partial<Record<StepStatus, number>> = {};
  for (const s of steps.values()) counts[s] = (counts[s] ?? 0) + 1;
  return counts;
}
