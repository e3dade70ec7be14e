// A provider's request budget, shared by every process through Redis: a counter per one-minute window.
import type { Redis } from 'ioredis';
import type { Clock } from '../util/clock';
import type { RequestBudget } from '../model/provider';
import type { Keys } from '../store/keys';
import { scriptsFor } from '../store/scripts';

const WINDOW_MS = 60000;

export class RedisBudget implements RequestBudget {
  constructor(
    private readonly redis: () => Redis,
    private readonly keys: Keys,
    private readonly provider: string,
    private readonly perMinute: number,
    private readonly clock: Clock,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      const window = Math.floor(now / WINDOW_MS);
      const ok = await scriptsFor(this.redis(), this.keys).takeBudget({
        counter: this.keys.budget(this.provider, window),
        perWindow: this.perMinute,
        windowMs: WINDOW_MS,
      });
      if (ok) return;
      if (signal?.aborted) throw signal.reason;
      // Spent: wait for the next window, spread out so processes do not stampede.
      await this.sleep((window + 1) * WINDOW_MS - now + Math.floor(Math.random() * 1000));
    }
  }
}
