// Event types: the data every notifier receives, as the outbox (the events stream) holds them.
import type { StepStatus } from '../model/status';
import type { RunError } from '../model/provider';
import { formatDuration } from '../util/duration';

export type StepEventType =
  | 'steprun.notstarted'
  | 'steprun.queued'
  | 'steprun.running'
  | 'steprun.finished'
  | 'steprun.failed'
  | 'steprun.canceled'
  | 'steprun.stuck'
  | 'steprun.substate';
export type PipelineEventType = 'pipelinerun.finished' | 'pipelinerun.failed' | 'pipelinerun.canceled';
export type EventType = StepEventType | PipelineEventType | 'track.error' | 'track.recovered' | 'experiment.missing' | 'experiment.resumed' | 'alert.resolved';

export const EVENT_TYPES: readonly EventType[] = [
  'steprun.notstarted',
  'steprun.queued',
  'steprun.running',
  'steprun.finished',
  'steprun.failed',
  'steprun.canceled',
  'steprun.stuck',
  'steprun.substate',
  'pipelinerun.finished',
  'pipelinerun.failed',
  'pipelinerun.canceled',
  'track.error',
  'track.recovered',
  'experiment.missing',
  'experiment.resumed',
  'alert.resolved',
];

/** The transition itself, the same for a step and a pipeline run. */
interface TransitionData {
  status: StepStatus;
  previousStatus: StepStatus | null;
  rawStatus: string;
  startTime?: string;
  endTime?: string;
  durationMs?: number;
  error?: RunError;
}

export interface StepRunData extends TransitionData {
  stepRunId: string;
  name: string;
  nodeId: string;
  isReused: boolean;
  currentNodeId?: string;
  reusedRunId?: string;
  reusedNodeId?: string;
  reusedPipelineRunId?: string;
  outputNames: string[];
}

export interface PipelineStepSummary {
  name: string;
  stepRunId: string;
  status: StepStatus;
  durationMs?: number;
  isReused: boolean;
  error?: RunError;
}

export interface PipelineRunData extends TransitionData {
  /** The pipeline's name, the same across its runs (its alerts are keyed on it). */
  name?: string;
  steps: PipelineStepSummary[];
}

/** One event: a step or pipeline transition, or a track that cannot be polled. */
export interface WatchEvent {
  id: string;
  type: EventType;
  /** When the watcher saw it (ISO). */
  time: string;
  /** Detection time in ms, for latency metrics. */
  detectedAt: number;
  trackId: string;
  provider: string;
  experiment: string;
  pipelineRunId?: string;
  labels: Record<string, string>;
  stepRun?: StepRunData;
  pipelineRun?: PipelineRunData;
  /** Last lines of stderr, for failures. */
  stderrTail?: string;
  /** What went wrong, for track.error. */
  error?: RunError & { retryable?: boolean };
  /** Where to see the run in its service's UI (Azure ML studio). */
  links?: { label: string; url: string }[];
  /** The run's page on this daemon's dashboard (set as it is sent, when api.publicUrl is configured). */
  dashboardUrl?: string;
  /** Buttons that act on the alert (Slack: Acknowledge, Silence 1h/4h), set as it is sent when api.slack is configured. */
  alertActions?: { alertId: string };
  /** experiment.missing: the window in which no pipeline run started. */
  missing?: { windowStart: string; deadline: string; lastRunAt?: string; by?: string };
  /** steprun.substate: the raw statuses (Azure ML's own: Running → NotResponding) within or across a status. */
  subState?: SubStateData;
  /** steprun.stuck: why, and the limit it passed. */
  stuck?: StuckData;
  /** The route's annotations (runbook, summary, description, ...), rendered with this event's fields as it is sent. */
  annotations?: Record<string, string>;
  /** The alert this event opens, resolves or repeats (set by the dispatcher). */
  alertKey?: string;
  /** alert.resolved: the alert that ended. */
  alert?: ResolvedAlertData;
  /** A grouped notification: the other events sent in it (this event leads). */
  grouped?: GroupedEventSummary[];
  /**
   * Another failure of an alert the receiver was told already (renotify: update): say it shortly. `firstWord`: the
   * receiver hears of it only now (a silence or an inhibition that kept it from it ended): the full message.
   */
  stillFailing?: { failures: number; openedAt: string; firstWord?: boolean };
  /** The n-th repeat of an alert still open. */
  repeat?: number;
  /** Pager severity the route asks for (PagerDuty). */
  severity?: 'critical' | 'error' | 'warning' | 'info';
  /** A notification of an incident group (alerts/incident.ts): what the pager should hold now. */
  incident?: IncidentData;
}

/** An incident group's notification: its key at the receiver, what to do with it, and the group's alerts. */
export interface IncidentData {
  /** Stable for the group's life (PagerDuty's dedup_key). */
  key: string;
  action: 'trigger' | 'acknowledge' | 'resolve';
  title: string;
  /** The firing alerts, oldest first (the first ones in full; `firingCount` counts them all). */
  firing: { key: string; summary: string; since: string; failures: number; ackedBy?: string }[];
  firingCount: number;
  /** Alerts of the group that recovered since the last notification. */
  resolved: string[];
  /** When the oldest firing alert opened (ISO), and its failure count. */
  since?: string;
  failures?: number;
  ackedBy?: string;
  /** Why this notification went (the flush's decision). */
  reason: string;
}

