// Transition detection: a pure decision (nextEvents) and one atomic commit of state + events + schedule.
import type { Redis } from 'ioredis';
import { isTerminal, isStepStatus, type StepStatus } from '../model/status';
import type { PipelineRunSnapshot, StepRunSnapshot } from '../providers/provider';
import { type WatchEvent } from '../store/events';
import { pipelineEvent, stepEvent } from './events';
import type { Keys } from '../store/keys';
import { Scripts } from '../store/scripts';
import type { Track } from './tracks';

/**
 * The stored state of one step (or `@pipeline`): how many transitions it has had and its last status;
 * for `@pipeline`, also how many steps its summary covered (an open run that gains a step is news).
 */
export interface SeenState {
  seq: number;
  status: StepStatus;
  steps?: number;
}

export const PIPELINE_FIELD = '@pipeline';
export const ERROR_FIELD = '@error';
/** One field per unreadable step record: its track.error is raised once, by the same compare-and-set. */
export const UNREADABLE_FIELD_PREFIX = '@unreadable:';

export function encodeState(s: SeenState): string {
  return s.steps === undefined ? `${s.seq}|${s.status}` : `${s.seq}|${s.status}|${s.steps}`;
}

export function decodeState(value: string | undefined): SeenState | undefined {
  if (!value) return undefined;
  const [seqText, status, stepsText] = value.split('|');
  const seq = Number(seqText);
  if (!Number.isInteger(seq) || !status || !isStepStatus(status)) return undefined;
  const steps = stepsText === undefined ? undefined : Number(stepsText);
  return steps === undefined || !Number.isInteger(steps) ? { seq, status } : { seq, status, steps };
}

/** One compare-and-set: if `field` still holds `expected`, store `next` and append `event`. */
export interface Transition {
  field: string;
  expected: string;
  next: string;
  event: WatchEvent;
}

/**
 * What events follow from observing `steps` when the stored state is `prev`. Pure: no I/O, no clock.
 * A step seen for the first time emits its current status with previousStatus null; a step whose
 * normalized status did not change emits nothing (raw sub-states like Preparing -> Starting are not news).
 */
export function nextEvents(track: Track, prev: Record<string, string>, steps: StepRunSnapshot[], now: number): Transition[] {
  const out: Transition[] = [];
  for (const step of steps) {
    const before = decodeState(prev[step.stepRunId]);
    if (before?.status === step.status) continue;
    const seq = (before?.seq ?? 0) + 1;
    out.push({
      field: step.stepRunId,
      expected: prev[step.stepRunId] ?? '',
      next: encodeState({ seq, status: step.status }),
      event: stepEvent(track, step, before?.status ?? null, seq, now),
    });
  }
  return out;
}

/**
 * The pipeline-level event, once the pipeline run and every one of its steps are terminal. Sent again (a new
 * seq) when the status changes, or when an open run gained steps since its last summary.
 */
export function pipelineTransition(
  track: Track,
  prev: Record<string, string>,
  pipeline: PipelineRunSnapshot,
  steps: StepRunSnapshot[],
  now: number,
): Transition | undefined {
  if (!isTerminal(pipeline.status) || !steps.every((s) => isTerminal(s.status))) return undefined;
  const before = decodeState(prev[PIPELINE_FIELD]);
  if (before?.status === pipeline.status && (before.steps === undefined || before.steps === steps.length)) return undefined;
  const seq = (before?.seq ?? 0) + 1;
  return {
    field: PIPELINE_FIELD,
    expected: prev[PIPELINE_FIELD] ?? '',
    next: encodeState({ seq, status: pipeline.status, steps: steps.length }),
    event: pipelineEvent(track, pipeline, steps, before?.status ?? null, seq, now),
  };
}

export interface CommitResult {
  appended: number;
  conflicts: number;
}

export class StateStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /**
   * One script: compare-and-set every transition, append its event, then reschedule (or retire when nextPollAt
   * is null). Throws TrackNotFoundError when the track was removed while the poll ran (nothing is written).
   */
  async commit(track: Track, transitions: Transition[], now: number, nextPollAt: number | null): Promise<CommitResult> {
    return new Scripts(this.redis, this.keys).commitPoll({
      trackId: track.id,
      provider: track.provider,
      now,
      nextPollAt,
      transitions: transitions.map((t) => ({ field: t.field, expected: t.expected, next: t.next, eventJson: JSON.stringify(t.event) })),
    });
  }
}
