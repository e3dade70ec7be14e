// Every event the daemon appends is built here, beside the types of store/events.ts: the watcher's (steps,
// pipeline runs, sub-states, track errors), the stuck and missing watches', and the alert store's alert.resolved.
// Each is a pure function of what was observed; the id is `eventId(track, subject, seq)`, so a replay builds the same one.
import { ERROR_FIELD, MISSING_FIELD, PIPELINE_FIELD, subStateField } from './state-fields';
import { isTerminal, type StepStatus } from '../model/status';
import type { PipelineRunSnapshot, RunError, StepRunSnapshot } from '../model/provider';
import { durationOf, type PipelineEventType, type StepEventType, type StepRunData, type SubStateData, type WatchEvent } from './events';
import { eventId, resolvedEventId } from './ids';
import type { Expectation, Track } from './tracks';
import { InternalError } from '../model/errors';

export function stepEventType(status: StepStatus): StepEventType {
  return `steprun.${status.toLowerCase()}` as StepEventType;
}

/** Every event's `time`, the last one kept as text: a poll's events share one `now` (a changed run of 10 steps: 10 events). */
let lastTime = { ms: NaN, iso: '' };
function isoTime(ms: number): string {
  if (ms !== lastTime.ms) lastTime = { ms, iso: new Date(ms).toISOString() };
  return lastTime.iso;
}

function base(track: Track, subject: string, seq: number, now: number) {
  return {
    id: eventId(track.id, subject, seq),
    time: isoTime(now),
    detectedAt: now,
    trackId: track.id,
    provider: track.provider,
    labels: track.labels,
    ...(track.annotations ? { annotations: track.annotations } : {}),
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
  return { ...step, ...base(track, subStateField(s.stepRunId), seq, now), type: 'steprun.substate', subState };
}

export function pipelineEvent(
  track: Track,
  p: PipelineRunSnapshot,
  steps: StepRunSnapshot[],
  previous: StepStatus | null,
  seq: number,
  now: number,
): WatchEvent {
  if (!isTerminal(p.status)) throw new InternalError('pipeline events are for terminal pipeline runs');
  return {
    ...base(track, PIPELINE_FIELD, seq, now),
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

/** A track whose polls work again after a track.error: it resolves that alert. `subject`: the error it ends, as trackErrorEvent's. */
export function trackRecoveredEvent(track: Track, seq: number, now: number, subject = ERROR_FIELD): WatchEvent {
  return { ...base(track, subject, seq, now), type: 'track.recovered', experiment: track.experiment ?? '', pipelineRunId: track.pipelineRunId };
}

/** `subject` tells apart the track's own error (`@error`) from one unreadable record (`@unreadable:<id>`). */
export function trackErrorEvent(track: Track, error: RunError & { retryable?: boolean }, seq: number, now: number, subject = ERROR_FIELD): WatchEvent {
  return {
    ...base(track, subject, seq, now),
    type: 'track.error',
    experiment: track.experiment ?? '',
    pipelineRunId: track.pipelineRunId,
    error,
  };
}

/** What the stuck watch recorded when it set a step's deadline. */
export interface StuckFacts {
  track: Pick<Track, 'id' | 'provider' | 'labels' | 'annotations'>;
  experiment: string;
  pipelineRunId: string;
  step: StepRunData;
  reason: string;
  /** Set for a raw sub-state deadline: the raw status it watches. */
  subState?: string;
  sinceMs: number;
  limitMs: number;
  p95Ms?: number;
  samples?: number;
}

/** One steprun.stuck per step (and raw sub-state): `subject` is its state field, the sequence is always 1. */
export function stuckEvent(info: StuckFacts, subject: string, now: number): WatchEvent {
  return {
    id: eventId(info.track.id, subject, 1),
    type: 'steprun.stuck',
    time: isoTime(now),
    detectedAt: now,
    trackId: info.track.id,
    provider: info.track.provider,
    experiment: info.experiment,
    pipelineRunId: info.pipelineRunId,
    labels: info.track.labels,
    ...(info.track.annotations ? { annotations: info.track.annotations } : {}),
    stepRun: info.step,
    stuck: {
      reason: info.reason,
      forMs: now - info.sinceMs,
      limitMs: info.limitMs,
      ...(info.p95Ms !== undefined ? { p95Ms: info.p95Ms, samples: info.samples } : {}),
    },
  };
}

export { MISSING_FIELD } from './state-fields';

export function experimentEvent(track: Track, type: 'experiment.missing' | 'experiment.resumed', seq: number, now: number): WatchEvent {
  return {
    id: eventId(track.id, MISSING_FIELD, seq),
    type,
    time: isoTime(now),
    detectedAt: now,
    trackId: track.id,
    provider: track.provider,
    experiment: track.experiment ?? '',
    labels: track.labels,
    ...(track.annotations ? { annotations: track.annotations } : {}),
  };
}

export function missingEvent(track: Track, e: Expectation, seq: number, deadline: number, lastRunAt: number, now: number): WatchEvent {
  return {
    ...experimentEvent(track, 'experiment.missing', seq, now),
    missing: {
      windowStart: new Date(deadline - e.everyMs).toISOString(),
      deadline: new Date(deadline).toISOString(),
      ...(lastRunAt > 0 ? { lastRunAt: new Date(lastRunAt).toISOString() } : {}),
      ...(e.by ? { by: `${e.by} ${e.tz}` } : {}),
    },
  };
}

/** What the alert store knows of an open alert that a resolve reports. */
export interface ResolvedAlertFacts {
  openedBy: string;
  openedAt: number;
  openedType: string;
  openedSummary: string;
  openedRun?: string;
  notifiers: string[];
  told: Record<string, string>;
  acked?: { by: string; at: number; comment?: string };
  /** The event that opened it. */
  event?: WatchEvent;
}

/** The alert.resolved of alert `key`, resolved by event `by` (of run `resolvedRun`) or by a human. */
export function alertResolvedEvent(
  key: string,
  alert: ResolvedAlertFacts,
  by: WatchEvent,
  now: number,
  o: { resolvedRun?: string; byHuman?: string },
): WatchEvent {
  return {
    id: resolvedEventId(alert.openedBy),
    type: 'alert.resolved',
    time: isoTime(now),
    detectedAt: now,
    trackId: by.trackId,
    provider: by.provider,
    experiment: by.experiment,
    ...(by.pipelineRunId ? { pipelineRunId: by.pipelineRunId } : {}),
    labels: by.labels,
    alertKey: key,
    alert: {
      key,
      openedAt: new Date(alert.openedAt).toISOString(),
      openedBy: alert.openedBy,
      openedType: alert.openedType as WatchEvent['type'],
      openedSummary: alert.openedSummary,
      ...(alert.openedRun ? { openedRun: alert.openedRun } : {}),
      ...(alert.event?.stepRun ? { openedStep: alert.event.stepRun.name } : {}),
      ...(alert.event?.pipelineRun ? { openedPipeline: alert.event.pipelineRun.name ?? alert.event.experiment } : {}),
      resolvedBy: by.id,
      ...(o.resolvedRun ? { resolvedRun: o.resolvedRun } : {}),
      durationMs: Math.max(0, now - alert.openedAt),
      notifiers: alert.notifiers,
      lastMessages: alert.told,
      ...(alert.acked ? { acked: { ...alert.acked, at: new Date(alert.acked.at).toISOString() } } : {}),
      ...(o.byHuman ? { resolvedByHuman: o.byHuman } : {}),
    },
  };
}
