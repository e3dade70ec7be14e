// The one backoff rule (failed polls, deliveries, Azure retries): exponential from a base, capped, jittered ±25%,
// and never shorter than what the other side asked for (Retry-After).

export interface BackoffOptions {
  /** The delay of the first retry (ms). */
  baseMs: number;
  /** 1 for the first retry. */
  attempt: number;
  maxMs: number;
  /** A longer wait the other side asked for (Retry-After), honoured as it is. */
  retryAfterMs?: number;
  /** For tests: 0.5 means no jitter. */
  random?: () => number;
}

export function backoffMs(o: BackoffOptions): number {
  const exp = Math.min(o.maxMs, o.baseMs * 2 ** Math.min(30, Math.max(0, o.attempt - 1)));
  // Jitter keeps many failing tracks or deliveries from retrying in lockstep against one service.
  const jittered = exp * (0.75 + 0.5 * (o.random ?? Math.random)());
  return Math.round(Math.max(jittered, o.retryAfterMs ?? 0));
}
