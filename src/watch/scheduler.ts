// The scheduler: ONE node-cron tick per process claims the tracks due before the next tick (an index by next poll
// time) and enqueues their polls, delayed to their due times (polls due close together share a job): a poll never
// waits for a tick on top of its interval.
import type { Redis } from 'ioredis';
import cron, { type ScheduledTask } from 'node-cron';
import { backoffMs } from '../util/backoff';
import type { Clock } from '../util/clock';
import { ConfigInvalidError } from '../model/errors';
import type { Logger } from '../util/logger';
import type { PollQueue } from '../store/queues';
import type { Keys } from '../store/keys';
import { Scripts } from '../store/scripts';

export interface IntervalPolicy {
  minMs: number;
  maxMs: number;
}

/**
 * How long until the next poll: quick right after a change; then a tenth of the time since the last
 * change (a step that has run unchanged for 10 minutes is looked at every minute), up to the max.
 * While the provider's change feed is sending hints (`pushed`), a track waits the max, even right after a change: the
 * next change is hinted and polled at once (a busy feed's runs were polled twice a change: hinted, then at the min).
 */
export function nextPollDelayMs(p: IntervalPolicy & { changed: boolean; lastChangeAt: number; now: number; pushed?: boolean }): number {
  if (p.pushed) return p.maxMs;
  if (p.changed) return p.minMs;
  const quietFor = Math.max(0, p.now - p.lastChangeAt);
  return Math.round(Math.min(p.maxMs, Math.max(p.minMs, quietFor / 10)));
}

/** Backoff after failed polls: exponential from the min interval, jittered, capped at the max; Retry-After wins when longer. */
export function failureDelayMs(p: IntervalPolicy & { failures: number; retryAfterMs?: number; random?: () => number }): number {
  return backoffMs({ baseMs: p.minMs, attempt: p.failures, maxMs: p.maxMs, retryAfterMs: p.retryAfterMs, random: p.random });
}

/** A tick may fire a little late (a busy event loop): claim that much further ahead too. */
const TICK_MARGIN_MS = 250;

export interface SchedulerOptions {
  redis: Redis;
  keys: Keys;
  /** The connection's scripts (one per connection, made where the connection is). */
  scripts?: Scripts;
  /** Poll queue of each provider instance. */
  queues: Map<string, PollQueue>;
  clock: Clock;
  /** Tracks claimed per provider per tick at most. */
  batch: number;
  /** How long a claimed track waits before it may be claimed again if its poll never reports back. */
  leaseMs: number;
  logger: Logger;
  /** More work on the same tick (due alert repeats): one node-cron task per process, whatever it drives. */
  afterTick?(now: number): Promise<void>;
}

/**
 * node-cron's own messages, in the daemon's JSON log instead of colored lines on the console. A tick still running
 * when the next is due (Redis away, a long tick) is expected and said at debug: the tick itself reports its failures.
 */
function cronLogger(log: Logger) {
  const line = (level: 'debug' | 'warn', message: string | Error, err?: Error) =>
    log[level]({ component: 'node-cron', ...(err || message instanceof Error ? { err: (err ?? (message as Error)).message } : {}) }, String(message));
  return {
    info: (m: string) => line('debug', m),
    warn: (m: string) => line('debug', m),
    error: (m: string | Error, err?: Error) => line('warn', m, err),
    debug: (m: string | Error, err?: Error) => line('debug', m, err),
  };
}

export class Scheduler {
  /** The connection's scripts: handed in by the composition root, else made here. */
  private readonly scripts: Scripts;
  private task?: ScheduledTask;
  private ticking?: Promise<number>;

  constructor(private readonly o: SchedulerOptions) {
    this.scripts = o.scripts ?? new Scripts(o.redis, o.keys);
  }

  /**
   * Claims the tracks of every provider due within `lookaheadMs` (the time to the next tick) and enqueues their
   * polls, delayed to their due times (BullMQ delayed jobs); returns how many polls were enqueued.
   */
  async tick(lookaheadMs = 0): Promise<number> {
    const now = this.o.clock.now();
    let enqueued = 0;
    for (const [provider, queue] of this.o.queues) {
      const claimed = await this.scripts.claimDue({
        schedule: this.o.keys.due(provider),
        now,
        horizon: now + lookaheadMs,
        limit: this.o.batch,
        leaseMs: this.o.leaseMs,
      });
      if (claimed.length === 0) continue;
      await queue.addPolls(
        claimed.map(({ member: trackId, dueAt }) => ({ trackId, dueAt })),
        now,
      );
      enqueued += claimed.length;
    }
    await this.o.afterTick?.(now);
    return enqueued;
  }

  /**
   * Starts the node-cron tick, and ticks once at once: after a restart, what fell due meanwhile is polled now, not
   * at the first cron tick (up to 5 s later at the defaults). Ticks never overlap; a failing tick (Redis away) is
   * logged and the next one tries again.
   */
  start(expression: string): void {
    if (!cron.validate(expression)) throw new ConfigInvalidError(`poll.tick: "${expression}" is not a valid cron expression`);
    this.task = cron.schedule(expression, () => this.runTick(), { name: 'srw-scheduler', noOverlap: true, logger: cronLogger(this.o.logger) });
    void this.runTick();
  }

  /** Until the tick after this one, with a little margin for a late tick: what is due by then is claimed now. */
  private lookaheadMs(): number {
    const next = this.task?.msToNext() ?? 0;
    return next + TICK_MARGIN_MS;
  }

  private async runTick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = this.tick(this.lookaheadMs());
    try {
      const n = await this.ticking;
      if (n > 0) this.o.logger.debug({ enqueued: n }, 'polls enqueued');
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message }, 'scheduler tick failed; retrying next tick');
    } finally {
      this.ticking = undefined;
    }
  }

  async stop(): Promise<void> {
    await this.task?.stop();
    await this.task?.destroy();
    await this.ticking?.catch(() => undefined);
  }
}
