// The dispatcher: reads the events stream as a consumer group and fans each event out to one delivery job per notifier.
import type { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import type { Clock } from '../../util/clock';
import type { Logger } from '../../util/logger';
import { summarize, type WatchEvent } from '../../store/events';
import { deliveryId, deliveryJobId, groupDeliveryId, groupId } from '../../store/ids';
import { scriptsFor, type Scripts } from '../../store/scripts';
import { resolvesOnlyOpenedBy, type AlertAction } from '../../alerts/alert-key';
import type { AlertNotes, AlertStore } from '../../alerts/alert-store';
import { decideEvent, type AlertPolicy, type Decision } from '../../alerts/decide';
import { readDecisionState, type BatchState } from '../../alerts/decision-state';
import type { SilenceStore } from '../../alerts/silences';
import { DISPATCH_GROUP, type Keys } from '../../store/keys';
import { parseEntry, type StreamEntry } from '../../store/outbox';
import { batchJobs, type PlannedJob } from './batches';
import { IncidentTicker } from './incident-ticker';
import { incidentJoinOf, incidentOfResolve, type IncidentJoin } from '../../alerts/incident-join';
import { incidentMarker } from '../../alerts/incident';
import type { IncidentStore } from '../../alerts/incidents';
import type { DeliveryStore } from '../../store/deliveries';

export interface DispatcherOptions {
  /** A connection of its own: XREADGROUP blocks it. */
  blocking: Redis;
  redis: Redis;
  keys: Keys;
  /** Routes, default groups, inhibition rules, time intervals: what the alert decision reads (decide.ts). */
  policy: AlertPolicy;
  deliverQueue: Queue;
  deliveries: DeliveryStore;
  clock: Clock;
  /** Open alerts (opened and resolved here); without it, no alert lifecycle. */
  alerts?: AlertStore;
  silences?: SilenceStore;
  /** Incident groups: a pager's alerts join them, and their flushes are what it is sent (alerts/incident.ts). */
  incidents?: IncidentStore;
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
  /** The connection's one Scripts. */
  private get scripts(): Scripts {
    return scriptsFor(this.o.redis, this.o.keys);
  }
  private stopped = false;
  private loop?: Promise<void>;
  private lastReclaim = 0;
  private readonly ticker?: IncidentTicker;

  constructor(private readonly o: DispatcherOptions) {
    if (o.incidents) this.ticker = new IncidentTicker({ incidents: o.incidents, deliverQueue: o.deliverQueue, clock: o.clock, logger: o.logger });
  }

  start(): void {
    this.loop = this.run();
    this.ticker?.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.ticker?.stop();
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
      READ_COUNT,
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
    const plan: DispatchPlan = { records: [], jobs: [], alertSteps: [], unreadable: [] };
    const events: WatchEvent[] = [];
    for (const [, fields] of entries) {
      const event = parseEntry(fields);
      // Never acknowledged without a word: kept in a dead-letter stream with its fields, and logged.
      if (event) events.push(event);
      else plan.unreadable.push(fields);
    }
    const state = await readDecisionState({ policy: this.o.policy, alerts: this.o.alerts, silences: this.o.silences }, events, now);
    for (const event of events) await this.planEvent(event, state, plan);
    for (const fields of plan.unreadable) {
      this.o.logger.error(
        { fields: fields.slice(0, 4).map((f) => f.slice(0, 200)) },
        'dispatcher: an events stream entry is not an event; kept in the dead-letter stream',
      );
      await this.o.redis.xadd(this.o.keys.deadEvents, 'MAXLEN', '~', 10000, '*', ...fields);
    }
    // Records first: a job never runs without the record that marks it delivered. Alerts next: a message about an
    // alert checks, as it goes out, that its alert is open, and a resolve waits for the messages noted on it.
    await this.o.deliveries.ensureMany(plan.records, now);
    for (const step of plan.alertSteps) await step();
    if (plan.jobs.length) await this.o.deliverQueue.addBulk(batchJobs(plan.jobs));
    await this.o.redis.xack(this.o.keys.events, DISPATCH_GROUP, ...entries.map(([id]) => id));
    // Only now may the outbox shrink: what was just acknowledged is the newest entry that may go.
    if (this.o.maxLen) await this.scripts.trimOutbox({ group: DISPATCH_GROUP, maxLen: this.o.maxLen });
    return entries.length;
  }

  private async planEvent(event: WatchEvent, state: BatchState, plan: DispatchPlan): Promise<void> {
    const { action, key, decisions } = decideEvent(this.o.policy, state, event);
    const routed: WatchEvent = key ? { ...event, alertKey: key } : event;
    const notes: AlertNotes = { told: {}, pending: {} };
    const repeats: { notifier: string; every: number }[] = [];
    const joins: IncidentJoin[] = [];
    for (const d of decisions) {
      if (this.o.incidents && this.planIncident(routed, action, key, d, plan, notes, joins)) continue;
      if (d.repeatEveryMs) repeats.push({ notifier: d.notifier, every: d.repeatEveryMs });
      if (d.outcome === 'silenced' || d.outcome === 'inhibited' || d.outcome === 'suppressed') {
        this.planRecordOnly(routed, d, plan);
        if (d.outcome === 'silenced') this.o.onSilenced?.(d.notifier);
        continue;
      }
      if (d.group) {
        notes.pending[d.notifier] = await this.planGrouped(routed, d, state.now, plan);
        continue;
      }
      notes.told[d.notifier] = this.planDelivery(messageFor(routed, d, state), d, plan, state.now);
    }
    if (!action || !key) return;
    if (action === 'open') {
      const alerts = this.o.alerts;
      state.noteOpen(key, routed, notes);
      plan.alertSteps.push(async () => {
        await alerts?.open(key, routed, notes, state.now);
        for (const r of repeats) await alerts?.scheduleRepeat(key, r.notifier, r.every, state.now);
        // After the alert is open: a flush that sees the member sees its alert.
        for (const j of joins) await this.o.incidents?.join(j.groupId, j.settings, { key, openedBy: event.id }, state.now, j.notBefore);
      });
    } else if (state.isOpen(key, resolvesOnlyOpenedBy(action))) {
      // Only an alert that is open is resolved: the common "finished" of a step that never failed costs nothing more.
      const onlyOpenedBy = resolvesOnlyOpenedBy(action);
      state.noteResolved(key);
      plan.alertSteps.push(async () => void (await this.o.alerts?.resolve(key, event, state.now, { onlyOpenedBy })));
    }
  }

  /**
   * A pager's decision on an alert: its failure joins the incident group (recorded here, sent by the group's flush,
   * never per alert), a resolve asks the group to look again. False when it is not an incident's business.
   */
  private planIncident(
    e: WatchEvent,
    action: AlertAction | undefined,
    key: string | undefined,
    d: Decision,
    plan: DispatchPlan,
    notes: AlertNotes,
    joins: IncidentJoin[],
  ): boolean {
    const join = incidentJoinOf(this.o.policy, action, key, d);
    const touched = join ? undefined : incidentOfResolve(this.o.policy, e, d.notifier);
    if (!join && !touched) return false;
    if (join) {
      joins.push(join);
      notes.told[d.notifier] = incidentMarker(join.groupId);
      if (d.outcome === 'silenced') this.o.onSilenced?.(d.notifier);
    } else plan.alertSteps.push(async () => void (await this.o.incidents?.touch(touched!, this.o.clock.now())));
    const reason = join
      ? `${d.outcome === 'silenced' ? `${d.reason}; ` : ''}in incident ${join.groupId}: its flushes tell the pager what the group holds`
      : `incident ${touched}: its next flush tells the pager what resolved`;
    this.planRecordOnly(e, { ...d, outcome: d.outcome === 'silenced' ? 'silenced' : 'suppressed', reason }, plan);
    return true;
  }

  /** Not sent (silenced, inhibited, suppressed): recorded, with why. */
  private planRecordOnly(event: WatchEvent, d: Decision, plan: DispatchPlan): void {
    plan.records.push({
      id: deliveryId(event.id, d.notifier),
      eventId: event.id,
      notifier: d.notifier,
      eventType: event.type,
      summary: summarize(event),
      status: d.outcome as 'silenced' | 'inhibited' | 'suppressed',
      reason: d.reason,
      ...(d.silencedBy ? { silencedBy: d.silencedBy.join(',') } : {}),
    });
  }

  /** One event to one notifier: a delivery record and its job (a hold becomes a delay, durable in Redis). Returns its id. */
  private planDelivery(event: WatchEvent, d: Decision, plan: DispatchPlan, now: number): string {
    const id = deliveryId(event.id, d.notifier);
    plan.records.push({
      id,
      eventId: event.id,
      notifier: d.notifier,
      eventType: event.type,
      summary: summarize(event),
      ...(d.outcome !== 'send' ? { reason: d.reason } : {}),
      ...(d.holdUntil ? { heldUntil: d.holdUntil } : {}),
    });
    plan.jobs.push({
      name: d.notifier,
      data: { deliveryId: id, notifier: d.notifier, event },
      opts: { jobId: deliveryJobId(id), ...(d.holdUntil ? { delay: Math.max(0, d.holdUntil - now) } : {}) },
    });
    return id;
  }

  /**
   * A grouped route: the event joins its group's open generation (durable in Redis); the generation's one
   * delivery is a delayed job at its flush time (no sooner than a hold's end). The job is added every time (its id
   * deduplicates), so a crash between joining and adding cannot strand a group. Returns the group delivery's id.
   */
  private async planGrouped(event: WatchEvent, d: Decision, now: number, plan: DispatchPlan): Promise<string> {
    const group = d.group!;
    const gid = groupId(d.route, d.notifier, group.values);
    const { generation, flushAt } = await this.scripts.addToGroup({
      groupId: gid,
      now,
      waitMs: Math.max(group.wait, (d.holdUntil ?? 0) - now),
      intervalMs: group.interval,
      eventId: event.id,
      eventJson: JSON.stringify(messageFor(event, d, undefined)),
      keepMs: GROUP_KEEP_MS,
    });
    const id = groupDeliveryId(gid, generation, d.notifier);
    const held = d.holdUntil ? { heldUntil: d.holdUntil, reason: d.reason } : {};
    plan.records.push({ id, eventId: event.id, notifier: d.notifier, eventType: 'group', summary: `group: ${summarize(event)}`, ...held });
    plan.jobs.push({
      name: d.notifier,
      data: { deliveryId: id, notifier: d.notifier, group: { id: gid, generation } },
      opts: { jobId: deliveryJobId(id), delay: Math.max(0, flushAt - now) },
    });
    return id;
  }
}

/** The event as one notifier is sent it: an update says "still failing (n×)"; a route's pager severity. */
function messageFor(event: WatchEvent, d: Decision, state: BatchState | undefined): WatchEvent {
  const opened = d.outcome === 'update' && d.failures && event.alertKey ? state?.alert(event.alertKey)?.openedAt : undefined;
  if (!opened && !d.severity) return event;
  return {
    ...event,
    ...(opened && d.failures ? { stillFailing: { failures: d.failures, openedAt: new Date(opened).toISOString() } } : {}),
    ...(d.severity ? { severity: d.severity } : {}),
  };
}

/**
 * Events read from the outbox at once, at most (a read returns what is there: a quiet outbox gives one or two). Each
 * read costs a handful of round trips in sequence (records, jobs, ack, trim) that wait behind the polls' and the
 * deliveries' work on the process's one thread: at 200 a read the dispatcher, not the deliveries, set the pace of a
 * burst (docs/PERFORMANCE.md, "The dispatcher's reads").
 */
const READ_COUNT = 1000;

/** A group's records outlive its last event by this much (a day): long enough for any retry. */
const GROUP_KEEP_MS = 86_400_000;

interface DispatchPlan {
  records: Parameters<DeliveryStore['ensureMany']>[0];
  jobs: PlannedJob[];
  /** Alert bookkeeping (open, resolve, repeats), in event order, once the deliveries are recorded and before their jobs. */
  alertSteps: (() => Promise<void>)[];
  /** Entries that are not events: logged and kept in the dead-letter stream. */
  unreadable: string[][];
}
