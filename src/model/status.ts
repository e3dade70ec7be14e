// The normalized step-run statuses, the map from every raw service status onto them, and which end a run.

/** The statuses the model speaks, whatever the provider. */
export const Status = {
  NotStarted: 'NotStarted',
  Queued: 'Queued',
  Running: 'Running',
  Finished: 'Finished',
  Failed: 'Failed',
  Canceled: 'Canceled',
} as const;

export type StepStatus = (typeof Status)[keyof typeof Status];

export const STATUSES: readonly StepStatus[] = Object.values(Status);

/** A run in one of these will not change again. */
export const TERMINAL_STATUSES: ReadonlySet<StepStatus> = new Set<StepStatus>([Status.Finished, Status.Failed, Status.Canceled]);

/**
 * Raw Azure ML statuses (run history, ARM JobStatus, the pipeline service) onto the normalized ones.
 * Keys are lower case: the services disagree on case (Event Grid says `failed`), so lookups fold it.
 * Judgements, after the SDKs (the sources are cited in docs/PROVIDERS.md):
 * - Finalizing and CancelRequested are still Running: the outcome is not known yet.
 * - NotResponding, Pausing and Paused stay Running (non-terminal, as azureml-core counts them):
 *   the run may come back, and a watcher that called them terminal would retire too early.
 * - Unknown stays Running as well (azureml-pipeline-core keeps waiting on it).
 * - PartiallyExecuted (some steps did not run) is Failed; Bypassed (skipped) is Canceled.
 */
const RAW_TO_STATUS: ReadonlyMap<string, StepStatus> = new Map<string, StepStatus>([
  ['notstarted', Status.NotStarted],
  ['unapproved', Status.Queued],
  ['queued', Status.Queued],
  ['preparing', Status.Queued],
  ['provisioning', Status.Queued],
  ['starting', Status.Queued],
  ['running', Status.Running],
  ['finalizing', Status.Running],
  ['cancelrequested', Status.Running],
  ['notresponding', Status.Running],
  ['pausing', Status.Running],
  ['paused', Status.Running],
  ['unknown', Status.Running],
  ['completed', Status.Finished],
  ['finished', Status.Finished],
  ['failed', Status.Failed],
  ['partiallyexecuted', Status.Failed],
  ['canceled', Status.Canceled],
  ['cancelled', Status.Canceled],
  ['bypassed', Status.Canceled],
]);

/** Every raw status the table knows, as the services spell them. */
export const RAW_STATUSES: readonly string[] = [
  'NotStarted',
  'Unapproved',
  'Queued',
  'Preparing',
  'Provisioning',
  'Starting',
  'Running',
  'Finalizing',
  'CancelRequested',
  'NotResponding',
  'Pausing',
  'Paused',
  'Unknown',
  'Completed',
  'Finished',
  'Failed',
  'PartiallyExecuted',
  'Canceled',
  'Cancelled',
  'Bypassed',
];

/** The normalized status of a raw one, or undefined when the raw status is not in the table. */
export function normalizeStatus(raw: string): StepStatus | undefined {
  return RAW_TO_STATUS.get(raw.trim().toLowerCase());
}

export function isTerminal(status: StepStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

export function isStepStatus(value: unknown): value is StepStatus {
  return typeof value === 'string' && (STATUSES as readonly string[]).includes(value);
}

const CANONICAL_RAW: ReadonlyMap<string, string> = new Map(RAW_STATUSES.map((r) => [r.toLowerCase(), r]));

/** The raw statuses as the services spell them: the common case, answered without folding the case (a poll asks per step). */
const SPELLED_RAW: ReadonlySet<string> = new Set(RAW_STATUSES);

/** A raw status as the run-history API spells it (`notresponding` from Event Grid → `NotResponding`); unknown ones as given. */
export function canonicalRawStatus(raw: string): string {
  if (SPELLED_RAW.has(raw)) return raw;
  return CANONICAL_RAW.get(raw.trim().toLowerCase()) ?? raw.trim();
}

/** Raw sub-states that open a warning alert on their own (resolved when the step leaves them). */
export const ALERTING_SUBSTATES: readonly string[] = ['NotResponding'];

export function isAlertingSubState(raw: string): boolean {
  return ALERTING_SUBSTATES.includes(canonicalRawStatus(raw));
}

/** The plain spellings of the statuses themselves: any other raw status is a sub-state worth showing. */
const PLAIN_RAW = new Set(['notstarted', 'queued', 'running', 'completed', 'finished', 'failed', 'canceled', 'cancelled']);
const PLAIN_SPELLED: ReadonlySet<string> = new Set(RAW_STATUSES.filter((r) => PLAIN_RAW.has(r.toLowerCase())));

/** The raw sub-state a step is in (`NotResponding`, `Finalizing`, `Preparing`), or undefined for a plain status. */
export function subStateOf(rawStatus: string): string | undefined {
  if (SPELLED_RAW.has(rawStatus)) return PLAIN_SPELLED.has(rawStatus) ? undefined : rawStatus;
  return PLAIN_RAW.has(rawStatus.trim().toLowerCase()) ? undefined : canonicalRawStatus(rawStatus);
}