export interface SubStateData {
  /** The raw status before (null: the step was first seen in `to`). */
  from: string | null;
  to: string;
}

export interface StuckData {
  /**
   * `running`: longer than its limit; `queued`: waiting to start longer than stuck.maxQueued; or a raw sub-state
   * of Running held longer than its own limit (`Finalizing`, `CancelRequested`, `NotResponding`, `Paused`).
   */
  reason: string;
  /** How long it has been in that state, and the limit (ms). */
  forMs: number;
  limitMs: number;
  /** What the limit was learned from (running): the p95 of the last Finished runs of the same step, and how many. */
  p95Ms?: number;
  samples?: number;
}

export interface ResolvedAlertData {
  key: string;
  /** When it opened (ISO), the event that opened it, and what that said. */
  openedAt: string;
  openedBy: string;
  openedType: EventType;
  openedSummary: string;
  openedRun?: string;
  /** The step or pipeline (by name) the alert was about, when it was one: receivers that label alerts need it. */
  openedStep?: string;
  openedPipeline?: string;
  /** The event and run that ended it well. */
  resolvedBy: string;
  resolvedRun?: string;
  durationMs: number;
  /** The notifiers that were sent the alert: the resolve goes to these. */
  notifiers: string[];
  /** Notifier -> the delivery of the last message of the alert it was sent: its resolve goes after that one. */
  lastMessages?: Record<string, string>;
  /** Who acknowledged it (a CLI user or API token, `@slack-user`, a PagerDuty agent), when (ISO), and why. */
  acked?: { by: string; at: string; comment?: string };
  /** Closed by a person (PagerDuty: resolved while the step still failed), not by a run: the next failure opens it again. */
  resolvedByHuman?: string;
}

export interface GroupedEventSummary {
  id: string;
  type: EventType;
  summary: string;
  /** The alert it opens, counts or resolves, if any. */
  alertKey?: string;
}

/** The run's status an event carries: its step's, else its pipeline run's. */
export function statusOf(e: Pick<WatchEvent, 'stepRun' | 'pipelineRun'>): string | undefined {
  return e.stepRun?.status ?? e.pipelineRun?.status;
}

/**
 * An event given as JSON (`routes test EVENT.json`, `POST /routes/test`): the fields it lacks that every event has,
 * defaulted (an id too: it is asked about, not stored); undefined when it is not an object with a string `type`.
 */
export function eventFromJson(value: unknown): WatchEvent | undefined {
  const e = value as Partial<WatchEvent> | null;
  if (typeof e !== 'object' || e === null || Array.isArray(e) || typeof e.type !== 'string') return undefined;
  return { id: 'given', labels: {}, experiment: '', provider: 'local', trackId: '', time: '', detectedAt: 0, ...e } as WatchEvent;
}

export function durationOf(start?: string, end?: string): number | undefined {
  if (!start || !end) return undefined;
  const ms = Date.parse(end) - Date.parse(start);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/** A short human subject line (with `detail`, the error message of a failure too), shared by the console notifier and others. */
export function summarize(e: WatchEvent, o: { detail?: boolean } = {}): string {
  const detail = o.detail ?? true;
  const watching = `watching ${e.pipelineRunId ? `pipeline ${e.pipelineRunId}` : e.trackId}`;
  if (e.stuck && e.stepRun) {
    return (
      `[Stuck] ${e.stepRun.name} ${e.stuck.reason} for ${formatDuration(e.stuck.forMs)} (limit ${formatDuration(e.stuck.limitMs)}) · ` +
      `pipeline ${e.pipelineRunId} · experiment ${e.experiment}`
    );
  }
  if (e.subState && e.stepRun) {
    const { from, to } = e.subState;
    return `[${to}] ${e.stepRun.name} ${from ? `${from} → ${to}` : `is ${to}`} · pipeline ${e.pipelineRunId} · experiment ${e.experiment}`;
  }
  if (e.stepRun) {
    const s = e.stepRun;
    return `[${s.status}] ${s.name} · pipeline ${e.pipelineRunId} · experiment ${e.experiment}` + (detail && s.error ? ` · ${s.error.message}` : '');
  }
  if (e.pipelineRun) return `[${e.pipelineRun.status}] pipeline ${e.pipelineRunId} · experiment ${e.experiment}`;
  if (e.alert) return `[Resolved] ${e.alert.openedSummary}`;
  if (e.missing) return `[Missing] no pipeline run of experiment ${e.experiment} started between ${e.missing.windowStart} and ${e.missing.deadline}`;
  if (e.type === 'experiment.resumed') return `[Resumed] a pipeline run of experiment ${e.experiment} started`;
  if (e.type === 'track.recovered') return `[Recovered] ${watching}`;
  return `[Error] ${watching} · ${e.error?.code ?? ''}` + (detail && e.error?.message ? `: ${e.error.message}` : '');
}
