// Every error the project raises, each with a stable code (the error catalogue: error-catalogue.ts), a retryable flag and its cause.

import type { ErrorCode } from './error-catalogue';

export type { ErrorCode };

export interface SrwErrorOptions {
  cause?: unknown;
  retryable?: boolean;
}

/** Base class of every steprun-watch error: match on `code`, never on the message. */
export class SrwError extends Error {
  readonly code: ErrorCode;
  /** True when trying the same thing again later may succeed (outages, throttling). */
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: SrwErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** A run id (step or pipeline) the provider does not know. */
export class RunNotFoundError extends SrwError {
  constructor(
    readonly runId: string,
    options?: SrwErrorOptions,
  ) {
    super('SRW_RUN_NOT_FOUND', `run not found: ${runId}`, options);
  }
}

/** A step run has no output of that name. */
export class OutputNotFoundError extends SrwError {
  constructor(
    readonly stepRunId: string,
    readonly outputName: string,
    readonly available: string[] = [],
  ) {
    super(
      'SRW_OUTPUT_NOT_FOUND',
      `step run ${stepRunId} has no output named "${outputName}"` + (available.length ? ` (outputs: ${available.join(', ')})` : ' (it has no outputs)'),
    );
  }
}

/** waitForCompletion ran out of time before the run was terminal. */
export class WaitTimeoutError extends SrwError {
  constructor(
    readonly runId: string,
    readonly timeoutSeconds: number,
    readonly lastStatus: string,
  ) {
    super('SRW_TIMEOUT', `run ${runId} still ${lastStatus} after ${timeoutSeconds}s`);
  }
}

/** waitForCompletion({ raiseOnError: true }) on a run that ended Failed. */
export class StepFailedError extends SrwError {
  constructor(
    readonly runId: string,
    readonly error?: { code?: string; message?: string },
  ) {
    super('SRW_STEP_FAILED', `run ${runId} failed` + (error?.message ? `: ${error.message}` : ''));
  }
}

/** childRun, complete and fail exist in the seed's class but are not implemented for StepRun. */
export class NotImplementedError extends SrwError {
  constructor(readonly method: string) {
    super('SRW_NOT_IMPLEMENTED', `${method} is not implemented for StepRun`);
  }
}

/** The provider could not be reached or answered with a transient failure. */
export class ProviderUnavailableError extends SrwError {
  constructor(message: string, options: SrwErrorOptions & { retryAfterMs?: number } = {}) {
    super('SRW_PROVIDER_UNAVAILABLE', message, { retryable: true, ...options });
    this.retryAfterMs = options.retryAfterMs;
  }
  readonly retryAfterMs?: number;
}

/** The provider answered something its documentation does not promise. */
export class ProviderResponseError extends SrwError {
  constructor(message: string, options?: SrwErrorOptions) {
    super('SRW_PROVIDER_RESPONSE_INVALID', message, options);
  }
}

/** The provider refused our credentials (401/403): retrying will not help. */
export class ProviderAuthError extends SrwError {
  constructor(message: string, options?: SrwErrorOptions) {
    super('SRW_PROVIDER_AUTH', message, options);
  }
}

/** An argument from a user or a caller is not acceptable. */
export class InvalidInputError extends SrwError {
  constructor(message: string, options?: SrwErrorOptions) {
    super('SRW_INVALID_INPUT', message, options);
  }
}

/** A record file of the local run store cannot be read as a record. */
export class RecordCorruptError extends SrwError {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super('SRW_RECORD_CORRUPT', `corrupt run record ${file}: ${reason}`);
  }
}

/** A pipeline file that cannot be run; the message names the line or field. */
export class PipelineInvalidError extends SrwError {
  constructor(message: string) {
    super('SRW_PIPELINE_INVALID', message);
  }
}

/** A config file or setting that does not validate; the message names the field (every problem, when there are several). */
export class ConfigInvalidError extends SrwError {
  /** Each problem on its own, `field: what is wrong`. */
  readonly problems: string[];

  constructor(problems: string | string[]) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super('SRW_CONFIG_INVALID', list.length === 1 ? list[0]! : `${list.length} problems:\n  - ${list.join('\n  - ')}`);
    this.problems = list;
  }
}

/** A datastore of a kind steprun-watch cannot read (Azure Files, ADLS Gen1, OneLake): says what to do instead. */
export class DatastoreUnsupportedError extends SrwError {
  constructor(
    readonly datastore: string,
    readonly datastoreType: string,
    advice: string,
  ) {
    super('SRW_DATASTORE_UNSUPPORTED', `datastore ${datastore} is ${datastoreType}, which steprun-watch cannot read: ${advice}`);
  }
}

