// The Redis state schema of a track (keys.state(trackId), a hash): every field name the watch writes, in one place.
// A step's own field is its step run id (`seq|status`); the others start with `@`, which no run id does. Event ids
// are built from the same names (ids.ts eventId), so a field and the events of its transitions share one subject.

import { isStepStatus, type StepStatus } from '../model/status';

/** The pipeline run's summary: `seq|status|stepCount`. */
export const PIPELINE_FIELD = '@pipeline';
/** The track's own error (the provider's, raised by recordPollFailure-5.lua): `seq|status`. */
export const ERROR_FIELD = '@error';
/** An experiment track's missing-run watch: `seq|status|deadline`. */
export const MISSING_FIELD = '@missing';
/** One field per unreadable step record: its track.error is raised once, by the same compare-and-set. */
export const UNREADABLE_FIELD_PREFIX = '@unreadable:';
/** One field per step whose raw sub-state changed since its last status event: `<subSeq>|<raw>|<status seq>`. */
export const SUBSTATE_FIELD_PREFIX = '@sub:';
/** One field per stuck alert of a step (and sub-state): `seq|status`. */
export const STUCK_FIELD_PREFIX = '@stuck:';
/** One field per step held in a limited raw sub-state: `<raw status>|<since ms>`. */
export const RAW_FIELD_PREFIX = '@raw:';

export const unreadableField = (stepRunId: string): string => UNREADABLE_FIELD_PREFIX + stepRunId;
export const subStateField = (stepRunId: string): string => SUBSTATE_FIELD_PREFIX + stepRunId;
export const rawField = (stepRunId: string): string => RAW_FIELD_PREFIX + stepRunId;
export const stuckField = (stepRunId: string, subState?: string): string => STUCK_FIELD_PREFIX + stepRunId + (subState ? `:${subState}` : '');

/** Whether any stored field starts with `prefix` (`@sub:`, `@raw:`): one pass over a run's few fields. */
export function hasFieldStartingWith(fields: Record<string, string>, prefix: string): boolean {
  for (const field in fields) if (field.startsWith(prefix)) return true;
  return false;
}

/**
 * The stored state of one step (or `@pipeline`): how many transitions it has had and its last status;
 * for `@pipeline`, also how many steps its summary covered (an open run that gains a step is news); for a step,
 * the raw status it was last seen in (Azure ML's NotResponding, Finalizing, …), so a sub-state change is seen.
 */
export interface SeenState {
  seq: number;
  status: StepStatus;
  steps?: number;
  raw?: string;
}

/**
 * `seq|status`, `seq|status|steps` (pipeline), `seq|status||raw` (a step whose raw status is not its status's name:
 * `Completed`, `NotResponding`): the common value stays as short as before, and older values decode alike.
 */
export function encodeState(s: SeenState): string {
  const head = `${s.seq}|${s.status}`;
  if (s.raw !== undefined && s.raw !== s.status) return `${head}|${s.steps ?? ''}|${s.raw}`;
  return s.steps === undefined ? head : `${head}|${s.steps}`;
}

export function decodeState(value: string | undefined): SeenState | undefined {
  if (!value) return undefined;
  const [seqText, status, stepsText, raw] = value.split('|');
  const seq = Number(seqText);
  if (!Number.isInteger(seq) || !status || !isStepStatus(status)) return undefined;
  const steps = stepsText ? Number(stepsText) : undefined;
  return {
    seq,
    status,
    ...(steps !== undefined && Number.isInteger(steps) ? { steps } : {}),
    ...(raw ? { raw } : {}),
  };
}
