// The dispatcher: reads the events stream as a consumer group and fans each event out to one delivery job per notifier.
import type { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import type { Clock } from '../../util/clock';
import type { Logger } from '../../util/logger';
import type { WatchEvent } from '../../store/events';
import { Scripts } from '../../store/scripts';
import { resolvesOnlyOpenedBy } from '../../alerts/alert-key';
import type { AlertNotes, AlertStore } from '../../alerts/alert-store';
import { carryIntoGroups } from '../../alerts/carry-over';
import { decideEvent, type AlertPolicy, type AlertView } from '../../alerts/decide';
import { readDecisionState, type BatchState } from '../../alerts/decision-state';
import { heldByOf, type IncidentJoin } from '../../alerts/incident-join';
import type { IncidentStore } from '../../alerts/incidents';
import type { SilenceStore } from '../../alerts/silences';
import { nextLookAt } from '../../alerts/unmuted';
import { DISPATCH_GROUP, type Keys } from '../../store/keys';
import { parseEntry, type StreamEntry } from '../../store/outbox';
import type { DeliveryStore } from '../../store/deliveries';
import { batchJobs } from './batches';
import { IncidentTicker } from './incident-ticker';
import { messageFor, planDelivery, planGrouped, planIncident, planRecordOnly, runByKey, type DispatchPlan } from './plan';

export interface DispatcherOptions {
  /** A connection of its own: XREADGROUP blocks it. */
  blocking: Redis;
  redis: Redis;
  keys: Keys;
  /** The connection's scripts (one per connection, made where the connection is). */
  scripts?: Scripts;
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
  /** The connection's scripts: handed in by the composition root, else made here. */
  private readonly scripts: Scripts;
  private stopped = false;
  private loop?: Promise<void>;
  private lastReclaim = 0;
  private carried = false;
  private readonly ticker?: IncidentTicker;

  constructor(private readonly o: DispatcherOptions) {
    this.scripts = o.scripts ?? new Scripts(o.redis, o.keys);
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
          await this.carryOver();
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

  /** Alerts the release before incident groups paged one by one, carried into their groups (carry-over.ts), once. */
  private async carryOver(): Promise<void> {
    const { alerts, incidents } = this.o;
    if (!alerts || !incidents || this.carried) return;
    const carried = await carryIntoGroups({ ...this.o, alerts, incidents }, this.o.clock.now());
    if (carried) this.o.logger.info({ carried }, 'dispatcher: alerts paged one by one by the release before carried into their incident groups');
    this.carried = true;
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
    const plan: DispatchPlan = { records: [], jobs: [], alertSteps: [], grouping: [], groupDeliveries: new Set(), unreadable: [] };
    const events: WatchEvent[] = [];
    for (const [, fields] of entries) {
      const event = parseEntry(fields);
      // Never acknowledged without a word: kept in a dead-letter stream with its fields, and logged.
      if (event) events.push(event);
      else plan.unreadable.push(fields);
    }
    const state = await readDecisionState({ policy: this.o.policy, alerts: this.o.alerts, silences: this.o.silences }, events, now);
    const planned = new Set<string>();
    for (const event of events) await this.planEvent(event, state, plan, planned);
    await Promise.all(plan.grouping);
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
    await runByKey(plan.alertSteps);
    if (plan.jobs.length) await this.o.deliverQueue.addBulk(batchJobs(plan.jobs));
    await this.o.redis.xack(this.o.keys.events, DISPATCH_GROUP, ...entries.map(([id]) => id));
    // Only now may the outbox shrink: what was just acknowledged is the newest entry that may go.
    if (this.o.maxLen) await this.scripts.trimOutbox({ group: DISPATCH_GROUP, maxLen: this.o.maxLen });
    return entries.length;
  }

  /**
   * Decides one event and plans what follows. Its group additions are sent without waiting (in event order on the one
   * connection, so each group keeps arrival order) and note their delivery ids on the alert when answered; an event
   * of a key already planned in this read waits for them first, so that it is decided on all its key's notes.
   */
  private async planEvent(event: WatchEvent, state: BatchState, plan: DispatchPlan, planned: Set<string>): Promise<void> {
    let decided = decideEvent(this.o.policy, state, event);
    if (decided.key && planned.has(decided.key) && plan.grouping.length) {
      // Decided again once its key's earlier group additions have answered (decideEvent is pure and cheap).
      await Promise.all(plan.grouping);
      decided = decideEvent(this.o.policy, state, event);
    }
    const { action, key, decisions } = decided;
    if (key) planned.add(key);
    const routed: WatchEvent = key ? { ...event, alertKey: key } : event;
    const notes: AlertNotes = { told: {}, pending: {} };
    const repeats: { notifier: string; every: number }[] = [];
    const joins: IncidentJoin[] = [];
    const muted: { notifier: string; at: number }[] = [];
    for (const d of decisions) {
      const heldBy = heldByOf(key ? state.alert(key) : undefined, event, d.notifier);
      if (this.o.incidents && planIncident(this.o, routed, { action, key, d, heldBy }, plan, notes, joins)) continue;
      // A pager's repeats and its unmuting are its incident group's, never an alert's own (an inhibited pipeline
      // failure's repeat, and its inhibition lifting, paged under a key of its own: found by the model test).
      const incidentPager = this.o.incidents && this.o.policy.traits.get(d.notifier)?.pager;
      if (d.repeatEveryMs && !incidentPager) repeats.push({ notifier: d.notifier, every: d.repeatEveryMs });
      if (d.outcome === 'silenced' || d.outcome === 'inhibited' || d.outcome === 'suppressed') {
        planRecordOnly(routed, d, plan);
        if (d.outcome === 'silenced') this.o.onSilenced?.(d.notifier);
        // Kept from a receiver never told of it: it hears "still failing" once nothing mutes it (unmuted.ts).
        if (d.outcome !== 'suppressed' && action === 'open' && !incidentPager && neverTold(key ? state.alert(key) : undefined, d.notifier))
          muted.push({ notifier: d.notifier, at: nextLookAt(d, state.silences, state.now) });
        continue;
      }
      if (d.group || d.intoGroup) {
        const added = planGrouped(this.scripts, routed, d, state.now, plan).then((id) => {
          notes.pending[d.notifier] = id;
          // The alert's view was noted below before this answer: later events of its key read the id there.
          if (key && action === 'open') {
            const view = state.alert(key);
            if (view) view.pending[d.notifier] = id;
          }
        });
        added.catch(() => undefined); // awaited with the others (Promise.all); never an unhandled rejection meanwhile
        plan.grouping.push(added);
        continue;
      }
      notes.told[d.notifier] = planDelivery(messageFor(routed, d, state), d, plan, state.now);
    }
    if (!action || !key) return;
    if (action === 'open') {
      const alerts = this.o.alerts;
      state.noteOpen(key, routed, notes);
      plan.alertSteps.push({
        key,
        run: async () => {
          await alerts?.open(key, routed, notes, state.now);
          for (const r of repeats) await alerts?.scheduleRepeat(key, r.notifier, r.every, state.now);
          for (const m of muted) await alerts?.watchMuted(key, m.notifier, m.at);
          // After the alert is open: a flush that sees the member sees its alert.
          for (const j of joins) await this.o.incidents?.join(j.groupId, j.settings, { key, openedBy: event.id }, state.now, j.notBefore, j.since);
        },
      });
    } else if (state.isOpen(key, resolvesOnlyOpenedBy(action))) {
      // Only an alert that is open is resolved: the common "finished" of a step that never failed costs nothing more.
      const onlyOpenedBy = resolvesOnlyOpenedBy(action);
      state.noteResolved(key);
      plan.alertSteps.push({ key, run: async () => void (await this.o.alerts?.resolve(key, event, state.now, { onlyOpenedBy })) });
    }
  }
}

/**
 * Events read from the outbox at once, at most (a read returns what is there: a quiet outbox gives one or two). Each
 * read costs a handful of round trips in sequence (records, jobs, ack, trim) that wait behind the polls' and the
 * deliveries' work on the process's one thread: at 200 a read the dispatcher, not the deliveries, set the pace of a
 * burst (docs/PERFORMANCE.md, "The dispatcher's reads").
 */
const READ_COUNT = 1000;

/** A receiver that was sent nothing of this alert yet (nor has it in a group on its way). */
function neverTold(view: Pick<AlertView, 'told' | 'pending'> | undefined, notifier: string): boolean {
  return !view || (view.told[notifier] === undefined && !view.pending[notifier]);
}
