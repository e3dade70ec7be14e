// Alert identity across runs (pure): which alert an event opens or resolves, and under which key.
import { isAlertingSubState } from '../model/status';
import type { KeyField } from '../store/event-fields';
import { statusOf, type EventType, type SubStateData, type WatchEvent } from '../store/events';

/** The sub-state an event opens or resolves an alert for: the one entered if it alerts, else the one left. */
export function alertingSubStateOf(s: SubStateData): string {
  return isAlertingSubState(s.to) || !s.from ? s.to : s.from;
}

export { KEY_FIELDS, MATCH_FIELDS, type KeyField } from '../store/event-fields';

/**
 * `resolve-stuck`: a step that ends canceled resolves its alert only if being stuck opened it. `resolve-substate`: a
 * step leaving NotResponding resolves only the alert that NotResponding opened (never a failure's, under a route key).
 */
export type AlertAction = 'open' | 'resolve' | 'resolve-stuck' | 'resolve-substate';

/** The event type that must have opened an alert for this action to resolve it; undefined: any. */
export function resolvesOnlyOpenedBy(action: AlertAction): EventType | undefined {
  return action === 'resolve-stuck' ? 'steprun.stuck' : action === 'resolve-substate' ? 'steprun.substate' : undefined;
}

/**
 * What an event does to its alert: a failure (or a watch error) opens it; the same key ending well resolves it.
 * A canceled step neither opens nor resolves: it says nothing about whether the failure is fixed.
 */
export function alertActionOf(e: WatchEvent): AlertAction | undefined {
  switch (e.type) {
    case 'steprun.failed':
    case 'steprun.stuck':
    case 'pipelinerun.failed':
    case 'track.error':
    case 'experiment.missing':
      return 'open';
    case 'steprun.finished':
    case 'pipelinerun.finished':
    case 'track.recovered':
    case 'experiment.resumed':
      return 'resolve';
    case 'steprun.canceled':
      return 'resolve-stuck';
    case 'steprun.substate':
      return isAlertingSubState(e.subState!.to) ? 'open' : e.subState!.from && isAlertingSubState(e.subState!.from) ? 'resolve-substate' : undefined;
    default:
      return undefined;
  }
}

/**
 * What someone must look at: failures, watch errors, stuck steps and a step that stopped responding (they page, and
 * quiet hours do not hold them).
 */
export function isFailure(e: WatchEvent): boolean {
  return (
    e.type === 'steprun.failed' ||
    e.type === 'pipelinerun.failed' ||
    e.type === 'track.error' ||
    e.type === 'steprun.stuck' ||
    e.type === 'experiment.missing' ||
    (e.type === 'steprun.substate' && isAlertingSubState(e.subState!.to))
  );
}

/**
 * The alert key: the same for every run of the same thing, so that run 2 finishing resolves what run 1 opened.
 * Steps: `provider/experiment/step name`; pipelines: `provider/experiment/pipeline name`; watch errors: the track id.
 * A route may list its own fields instead.
 */
export function alertKeyOf(e: WatchEvent, fields?: readonly KeyField[]): string {
  if (fields?.length) return fields.map((f) => valueOf(e, f) ?? '-').join('/');
  if (e.type === 'track.error' || e.type === 'track.recovered') return trackAlertKey(e.trackId);
  if (e.type === 'experiment.missing' || e.type === 'experiment.resumed') return [e.provider, e.experiment, 'missing'].join('/');
  // A sub-state's alert is its own (…/step/train/NotResponding): a failure meanwhile opens the step's, with its reason.
  if (e.subState && e.stepRun) return [e.provider, e.experiment, 'step', e.stepRun.name, alertingSubStateOf(e.subState)].join('/');
  if (e.stepRun) return [e.provider, e.experiment, 'step', e.stepRun.name].join('/');
  if (e.pipelineRun) return [e.provider, e.experiment, 'pipeline', e.pipelineRun.name ?? e.experiment].join('/');
  return trackAlertKey(e.trackId);
}

/** A track's own alert (its track.error), unless a route keys it otherwise. */
export function trackAlertKey(trackId: string): string {
  return `track/${trackId}`;
}

function valueOf(e: WatchEvent, field: KeyField): string | undefined {
  if (field.startsWith('labels.')) return e.labels[field.slice('labels.'.length)];
  switch (field) {
    case 'provider':
      return e.provider;
    case 'experiment':
      return e.experiment;
    case 'step':
      return e.stepRun?.name;
    case 'pipeline':
      return e.pipelineRun?.name ?? (e.pipelineRun ? e.experiment : undefined);
    case 'pipelineRunId':
      return e.pipelineRunId;
    case 'trackId':
      return e.trackId;
    case 'type':
      return e.type;
    default:
      return undefined;
  }
}

/**
 * Silence matchers that match the alert of this event by its default key's fields (a Slack "Silence 1h" button):
 * the same step of the same experiment, or the same pipeline, or the same track.
 */
export function keyMatchersOf(e: WatchEvent): Record<string, string> {
  if (e.type === 'track.error' || e.type === 'track.recovered') return { trackId: e.trackId };
  if (e.type === 'experiment.missing' || e.type === 'experiment.resumed') return { provider: e.provider, experiment: e.experiment, type: 'experiment.*' };
  if (e.stepRun) return { provider: e.provider, experiment: e.experiment, step: e.stepRun.name };
  if (e.pipelineRun) return { provider: e.provider, experiment: e.experiment, pipeline: e.pipelineRun.name ?? e.experiment };
  return { trackId: e.trackId };
}

/** The run an event is about, for "opened by run X" and "fixed by run Y". */
export function runOf(e: WatchEvent): string | undefined {
  return e.pipelineRunId ?? e.stepRun?.stepRunId;
}

/** Any event field a matcher may name (silences, group-by): same names as keys, plus status. */
export function fieldOf(e: WatchEvent, field: string): string | undefined {
  if (field === 'status') return statusOf(e);
  return valueOf(e, field as KeyField);
}
