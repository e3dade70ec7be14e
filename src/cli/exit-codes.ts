// Exit codes of the steprun-watch command, one place (documented in the README).
import type { ErrorCode } from '../model/errors';

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

const BY_CODE: Partial<Record<ErrorCode, number>> = {
  SRW_RUN_NOT_FOUND: EXIT.notFound,
  SRW_OUTPUT_NOT_FOUND: EXIT.notFound,
  SRW_TRACK_NOT_FOUND: EXIT.notFound,
  SRW_EVENT_NOT_FOUND: EXIT.notFound,
  SRW_SILENCE_NOT_FOUND: EXIT.notFound,
  SRW_ALERT_NOT_FOUND: EXIT.notFound,
  SRW_DELIVERY_NOT_FOUND: EXIT.notFound,
  SRW_TIMEOUT: EXIT.timeout,
  SRW_STEP_FAILED: EXIT.failed,
  SRW_INVALID_INPUT: EXIT.invalidInput,
  SRW_PIPELINE_INVALID: EXIT.invalidInput,
  SRW_CONFIG_INVALID: EXIT.invalidInput,
  SRW_UNSAFE_PATH: EXIT.invalidInput,
  SRW_ALREADY_EXISTS: EXIT.invalidInput,
  SRW_PROVIDER_UNAVAILABLE: EXIT.unavailable,
  SRW_REDIS_UNAVAILABLE: EXIT.unavailable,
  SRW_PROVIDER_AUTH: EXIT.unavailable,
};

export function exitCodeFor(code: ErrorCode): number {
  return BY_CODE[code] ?? EXIT.failed;
}
