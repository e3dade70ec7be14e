// The dispatcher: reads the events stream as a consumer group and fans each event out to one delivery job per notifier.
import type { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import type { Clock } from '../clock';
import type { RouteConfig } from '../config/schema';
import type { Logger } from '../logger';
import { summarize, type WatchEvent } from '../watch/events';
import { deliveryId, deliveryJobId } from '../watch/ids';
import { DISPATCH_GROUP, type Keys } from '../watch/keys';
import type { DeliveryStore } from './deliveries';
import { routeEvent } from './routing';

export interface DispatcherOptions {
  /** A connection of its own: XREADGROUP blocks it. */
  blocking: Redis;
  redis: Redis;
  keys: Keys;
  routes: RouteConfig[];
  deliverQueue: Queue;
  deliveries: DeliveryStore;
  clock: Clock;
  consumer: string;
  reclaimIdleMs: number;
  logger: Logger;
  blockMs?: number;
}

type StreamEntry = [id: string, fields: string[]];

export class Dispatcher {
  private stopped = false;
  private loop?: Promise<void>;
  private lastReclaim = 0;

  constructor(private readonly o: DispatcherOptions) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /** Creates the consumer group; from the start of the stream, so events written before any dispatcher ran are not skipped. */
  async ensureGroup(): Promise<void> {
    try {
      await this.o.redis.xgroup('CREATE', this.o.keys.events, DISPATCH_GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
    }
  }

  private async run(): Promise<void> {
    let groupReady = false;
    while (!this.stopped) {
      try {
        if (!groupReady) {
          await this.ensureGroup();
          groupReady = true;
        }
        await this.step();
      } catch (err) {
        const message = (err as Error).message;
        // NOGROUP: Redis came back without our stream (restarted without persistence): make it again.
        if (message.includes('NOGROUP')) groupReady = false;
        if (!this.stopped) {
          this.o.logger.warn({ err: message }, 'dispatcher: Redis command failed; retrying');
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    }
  }

  /** One round: take over entries a dead dispatcher left pending, then read new ones. */
  async step(): Promise<number> {
    let handled = 0;
    const now = this.o.clock.now();
    if (now - this.lastReclaim >= Math.min(this.o.reclaimIdleMs, 5000)) {
      this.lastReclaim = now;
      handled += await this.reclaim();
    }
    const reply = (await this.o.blocking.xreadgroup(
      'GROUP',
      DISPATCH_GROUP,
      this.o.consumer,
      'COUNT',
      200,
      'BLOCK',
      this.o.blockMs ?? 1000,
      'STREAMS',
      this.o.keys.events,
      '>',
    )) as [string, StreamEntry[]][] | null;
    if (reply) for (const [, entries] of reply) handled += await this.handle(entries);
    return handled;
  }

  private async reclaim(): Promise<number> {
    let handled = 0;
    let cursor = '0-0';
    do {
      const [next, entries] = (await this.o.redis.xautoclaim(
        this.o.keys.events,
        DISPATCH_GROUP,
        this.o.consumer,
        this.o.reclaimIdleMs,
        cursor,
        'COUNT',
        200,
      )) as [string, StreamEntry[], string[]?];
      if (entries.length) {
        this.o.logger.info({ count: entries.length }, 'dispatcher: took over events left by a stopped process');
        handled += await this.handle(entries.filter((e) => e && e[1]));
      }
      cursor = next;
    } while (cursor !== '0-0' && !this.stopped);
    return handled;
  }

  /** Fans out, then acknowledges: a crash in between only repeats the (idempotent) fan-out. */
  private async handle(entries: StreamEntry[]): Promise<number> {
    if (entries.length === 0) return 0;
    const jobs: { name: string; data: unknown; opts: { jobId: string; delay?: number } }[] = [];
    const records = [];
    const now = this.o.clock.now();
    for (const [, fields] of entries) {
      const event = parseEntry(fields);
      if (!event) continue;
      for (const { notifier, holdUntil } of routeEvent(this.o.routes, event, now)) {
        const id = deliveryId(event.id, notifier);
        records.push({ id, eventId: event.id, notifier, eventType: event.type, summary: summarize(event), ...(holdUntil ? { heldUntil: holdUntil } : {}) });
        // A quiet period becomes a delayed job: durable in Redis, released when the window ends.
        jobs.push({
          name: notifier,
          data: { deliveryId: id, notifier, event },
          opts: { jobId: deliveryJobId(id), ...(holdUntil ? { delay: holdUntil - now } : {}) },
        });
      }
    }
    // Records first: a job never runs without the record that marks it delivered.
    await this.o.deliveries.ensureMany(records, now);
    if (jobs.length) await this.o.deliverQueue.addBulk(jobs);
    await this.o.redis.xack(this.o.keys.events, DISPATCH_GROUP, ...entries.map(([id]) => id));
    return entries.length;
  }
}

export function parseEntry(fields: string[]): WatchEvent | undefined {
  const i = fields.indexOf('event');
  if (i < 0 || i + 1 >= fields.length) return undefined;
  try {
    return JSON.parse(fields[i + 1]!) as WatchEvent;
  } catch {
    return undefined;
  }
}
