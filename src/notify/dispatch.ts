// The dispatcher: reads the events stream as a consumer group and fans each event out to one delivery job per notifier.
import type { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import type { Clock } from '../clock';
import type { RouteConfig } from '../config/schema';
import type { Logger } from '../logger';
import { summarize, type WatchEvent } from '../store/events';
import { deliveryId, deliveryJobId, groupDeliveryId, groupId } from '../store/ids';
import { Scripts } from '../store/scripts';
import { alertActionOf, alertKeyOf, fieldOf, type KeyField } from '../alerts/alert-key';
import type { AlertStore } from '../alerts/alert-store';
import { activeSilencesFor, type Silence, type SilenceStore } from '../alerts/silences';
import { DISPATCH_GROUP, type Keys } from '../store/keys';
import { parseEntry, type StreamEntry } from '../store/outbox';
import { batchJobs, type PlannedJob } from './batches';
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
  /** Open alerts (opened and resolved here); without it, no alert lifecycle. */
  alerts?: AlertStore;
  silences?: SilenceStore;
  /** Grouping for notifiers whose routes set none (on-call formats group by pipeline run). */
  defaultGroups?: Map<string, GroupConfig>;
  onSilenced?(notifier: string): void;
  consumer: string;
  reclaimIdleMs: number;
  logger: Logger;
  blockMs?: number;
  /**
   * Events kept in the outbox (events.maxLen). The dispatcher trims it, behind what it has finished: the writers
   * append without trimming, so a burst larger than this is kept until it is fanned out, never dropped unread.
   */
  maxLen?: number;
}

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
    const now = this.o.clock.now();
    const plan: DispatchPlan = { records: [], jobs: [], after: [], unreadable: [] };
    const silences = this.o.silences ? await this.o.silences.list(now) : [];
    for (const [, fields] of entries) {
      const event = parseEntry(fields);
      if (!event) {
        // Never acknowledged without a word: kept in a dead-letter stream with its fields, and logged.
        plan.unreadable.push(fields);
        continue;
      }
      if (event.type === 'alert.resolved') this.planResolved(event, plan);
      else await this.planEvent(event, silences, now, plan);
    }
    // Records first: a job never runs without the record that marks it delivered. Alerts after: their notifiers are known.
    for (const fields of plan.unreadable) {
      this.o.logger.error(
        { fields: fields.slice(0, 4).map((f) => f.slice(0, 200)) },
        'dispatcher: an events stream entry is not an event; kept in the dead-letter stream',
      );
      await this.o.redis.xadd(this.o.keys.deadEvents, 'MAXLEN', '~', 10000, '*', ...fields);
    }
    await this.o.deliveries.ensureMany(plan.records, now);
    if (plan.jobs.length) await this.o.deliverQueue.addBulk(batchJobs(plan.jobs));
    for (const step of plan.after) await step();
    await this.o.redis.xack(this.o.keys.events, DISPATCH_GROUP, ...entries.map(([id]) => id));
    // Only now may the outbox shrink: what was just acknowledged is the newest entry that may go.
    if (this.o.maxLen) await new Scripts(this.o.redis, this.o.keys).trimOutbox({ group: DISPATCH_GROUP, maxLen: this.o.maxLen });
    return entries.length;
  }

  /** alert.resolved goes to the notifiers that were sent the alert, and to no one else. */
  private planResolved(event: WatchEvent, plan: DispatchPlan): void {
    for (const notifier of event.alert?.notifiers ?? []) this.planDelivery(event, notifier, plan);
  }

  private async planEvent(event: WatchEvent, silences: Silence[], now: number, plan: DispatchPlan): Promise<void> {
    const targets = routeEvent(this.o.routes, event, now);
    const action = alertActionOf(event);
    const keyRoute = targets.map((t) => this.o.routes[t.route]!).find((r) => r.key);
    const key = action ? alertKeyOf(event, keyRoute?.key as KeyField[] | undefined) : undefined;
    const routed: WatchEvent = key ? { ...event, alertKey: key } : event;
    const silencedBy = activeSilencesFor(silences, event, now).map((s) => s.id);
    const sent: string[] = [];
    const repeats: { notifier: string; every: number }[] = [];
    for (const { notifier, route, holdUntil } of targets) {
      if (silencedBy.length) {
        this.planDelivery(routed, notifier, plan, { silencedBy: silencedBy.join(',') });
        this.o.onSilenced?.(notifier);
        continue;
      }
      const config = this.o.routes[route]!;
      const group = config.group ?? this.o.defaultGroups?.get(notifier);
      if (group) {
        await this.planGrouped(routed, notifier, route, group, config.key as KeyField[] | undefined, now, plan);
        continue;
      }
      this.planDelivery(routed, notifier, plan, { holdUntil, now });
      sent.push(notifier);
      if (config.repeat) repeats.push({ notifier, every: config.repeat.every });
    }
    if (action === 'open' && key) {
      const alerts = this.o.alerts;
      plan.after.push(async () => {
        await alerts?.open(key, routed, sent, now);
        for (const r of repeats) await alerts?.scheduleRepeat(key, r.notifier, r.every, now);
      });
    } else if (action && key) {
      const onlyOpenedBy = action === 'resolve-stuck' ? 'steprun.stuck' : undefined;
      plan.after.push(async () => void (await this.o.alerts?.resolve(key, event, now, { onlyOpenedBy })));
    }
  }

  /** One event to one notifier: a delivery record and its job (a quiet period becomes a delay, durable in Redis). */
  private planDelivery(event: WatchEvent, notifier: string, plan: DispatchPlan, o: { holdUntil?: number; now?: number; silencedBy?: string } = {}): void {
    const id = deliveryId(event.id, notifier);
    plan.records.push({
      id,
      eventId: event.id,
      notifier,
      eventType: event.type,
      summary: summarize(event),
      ...(o.holdUntil ? { heldUntil: o.holdUntil } : {}),
      ...(o.silencedBy ? { silencedBy: o.silencedBy } : {}),
    });
    if (o.silencedBy) return;
    plan.jobs.push({
      name: notifier,
      data: { deliveryId: id, notifier, event },
      opts: { jobId: deliveryJobId(id), ...(o.holdUntil && o.now ? { delay: o.holdUntil - o.now } : {}) },
    });
  }

  /**
   * A grouped route: the event joins its group's open generation (durable in Redis); the generation's one
   * delivery is a delayed job at its flush time. The job is added every time (its id deduplicates), so a crash
   * between joining and adding cannot strand a group.
   */
  private async planGrouped(
    event: WatchEvent,
    notifier: string,
    route: number,
    group: GroupConfig,
    key: KeyField[] | undefined,
    now: number,
    plan: DispatchPlan,
  ) {
    const gid = groupId(
      route,
      notifier,
      group.by.map((f) => fieldOf(event, f) ?? '-'),
    );
    const { generation, flushAt } = await new Scripts(this.o.redis, this.o.keys).addToGroup({
      groupId: gid,
      now,
      waitMs: group.wait,
      intervalMs: group.interval,
      eventId: event.id,
      eventJson: JSON.stringify(event),
      keepMs: GROUP_KEEP_MS,
    });
    const id = groupDeliveryId(gid, generation, notifier);
    plan.records.push({ id, eventId: event.id, notifier, eventType: 'group', summary: `group: ${summarize(event)}` });
    plan.jobs.push({
      name: notifier,
      data: { deliveryId: id, notifier, group: { id: gid, generation, key } },
      opts: { jobId: deliveryJobId(id), delay: Math.max(0, flushAt - now) },
    });
  }
}

/** A group's records outlive its last event by this much (a day): long enough for any retry. */
const GROUP_KEEP_MS = 86_400_000;

export interface GroupConfig {
  by: string[];
  wait: number;
  interval: number;
}

interface DispatchPlan {
  records: Parameters<DeliveryStore['ensureMany']>[0];
  jobs: PlannedJob[];
  /** Alert bookkeeping, run once the deliveries are recorded. */
  after: (() => Promise<void>)[];
  /** Entries that are not events: logged and kept in the dead-letter stream. */
  unreadable: string[][];
}
