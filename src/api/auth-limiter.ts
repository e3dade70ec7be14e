// Failed sign-ins, bearer tokens and hook secrets, counted per client address: after too many in a window the
// address gets 429 with Retry-After, before its credentials are even looked at, so guessing cannot go on at speed.
// In memory, per process: each daemon guards its own port.

export interface AuthLimits {
  /** Failures an address may make within `windowMs` before it is refused. */
  maxFailures: number;
  windowMs: number;
}

export const DEFAULT_AUTH_LIMITS: AuthLimits = { maxFailures: 10, windowMs: 60_000 };

/** Addresses remembered at most: a flood from many addresses cannot grow the map without bound. */
const MAX_ADDRESSES = 10_000;

export class AuthLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly now: () => number,
    private readonly limits: AuthLimits = DEFAULT_AUTH_LIMITS,
  ) {}

  /** Seconds the address must wait, or undefined when it may try. */
  retryAfter(address: string): number | undefined {
    const recent = this.recent(address);
    if (recent.length < this.limits.maxFailures) return undefined;
    const freeAt = recent[recent.length - this.limits.maxFailures]! + this.limits.windowMs;
    return Math.max(1, Math.ceil((freeAt - this.now()) / 1000));
  }

  /** A wrong credential from this address. */
  fail(address: string): void {
    const recent = this.recent(address);
    recent.push(this.now());
    this.failures.delete(address); // re-inserted last: the map's order is the order of last failure
    this.failures.set(address, recent.slice(-this.limits.maxFailures));
    if (this.failures.size > MAX_ADDRESSES) this.failures.delete(this.failures.keys().next().value!);
  }

  private recent(address: string): number[] {
    const since = this.now() - this.limits.windowMs;
    return (this.failures.get(address) ?? []).filter((t) => t > since);
  }
}
