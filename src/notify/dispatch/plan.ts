// What one read of the events stream plans, event by event: delivery records, jobs, and a pager's alerts joining
// their incident groups. The dispatcher (dispatch.ts) decides, plans with these, and carries the plan out in order.
import type { AlertAction } from '../../alerts/alert-key';
import type { AlertNotes } from '../../alerts/alert-store';
import type { AlertPolicy, Decision } from '../../alerts/decide';
import type { BatchState } from '../../alerts/decision-state';
import { incidentMarker } from '../../alerts/incident';
import { incidentDecision, incidentJoinOf, incidentOfResolve, type IncidentJoin } from '../../alerts/incident-join';
import type { IncidentStore } from '../../alerts/incidents';
import { annotated } from '../../alerts/route-choice';
import type { DeliveryStore } from '../../store/deliveries';
import { summarize, type WatchEvent } from '../../store/events';
import { deliveryId, deliveryJobId, groupDeliveryId, groupId } from '../../store/ids';
import type { Scripts } from '../../store/scripts';
import type { Clock } from '../../util/clock';
import type { PlannedJob } from './batches';
import { Slots } from '../../util/slots';

export interface DispatchPlan {
  records: Parameters<DeliveryStore['ensureMany']>[0];
  jobs: PlannedJob[];
  /**
   * Alert bookkeeping (open, resolve, repeats, incident joins) by alert key, once the deliveries are recorded and before
   * their jobs: one key's steps run in event order, different keys' at once (runByKey).
   */
  alertSteps: { key: string; run: () => Promise<void> }[];
  /** Events' additions to their notification groups, sent in event order without waiting each (see Dispatcher.planEvent). */
  grouping: Promise<void>[];
  /** The group deliveries this read planned already: a group's ten events plan its record and job once. */
  groupDeliveries: Set<string>;
  /** Entries that are not events: logged and kept in the dead-letter stream. */
  unreadable: string[][];
}

/** What planning a pager's incident needs. */
export interface IncidentPlanDeps {
  policy: AlertPolicy;
  incidents?: IncidentStore;
  clock: Clock;
  onSilenced?(notifier: string): void;
}

/** A group's records outlive its last event by this much (a day): long enough for any retry. */
const GROUP_KEEP_MS = 86_400_000;

/**
 * A pager's decision on an alert: its failure joins the incident group (recorded here, sent by the group's flush,
 * never per alert; the join itself waits in `joins` until the alert is open), a resolve asks the group to look again.
 * False when it is not an incident's business.
 */
export function planIncident(
  deps: IncidentPlanDeps,
  e: WatchEvent,
  decided: { action?: AlertAction; key?: string; d: Decision; heldBy?: string },
  plan: DispatchPlan,
  notes: AlertNotes,
  joins: IncidentJoin[],
): boolean {
  const { action, key, d } = decided;
  const join = incidentJoinOf(deps.policy, action, key, d, decided.heldBy);
  const touched = join ? undefined : incidentOfResolve(deps.policy, e, d.notifier);
  if (!join && !touched) return false;
  if (join) {
    // A new group's wait starts at the watcher's sight of this alert (waitStartOf).
    if (!join.already) joins.push({ ...join, since: waitStartOf(e, join.settings.waitMs, deps.clock.now()) });
    notes.told[d.notifier] = incidentMarker(join.groupId);
    if (d.outcome === 'silenced') deps.onSilenced?.(d.notifier);
  } else plan.alertSteps.push({ key: e.alertKey ?? e.id, run: async () => void (await deps.incidents?.touch(touched!, deps.clock.now())) });
  const recorded = join
    ? incidentDecision(d, join)
    : { ...d, outcome: 'incident' as const, reason: `incident ${touched}: its next flush tells the pager what resolved` };
  planRecordOnly(e, recorded, plan);
  return true;
}

/** Not sent by itself (silenced, inhibited, suppressed, carried by an incident): recorded, with why. */
export function planRecordOnly(event: WatchEvent, d: Decision, plan: DispatchPlan): void {
  plan.records.push({
    id: deliveryId(event.id, d.notifier),
    eventId: event.id,
    notifier: d.notifier,
    eventType: event.type,
    summary: summarize(event),
    status: d.outcome as 'silenced' | 'inhibited' | 'suppressed' | 'incident',
    reason: d.reason,
    ...(d.silencedBy ? { silencedBy: d.silencedBy.join(',') } : {}),
  });
}

