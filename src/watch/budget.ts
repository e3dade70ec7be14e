// A provider's request budget, shared by every process through Redis: a counter per window (a minute by default; a
// shorter window gets its share of the minute).
import type { Redis } from 'ioredis';
import type { Clock } from '../util/clock';
import type { Logger } from '../util/logger';
import type { RequestBudget } from '../model/provider';
import type { Keys } from '../store/keys';
import { Scripts } from '../store/scripts';

export class RedisBudget implements RequestBudget {
  constructor(
    private readonly redis: () => Redis,
    private readonly keys: Keys,
    private readonly provider: string,
    private readonly limit: { perMinute: number; windowMs?: number },
    private readonly clock: Clock,
    private readonly o: {
      sleep?: (ms: number) => Promise<void>;
      /** Called each time a request finds the window spent and must wait (the shortfall is surfaced, not hidden). */
      onSpent?: (provider: string) => void;
    } = {},
  ) {}

  private get windowMs(): number {
    return this.limit.windowMs ?? 60_000;
  }

  /** Requests per window: the window's share of the minute, at least one. */
  private get perWindow(): number {
    return Math.max(1, Math.floor((this.limit.perMinute * this.windowMs) / 60_000));
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    const windowMs = this.windowMs;
    for (;;) {
      const now = this.clock.now();
      const window = Math.floor(now / windowMs);
      const ok = await new Scripts(this.redis(), this.keys).takeBudget({
        counter: this.keys.budget(this.provider, window),
        perWindow: this.perWindow,
        windowMs,
      });
      if (ok) return;
      if (signal?.aborted) throw signal.reason;
      this.o.onSpent?.(this.provider);
      // Spent: wait for the next window, spread over its first sixtieth so processes do not stampede.
      await (this.o.sleep ?? sleepMs)((window + 1) * windowMs - now + Math.floor(Math.random() * Math.max(1, windowMs / 60)));
    }
  }
}

function sleepMs(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * A short budget, surfaced: every wait is counted (srw_provider_budget_waits_total), and a warning says so at most
 * once a minute per provider, with what to do about it.
 */
export class BudgetShortfall {
  private readonly waits = new Map<string, { count: number; warnedAt: number }>();

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly count: (provider: string) => void,
  ) {}

  note(provider: string): void {
    this.count(provider);
    const now = this.clock.now();
    const w = this.waits.get(provider) ?? { count: 0, warnedAt: -Infinity };
    w.count++;
    this.waits.set(provider, w);
    if (now - w.warnedAt < 60_000) return;
    this.log.warn(
      { provider, waits: w.count },
      `provider ${provider}: its request budget is spent for this window, polls wait for the next (${w.count} waits since the last warning); ` +
        'tracks are polled later than their interval: raise maxRequestsPerMinute, lengthen poll.maxIntervalSeconds, or use change hints',
    );
    w.count = 0;
    w.warnedAt = now;
  }
}