/** A downloaded file does not match what the service says it holds (Content-MD5, else size), after retries. */
export class IntegrityError extends SrwError {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    // Retryable: a corrupt transfer is a transfer problem; the harvest tries again later, then dead-letters it.
    super('SRW_INTEGRITY_FAILED', `${file}: the download does not match the service's ${detail}`, { retryable: true });
  }
}

/** A condition the code holds to did not hold: a bug (the message says which; report it). */
export class InternalError extends SrwError {
  constructor(message: string) {
    super('SRW_INTERNAL', message);
  }
}

/** A thread or process the daemon depends on exited (a deliver thread, the record reader, the demo's daemon). */
export class WorkerExitedError extends SrwError {
  constructor(message: string, options?: SrwErrorOptions) {
    // Retryable: another is started (deliver threads, the record reader) and the work is tried again.
    super('SRW_WORKER_EXITED', message, { retryable: true, ...options });
  }
}

/** A write kept meeting concurrent changes of the same record and gave up for now; it is tried again later. */
export class ContentionError extends SrwError {
  constructor(message: string) {
    super('SRW_CONTENDED', message, { retryable: true });
  }
}

/** A local run was stopped: Ctrl-C or SIGTERM, or its runner crashed (the reason a canceled step records). */
export class CanceledError extends SrwError {
  constructor(reason: string) {
    super('SRW_CANCELED', reason);
  }
}

/** A provider or notifier plugin does not do what the conformance kit checks (the message says what). */
export class ConformanceError extends SrwError {
  constructor(message: string) {
    super('SRW_CONFORMANCE_FAILED', message);
  }
}

/** A path that would escape the folder it must stay in. */
export class UnsafePathError extends SrwError {
  constructor(
    readonly unsafePath: string,
    reason: string,
  ) {
    super('SRW_UNSAFE_PATH', `refused path "${unsafePath}": ${reason}`);
  }
}

/** Something that must be new already exists (a run id given with --run-id, a download target). */
export class AlreadyExistsError extends SrwError {
  constructor(message: string) {
    super('SRW_ALREADY_EXISTS', message);
  }
}

/** Redis did not answer. */
export class RedisUnavailableError extends SrwError {
  constructor(url: string, options?: SrwErrorOptions) {
    super('SRW_REDIS_UNAVAILABLE', `Redis is not reachable at ${url}`, { retryable: true, ...options });
  }
}

/** A track id that is not stored. */
export class TrackNotFoundError extends SrwError {
  constructor(readonly trackId: string) {
    super('SRW_TRACK_NOT_FOUND', `no track with id ${trackId}`);
  }
}

/** An event id that the events stream does not hold (never, or no longer). */
export class EventNotFoundError extends SrwError {
  constructor(readonly eventId: string) {
    super('SRW_EVENT_NOT_FOUND', `event ${eventId} is not in the events stream (see \`steprun-watch events\`)`);
  }
}

/** A silence id that is not stored. */
/** No open alert with that id or key (it may have resolved). */
export class AlertNotFoundError extends SrwError {
  constructor(readonly alert: string) {
    super('SRW_ALERT_NOT_FOUND', `no open alert ${alert} (see \`steprun-watch alerts\`; it may have resolved)`);
  }
}

export class SilenceNotFoundError extends SrwError {
  constructor(readonly silenceId: string) {
    super('SRW_SILENCE_NOT_FOUND', `no silence with id ${silenceId} (see \`steprun-watch silence list\`)`);
  }
}

/** A delivery id that is not stored. */
export class DeliveryNotFoundError extends SrwError {
  constructor(readonly deliveryId: string) {
    super('SRW_DELIVERY_NOT_FOUND', `no delivery with id ${deliveryId}`);
  }
}

export class TokenNotFoundError extends SrwError {
  constructor(readonly tokenName: string) {
    super('SRW_TOKEN_NOT_FOUND', `no API token named "${tokenName}" (steprun-watch tokens list shows them)`);
  }
}

/** A notifier could not deliver an event. */
export class DeliveryError extends SrwError {
  constructor(message: string, options: SrwErrorOptions & { retryAfterMs?: number } = {}) {
    super('SRW_DELIVERY_FAILED', message, options);
    this.retryAfterMs = options.retryAfterMs;
  }
  readonly retryAfterMs?: number;
}

/**
 * An error of this project's, by shape rather than class identity: a plugin built against its own copy of the
 * package (another version, or dist/ beside src/) throws a RunNotFoundError that is not this one's class.
 */
export function isSrwError(err: unknown): err is SrwError {
  if (err instanceof SrwError) return true;
  const e = err as { code?: unknown; retryable?: unknown } | null;
  return err instanceof Error && typeof e?.code === 'string' && e.code.startsWith('SRW_') && typeof e.retryable === 'boolean';
}
