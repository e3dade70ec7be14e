// Transition detection, pure: what events follow from what a poll saw and the stored state (nextEvents). The commit
// of state + events + schedule is store/state-store.ts.
import { decodeState, encodeState, hasFieldStartingWith, PIPELINE_FIELD, subStateField, SUBSTATE_FIELD_PREFIX } from '../store/state-fields';
import type { Transition } from '../store/state-store';
import { isAlertingSubState, isTerminal, subStateOf } from '../model/status';
import type { PipelineRunSnapshot, StepRunSnapshot } from '../model/provider';
import { pipelineEvent, stepEvent, subStateEvent } from '../store/event-builders';
import type { Track } from '../store/tracks';

/**
 * What events follow from observing `steps` when the stored state is `prev`. Pure: no I/O, no clock.
 * A step seen for the first time emits its current status with previousStatus null; a changed normalized status
 * emits its status event. A raw sub-state change within the same status (Running → NotResponding, Queued →
 * Preparing) is a `steprun.substate` event of its own, on its own field and sequence; so is entering or leaving
 * an alerting sub-state (NotResponding) along with a status change, so that its alert opens and resolves.
 */
export function nextEvents(track: Track, prev: Record<string, string>, steps: StepRunSnapshot[], now: number): Transition[] {
  const out: Transition[] = [];
  // Most runs never had a sub-state: then no step's field is looked up (a poll asks for every step).
  const anySub = hasFieldStartingWith(prev, SUBSTATE_FIELD_PREFIX);
  for (const step of steps) {
    const before = decodeState(prev[step.stepRunId]);
    // A plain spelling of the status (Completed for Finished, running) is the status itself: only a sub-state differs.
    const raw = subStateOf(step.rawStatus) ?? step.status;
    const subField = subStateField(step.stepRunId);
    const sub = anySub ? decodeSubState(prev[subField]) : undefined;
    // The raw status last recorded: the sub-state event's, if one came after the last status event.
    const lastRaw = sub && before && sub.statusSeq === before.seq ? sub.raw : before ? (before.raw ?? before.status) : undefined;
    let statusSeq = before?.seq ?? 0;
    if (before?.status !== step.status) {
      statusSeq++;
      out.push({
        field: step.stepRunId,
        expected: prev[step.stepRunId] ?? '',
        next: encodeState({ seq: statusSeq, status: step.status, raw }),
        event: stepEvent(track, step, before?.status ?? null, statusSeq, now),
      });
    }
    const changedRaw = lastRaw === undefined ? isAlertingSubState(raw) : lastRaw !== raw;
    const alerting = isAlertingSubState(raw) || (lastRaw !== undefined && isAlertingSubState(lastRaw));
    if (!changedRaw || (statusSeq !== before?.seq && !alerting)) continue;
    const subSeq = (sub?.seq ?? 0) + 1;
    out.push({
      field: subField,
      expected: prev[subField] ?? '',
      next: `${subSeq}|${raw}|${statusSeq}`,
      event: subStateEvent(track, step, { from: lastRaw ?? null, to: raw }, before?.status ?? null, subSeq, now),
    });
  }
  return out;
}

function decodeSubState(value: string | undefined): { seq: number; raw: string; statusSeq: number } | undefined {
  if (!value) return undefined;
  const [seq, raw, statusSeq] = value.split('|');
  return raw ? { seq: Number(seq) || 0, raw, statusSeq: Number(statusSeq) || 0 } : undefined;
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
