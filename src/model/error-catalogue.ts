// The one error catalogue: every code steprun-watch answers with, the class that raises it, the CLI's exit status and
// the API's HTTP status. The ErrorCode type, the CLI's exit codes, the API's statuses and docs/errors.md's table all
// come from here (a test holds the page to it, both ways), in the manner of fastify's error codes.

/** Exit statuses of the steprun-watch command (documented in the README). */
export const EXIT = {
  ok: 0,
  /** A run ended Failed (wait, run), or an unexpected error. */
  failed: 1,
  /** A run ended Canceled (wait). */
  canceled: 2,
  notFound: 3,
  invalidInput: 4,
  unavailable: 5,
  timeout: 124,
  interrupted: 130,
} as const;

interface CatalogueEntry {
  /** The class that raises it (`HttpError`: only the API answers with it). */
  raisedBy: string;
  exit: number;
  status: number;
}

export const ERROR_CATALOGUE = {
  SRW_RUN_NOT_FOUND: { raisedBy: 'RunNotFoundError', exit: EXIT.notFound, status: 404 },
  SRW_OUTPUT_NOT_FOUND: { raisedBy: 'OutputNotFoundError', exit: EXIT.notFound, status: 404 },
  SRW_TRACK_NOT_FOUND: { raisedBy: 'TrackNotFoundError', exit: EXIT.notFound, status: 404 },
  SRW_EVENT_NOT_FOUND: { raisedBy: 'EventNotFoundError', exit: EXIT.notFound, status: 404 },
  SRW_SILENCE_NOT_FOUND: { raisedBy: 'SilenceNotFoundError', exit: EXIT.notFound, status: 404 },
  SRW_ALERT_NOT_FOUND: { raisedBy: 'AlertNotFoundError', exit: EXIT.notFound, status: 404 },
  SRW_DELIVERY_NOT_FOUND: { raisedBy: 'DeliveryNotFoundError', exit: EXIT.notFound, status: 404 },
  SRW_TOKEN_NOT_FOUND: { raisedBy: 'TokenNotFoundError', exit: EXIT.notFound, status: 404 },
  SRW_TIMEOUT: { raisedBy: 'WaitTimeoutError', exit: EXIT.timeout, status: 504 },
  SRW_STEP_FAILED: { raisedBy: 'StepFailedError', exit: EXIT.failed, status: 500 },
  SRW_NOT_IMPLEMENTED: { raisedBy: 'NotImplementedError', exit: EXIT.failed, status: 500 },
  SRW_PROVIDER_UNAVAILABLE: { raisedBy: 'ProviderUnavailableError', exit: EXIT.unavailable, status: 503 },
  SRW_PROVIDER_RESPONSE_INVALID: { raisedBy: 'ProviderResponseError', exit: EXIT.failed, status: 500 },
  SRW_PROVIDER_AUTH: { raisedBy: 'ProviderAuthError', exit: EXIT.unavailable, status: 500 },
  SRW_INVALID_INPUT: { raisedBy: 'InvalidInputError', exit: EXIT.invalidInput, status: 400 },
  SRW_RECORD_CORRUPT: { raisedBy: 'RecordCorruptError', exit: EXIT.failed, status: 500 },
  SRW_PIPELINE_INVALID: { raisedBy: 'PipelineInvalidError', exit: EXIT.invalidInput, status: 400 },
  SRW_CONFIG_INVALID: { raisedBy: 'ConfigInvalidError', exit: EXIT.invalidInput, status: 400 },
  SRW_UNSAFE_PATH: { raisedBy: 'UnsafePathError', exit: EXIT.invalidInput, status: 400 },
  SRW_ALREADY_EXISTS: { raisedBy: 'AlreadyExistsError', exit: EXIT.invalidInput, status: 409 },
  SRW_REDIS_UNAVAILABLE: { raisedBy: 'RedisUnavailableError', exit: EXIT.unavailable, status: 503 },
  SRW_DELIVERY_FAILED: { raisedBy: 'DeliveryError', exit: EXIT.failed, status: 500 },
  SRW_DATASTORE_UNSUPPORTED: { raisedBy: 'DatastoreUnsupportedError', exit: EXIT.failed, status: 500 },
  SRW_INTEGRITY_FAILED: { raisedBy: 'IntegrityError', exit: EXIT.failed, status: 500 },
  SRW_WORKER_EXITED: { raisedBy: 'WorkerExitedError', exit: EXIT.unavailable, status: 503 },
  SRW_CONTENDED: { raisedBy: 'ContentionError', exit: EXIT.unavailable, status: 503 },
  SRW_CANCELED: { raisedBy: 'CanceledError', exit: EXIT.canceled, status: 500 },
  SRW_CONFORMANCE_FAILED: { raisedBy: 'ConformanceError', exit: EXIT.failed, status: 500 },
  // Raised for a broken invariant; the API also answers it for any error it did not expect.
  SRW_INTERNAL: { raisedBy: 'InternalError', exit: EXIT.failed, status: 500 },
  // Only the HTTP API answers with these.
  SRW_UNAUTHORIZED: { raisedBy: 'HttpError', exit: EXIT.failed, status: 401 },
  SRW_FORBIDDEN: { raisedBy: 'HttpError', exit: EXIT.failed, status: 403 },
  SRW_SIGN_IN_FAILED: { raisedBy: 'HttpError', exit: EXIT.failed, status: 401 },
  SRW_SIGN_IN_UNAVAILABLE: { raisedBy: 'HttpError', exit: EXIT.failed, status: 503 },
  SRW_ORIGIN_NOT_ALLOWED: { raisedBy: 'HttpError', exit: EXIT.failed, status: 403 },
  SRW_NOT_FOUND: { raisedBy: 'HttpError', exit: EXIT.failed, status: 404 },
  SRW_METHOD_NOT_ALLOWED: { raisedBy: 'HttpError', exit: EXIT.failed, status: 405 },
  SRW_BODY_TOO_LARGE: { raisedBy: 'HttpError', exit: EXIT.failed, status: 413 },
  SRW_UNSUPPORTED_MEDIA_TYPE: { raisedBy: 'HttpError', exit: EXIT.failed, status: 415 },
  SRW_HOST_NOT_ALLOWED: { raisedBy: 'HttpError', exit: EXIT.failed, status: 421 },
  SRW_TOO_MANY_FAILURES: { raisedBy: 'HttpError', exit: EXIT.failed, status: 429 },
  SRW_TOO_MANY_STREAMS: { raisedBy: 'HttpError', exit: EXIT.failed, status: 429 },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** The CLI's exit status for an error code. */
export function exitCodeFor(code: ErrorCode): number {
  return ERROR_CATALOGUE[code].exit;
}

/** The API's HTTP status for an error code. */
export function httpStatusFor(code: ErrorCode): number {
  return ERROR_CATALOGUE[code].status;
}
