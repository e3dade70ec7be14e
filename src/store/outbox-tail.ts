// Tails the outbox: one Redis reader per process for every Server-Sent Events client (60 browser tabs must not take
// 60 Redis connections), and for `events --follow`.
import type { Redis } from 'ioredis';
import type { Logger } from '../util/logger';

import type { StreamEntry } from './outbox';

export interface FanoutSubscriber {
  /** Called with each new entry, in stream order. */
  onEntry(entry: StreamEntry): void;
  /** Called when nothing came for a while (for keep-alive comments). */
  onIdle?(): void;
}

/**
 * Tails one stream with a single blocking connection while anyone listens, and hands every new entry to each
 * subscriber. A subscriber resuming from an id catches up with a plain XRANGE first (on the shared, non-blocking
 * connection); entries that arrive meanwhile are buffered, so none is lost or sent twice.
 */
export class EventFanout {
  private readonly subscribers = new Set<Subscription>();
  private running?: Promise<void>;
  /** Ends the loop's current wait: called when the last subscriber leaves, and by close(). */
  private wake: () => void = () => undefined;
  private last = '$';

  constructor(
    private readonly redis: Redis,
    private readonly stream: string,
    private readonly logger: Logger,
  ) {}

  get size(): number {
    return this.subscribers.size;
  }

  /** Subscribes; with `after`, entries after that id are replayed first. Returns the unsubscribe function. */
  async subscribe(subscriber: FanoutSubscriber, after?: string): Promise<() => void> {
    const sub = new Subscription(subscriber);
    this.subscribers.add(sub);
    this.ensureRunning();
    const unsubscribe = () => {
      this.subscribers.delete(sub);
      if (this.subscribers.size === 0) this.wake();
    };
    if (after) {
      try {
        // Catch up in pages; live entries buffer meanwhile and are deduplicated by id.
        let from = after;
        for (;;) {
          const page = (await this.redis.xrange(this.stream, `(${from}`, '+', 'COUNT', 500)) as StreamEntry[];
          for (const entry of page) sub.replay(entry);
          if (page.length < 500) break;
          from = page.at(-1)![0];
        }
      } catch (err) {
        unsubscribe();
        throw err;
      }
    }
    sub.goLive();
    return unsubscribe;
  }

  async close(): Promise<void> {
    this.subscribers.clear();
    this.wake();
    await this.running;
  }

  private ensureRunning(): void {
    if (this.running) return;
    this.running = this.loop().finally(() => {
      this.running = undefined;
      if (this.subscribers.size > 0) this.ensureRunning();
    });
  }

  private async loop(): Promise<void> {
    let reader = this.newReader();
    // Entries from here on are live: start from the newest id now, so a restart of the loop loses nothing.
    if (this.last === '$') this.last = ((await this.redis.xrevrange(this.stream, '+', '-', 'COUNT', 1).catch(() => [])) as StreamEntry[])[0]?.[0] ?? '0-0';
    try {
      while (this.subscribers.size > 0) {
        // The loop stops waiting when the last subscriber leaves, whatever the read is doing. It does not rely on
        // disconnect() to end the read: during an outage ioredis leaves a reconnecting connection's queued command
        // unsettled forever, and each disconnect() adds a 'close' listener to its old socket.
        const stopped = new Promise<'stopped'>((resolve) => (this.wake = () => resolve('stopped')));
        const read = reader.xread('COUNT', 1000, 'BLOCK', 15000, 'STREAMS', this.stream, this.last) as Promise<[string, StreamEntry[]][] | null>;
        read.catch(() => undefined); // an abandoned read may still fail
        let reply: [string, StreamEntry[]][] | null | 'stopped';
        try {
          reply = await Promise.race([read, stopped]);
        } catch (err) {
          if (this.subscribers.size === 0) break;
          this.logger.debug({ err: (err as Error).message }, 'event stream read failed; retrying');
          await new Promise((r) => setTimeout(r, 500));
          if (reader.status === 'end') reader = this.newReader();
          continue;
        }
        if (reply === 'stopped') break;
        for (const entry of reply?.[0]?.[1] ?? []) {
          this.last = entry[0];
          for (const sub of this.subscribers) sub.deliver(entry);
        }
        if (!reply) for (const sub of this.subscribers) sub.keepAlive();
      }
    } finally {
      this.wake = () => undefined;
      reader.disconnect(); // once per reader
    }
  }

  private newReader(): Redis {
    return this.redis.duplicate().on('error', () => undefined); // the main connection reports outages
  }
}

/** One client: replayed entries go out at once; live ones wait in a buffer until the replay is done. Ids never repeat. */
class Subscription {
  private replaying = true;
  private readonly buffered: StreamEntry[] = [];
  private lastSent = '0-0';

  constructor(private readonly subscriber: FanoutSubscriber) {}

  replay(entry: StreamEntry): void {
    this.send(entry);
  }

  deliver(entry: StreamEntry): void {
    if (this.replaying) this.buffered.push(entry);
    else this.send(entry);
  }

  goLive(): void {
    this.replaying = false;
    for (const entry of this.buffered.splice(0)) this.send(entry);
  }

  keepAlive(): void {
    this.subscriber.onIdle?.();
  }

  private send(entry: StreamEntry): void {
    if (compareIds(entry[0], this.lastSent) <= 0) return;
    this.lastSent = entry[0];
    this.subscriber.onEntry(entry);
  }
}

/** Stream ids `ms-seq` in order. */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am !== bm ? am - bm : as - bs;
}
