// How events are built from observations (the watcher's side); their types live in store/events.ts.
import { isTerminal, type StepStatus } from '../model/status';
import type { PipelineRunSnapshot, RunError, StepRunSnapshot } from '../model/provider';
import { durationOf, type PipelineEventType, type StepEventType, type SubStateData, type WatchEvent } from '../store/events';
import { eventId } from '../store/ids';
import type { Track } from '../store/tracks';

export function stepEventType(status: StepStatus): StepEventType {
  return `steprun.${status.toLowerCase()}` as StepEventType;
}

function base(track: Track, subject: string, seq: number, now: number) {
  return {
    id: eventId(track.id, subject, seq),
    time: new Date(now).toISOString(),
    detectedAt: now,
    trackId: track.id,
    provider: track.provider,
    labels: track.labels,
  };
}

export function stepEvent(track: Track, s: StepRunSnapshot, previous: StepStatus | null, seq: number, now: number): WatchEvent {
  return {
    ...base(track, s.stepRunId, seq, now),
    type: stepEventType(s.status),
    experiment: s.experiment,
    pipelineRunId: s.pipelineRunId,
    stepRun: {
      stepRunId: s.stepRunId,
      name: s.name,
      nodeId: s.nodeId,
      status: s.status,
      previousStatus: previous,
      rawStatus: s.rawStatus,
      startTime: s.startTime,
      endTime: s.endTime,
      durationMs: durationOf(s.startTime, s.endTime),
      isReused: s.isReused,
      currentNodeId: s.currentNodeId,
      reusedRunId: s.reusedRunId,
      reusedNodeId: s.reusedNodeId,
      reusedPipelineRunId: s.reusedPipelineRunId,
      error: s.error,
      outputNames: s.outputNames,
    },
  };
}

/** A raw sub-state change (`@sub:<step>` subject, its own sequence): the step as it is now, with from/to raw statuses. */
export function subStateEvent(track: Track, s: StepRunSnapshot, subState: SubStateData, previous: StepStatus | null, seq: number, now: number): WatchEvent {
  const step = stepEvent(track, s, previous, seq, now);
  return { ...step, ...base(track, `@sub:${s.stepRunId}`, seq, now), type: 'steprun.substate', subState };
}

export function pipelineEvent(
  track: Track,
  p: PipelineRunSnapshot,
  steps: StepRunSnapshot[],
  previous: StepStatus | null,
  seq: number,
  now: number,
): WatchEvent {
  if (!isTerminal(p.status)) throw new Error('pipeline events are for terminal pipeline runs');
  return {
    ...base(track, '@pipeline', seq, now),
    type: `pipelinerun.${p.status.toLowerCase()}` as PipelineEventType,
    experiment: p.experiment,
    pipelineRunId: p.pipelineRunId,
    pipelineRun: {
      ...(p.name ? { name: p.name } : {}),
      status: p.status,
      previousStatus: previous,
      rawStatus: p.rawStatus,
      startTime: p.startTime,
      endTime: p.endTime,
      durationMs: durationOf(p.startTime, p.endTime),
      error: p.error,
      steps: steps.map((s) => ({
        name: s.name,
        stepRunId: s.stepRunId,
        status: s.status,
        durationMs: durationOf(s.startTime, s.endTime),
        isReused: s.isReused,
        error: s.error,
      })),
    },
  };
}

/** `subject` tells apart the track's own error (`@error`) from one unreadable record (`@unreadable:<id>`). */
/** A track whose polls work again after a track.error: it resolves that alert. */
export function trackRecoveredEvent(track: Track, seq: number, now: number): WatchEvent {
  return { ...base(track, '@error', seq, now), type: 'track.recovered', experiment: track.experiment ?? '', pipelineRunId: track.pipelineRunId };
}

export function trackErrorEvent(track: Track, error: RunError & { retryable?: boolean }, seq: number, now: number, subject = '@error'): WatchEvent {
  return {
    ...base(track, subject, seq, now),
    type: 'track.error',
    experiment: track.experiment ?? '',
    pipelineRunId: track.pipelineRunId,
    error,
  };
}