/** One event to one notifier: a delivery record and its job (a hold becomes a delay, durable in Redis). Returns its id. */
export function planDelivery(event: WatchEvent, d: Decision, plan: DispatchPlan, now: number): string {
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
 * deduplicates), so a crash between joining and adding cannot strand a group. An alert's resolve joins the group that
 * told the alert (`intoGroup`), with that group's own timing; a group gone since sends it alone. Returns the delivery's id.
 */
export async function planGrouped(scripts: Scripts, event: WatchEvent, d: Decision, now: number, plan: DispatchPlan): Promise<string> {
  const gid = d.intoGroup ?? groupId(d.route, d.notifier, d.group!.values);
  const since = d.intoGroup ? now : waitStartOf(event, d.group!.wait, now);
  const timing = d.intoGroup ? ('own' as const) : { waitMs: Math.max(d.group!.wait, (d.holdUntil ?? 0) - since), intervalMs: d.group!.interval };
  const eventJson = JSON.stringify(messageFor(event, d, undefined));
  const { generation, flushAt } = await scripts.addToGroup({ groupId: gid, now, since, timing, eventId: event.id, eventJson, keepMs: GROUP_KEEP_MS });
  if (generation === 0) return planDelivery(event, d, plan, now);
  const id = groupDeliveryId(gid, generation, d.notifier);
  if (plan.groupDeliveries.has(id)) return id;
  plan.groupDeliveries.add(id);
  const held = d.holdUntil ? { heldUntil: d.holdUntil, reason: d.reason } : {};
  plan.records.push({ id, eventId: event.id, notifier: d.notifier, eventType: 'group', summary: `group: ${summarize(event)}`, ...held });
  plan.jobs.push({
    name: d.notifier,
    data: { deliveryId: id, notifier: d.notifier, group: { id: gid, generation } },
    opts: { jobId: deliveryJobId(id), delay: Math.max(0, flushAt - now) },
  });
  return id;
}

/**
 * When a group's wait starts for an event that opens it: when the watcher saw the event, as Alertmanager counts from
 * the alert's arrival, so that a dispatcher a few seconds behind (a storm) does not add its lag to every group's first
 * message. An event seen longer ago than the whole wait is a backlog (a daemon that was down, a dispatcher far
 * behind): its group waits from now, to gather what follows it in the backlog rather than go out at once half full.
 */
export function waitStartOf(event: Pick<WatchEvent, 'detectedAt'>, waitMs: number, now: number): number {
  const seen = event.detectedAt;
  return Number.isFinite(seen) && seen <= now && now - seen <= waitMs ? seen : now;
}

/** The event as one notifier is sent it: an update says "still failing (n×)"; a route's pager severity and annotations. */
export function messageFor(event: WatchEvent, d: Decision, state: BatchState | undefined): WatchEvent {
  const opened = d.outcome === 'update' && d.failures && event.alertKey ? state?.alert(event.alertKey)?.openedAt : undefined;
  if (!opened && !d.severity && !d.annotations) return event;
  return {
    ...annotated(event, d.annotations),
    ...(opened && d.failures ? { stillFailing: { failures: d.failures, openedAt: new Date(opened).toISOString() } } : {}),
    ...(d.severity ? { severity: d.severity } : {}),
  };
}

/** Alert keys whose steps run at once, at most: enough to keep Redis busy, few enough to bound what is in flight. */
const KEYS_AT_ONCE = 64;

/**
 * Runs each alert key's steps in order and different keys' at once (their scripts pipeline on the one connection
 * instead of waiting on each other's round trips). Every step settles before the first failure is thrown: a retried
 * read never overlaps steps of this one.
 */
export async function runByKey(steps: DispatchPlan['alertSteps'], slots = new Slots(KEYS_AT_ONCE)): Promise<void> {
  const chains = new Map<string, (() => Promise<void>)[]>();
  for (const { key, run } of steps) {
    const chain = chains.get(key);
    if (chain) chain.push(run);
    else chains.set(key, [run]);
  }
  const runs = [...chains.values()].map((chain) =>
    slots.run(async () => {
      for (const run of chain) await run();
    }),
  );
  const failed = (await Promise.allSettled(runs)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}
