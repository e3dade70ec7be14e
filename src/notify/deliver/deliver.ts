// The delivery job: claim it (skip what was delivered or is being sent), call the notifier, mark it delivered at once,
// dead-letter the last failure. A job carrying a batch goes to deliver-batch.ts.
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { backoffMs } from '../../util/backoff';
import { alertActionOf } from '../../alerts/alert-key';
import { nextLookAt } from '../../alerts/unmuted';
import { decideAtSend, decideFlushEvent, resolveOrder, type AlertView, type Decision, type DecisionState } from '../../alerts/decide';
import { summarize, type WatchEvent } from '../../store/events';
import { Scripts } from '../../store/scripts';
import { deliverBatch } from './deliver-batch';
import { noteFailure, type DeliveryFailure, notConfigured } from './delivery-outcome';
import type { BatchDeliveryData, DeliverDeps, DeliverJobData, DeliverOutcome, IncidentFlushData, SingleDeliveryData } from './delivery-job';
import { flushIncident } from './incident-flush';
import { isFailure } from '../notifiers/formats/describe';
import { forReceiver } from './run-link';

export type { BatchDeliveryData, DeliverDeps, DeliverJobData, DeliverOutcome, IncidentFlushData, SingleDeliveryData } from './delivery-job';

export async function deliverJob(deps: DeliverDeps, job: Job<DeliverJobData>, signal: AbortSignal, token?: string): Promise<DeliverOutcome> {
  const id = job.id;
  if (!deps.running || !id) return deliverOnce(deps, job, signal, token);
  // Its lock lapsed while it still runs here (the thread was busy): join that run, whose outcome is this job's.
  const already = deps.running.get(id);
  if (already) {
    deps.logger.warn({ jobId: id }, 'a job still running here was handed out again (its lock lapsed): joined, not started twice');
    return already;
  }
  const run = deliverOnce(deps, job, signal, token);
  deps.running.set(id, run);
  try {
    return await run;
  } finally {
    deps.running.delete(id);
  }
}

async function deliverOnce(deps: DeliverDeps, job: Job<DeliverJobData>, signal: AbortSignal, token?: string): Promise<DeliverOutcome> {
  if ('batch' in job.data) return deliverBatch(deps, job as Job<BatchDeliveryData>, signal);
  if ('incident' in job.data) return flushIncident(deps, job as Job<IncidentFlushData>, signal);
  const { deliveryId, notifier: name, group } = job.data;
  const [claimed] = await deps.deliveries.claim([deliveryId], job.id ?? deliveryId, deps.clock.now());
  if (!claimed) return 'already-delivered';
  // An earlier try of this job (failed, or its worker killed) may have reached the receiver: then a message about an
  // alert that closed meanwhile still goes (idempotent there), and the alert's resolve, waiting for it, follows it.
  const mayHaveBeenSent = job.attemptsMade > 0 || (job.stalledCounter ?? 0) > 0;
  const decided = group
    ? await groupLead(deps, group, name, deliveryId, mayHaveBeenSent && (await deps.deliveries.wasSending(deliveryId)))
    : await atSend(deps, job.data.event, name, mayHaveBeenSent);
  if ('unsent' in decided) {
    await deps.deliveries.markUnsent(deliveryId, decided.unsent, decided.reason, deps.clock.now());
    return 'not-sent';
  }
  if ('waitMs' in decided) {
    // A resolve waits for the message of its alert still on its way; the wait is no failed attempt.
    await job.moveToDelayed(Date.now() + decided.waitMs, token);
    throw new DelayedError();
  }
  const event = forReceiver(decided.event, deps);
  const notifier = deps.notifiers.get(name);
  const attempt = job.attemptsMade + 1;
  const maxAttempts = job.opts.attempts ?? 1;
  const log = deps.logger.child({ component: 'deliver', deliveryId, notifier: name });
  if (!notifier) {
    const error = notConfigured(name);
    await noteFailure(deps, { notifier: name, deliveryId, event, attempt, maxAttempts, error, log });
    throw new UnrecoverableError(error.message);
  }
  let detail: string | undefined;
  try {
    detail = (await notifier.deliver(event, { deliveryId, attempt, logger: log, signal }))?.detail;
  } catch (err) {
    const error = err as DeliveryFailure;
    await noteFailure(deps, { notifier: name, deliveryId, event, attempt, maxAttempts, error, log });
    if (error.retryable === false) throw new UnrecoverableError(error.message);
    throw err;
  }
  await deps.deliveries.markDelivered(
    deliveryId,
    attempt,
    deps.clock.now(),
    detail ?? (event.grouped?.length ? `with ${event.grouped.length} more event(s)` : undefined),
  );
  deps.onDelivered?.(name, event, true, true);
  return 'delivered';
}

/** What a single delivery does as it goes out: send this event, record it unsent (and why), or wait a little. */
type AtSend = { event: WatchEvent } | { unsent: 'suppressed' | 'silenced'; reason: string } | { waitMs: number };

/** How long a resolve waits between looks at the message it must follow. */
const RESOLVE_WAIT_MS = 2000;

/**
 * The alert decision as a message goes out (decide.ts): a message about an alert that closed meanwhile does not go;
 * a resolve goes after the last message of its alert to the same notifier, never before it.
 */
async function atSend(deps: DeliverDeps, event: WatchEvent | undefined, notifier: string, mayHaveBeenSent: boolean): Promise<AtSend> {
  if (!event) throw new UnrecoverableError('a delivery that carries no event');
  if (!deps.alerts || !event.alertKey) return { event };
  if (event.type === 'alert.resolved') {
    const order = await resolveOrderOf(deps, event, notifier);
    if (order === 'wait') return { waitMs: RESOLVE_WAIT_MS };
    if (order === 'suppressed')
      return { unsent: 'suppressed', reason: `the alert's message ${event.alert?.lastMessages?.[notifier]} was never sent: nothing to resolve` };
    return { event };
  }
  const open = mayHaveBeenSent || alertActionOf(event) !== 'open' || (await deps.alerts.isOpen(event.alertKey));
  const unsent = decideAtSend(event, open);
  return unsent ? { unsent: 'suppressed', reason: unsent.reason } : { event };
}

/** Whether a resolve may go to `notifier` now: after the alert's last message to it (resolveOrder). */
async function resolveOrderOf(deps: DeliverDeps, resolve: WatchEvent, notifier: string): Promise<ReturnType<typeof resolveOrder>> {
  const last = resolve.alert?.lastMessages?.[notifier];
  return resolveOrder(last ? await deps.deliveries.status(last) : undefined);
}

/**
 * A group generation as one notification: closes the generation (later events start the next one), decides on each
 * event as the notification goes out (decideFlushEvent: an alert that resolved during the wait, a silence added
 * meanwhile), notes the message on each alert it carries (their resolves wait for it), and returns its lead (the
 * first failure, else the first event) carrying a line for each of the others. `mayHaveBeenSent`: an earlier try
 * got past noting its alerts (markSending), so the receiver may know them even if they closed since.
 */
async function groupLead(
  deps: DeliverDeps,
  group: NonNullable<SingleDeliveryData['group']>,
  notifier: string,
  deliveryId: string,
  mayHaveBeenSent: boolean,
): Promise<AtSend> {
  if (!deps.redis || !deps.keys) throw new UnrecoverableError('grouped delivery without Redis');
  const now = deps.clock.now();
  const texts = await (deps.scripts ?? new Scripts(deps.redis!, deps.keys!)).closeGroup({ groupId: group.id, generation: group.generation, now });
  const events = texts.map((t) => JSON.parse(t) as WatchEvent);
  const opening = events.filter((e) => e.alertKey && alertActionOf(e) === 'open').map((e) => e.alertKey!);
  const views = deps.alerts ? await deps.alerts.views(opening) : undefined;
  const state: DecisionState = {
    now,
    silences: deps.silences ? await deps.silences.list(now) : [],
    // Without an alert store (a bare delivery worker in tests) every alert counts as open.
    alert: (key) => (views && !mayHaveBeenSent ? views.get(key) : ({ key } as AlertView)),
    openAlerts: () => [...(views?.values() ?? [])],
  };
  const kept: WatchEvent[] = [];
  const dropped: string[] = [];
  // Resolves first, all read at once: the group waits while a message one resolves is still on its way (as a single
  // resolve does).
  const resolves = events.filter((x) => x.type === 'alert.resolved');
  const orders = await Promise.all(resolves.map((e) => resolveOrderOf(deps, e, notifier)));
  if (orders.includes('wait')) return { waitMs: RESOLVE_WAIT_MS };
  const unresolvable = new Set(resolves.filter((_, i) => orders[i] === 'suppressed'));
  const decided = new Map(events.filter((e) => e.type !== 'alert.resolved').map((e) => [e, decideFlushEvent(state, e, notifier)]));
  const stillOpen = await noteGroupAlerts(deps, notifier, deliveryId, decided);
  for (const e of events) {
    if (e.type === 'alert.resolved') {
      if (unresolvable.has(e)) dropped.push(`the message of ${e.alertKey} was never sent: nothing to resolve`);
      else kept.push(e);
      continue;
    }
    const d = decided.get(e)!;
    let send = d.outcome === 'send';
    if (stillOpen.has(e)) {
      if (send) send = stillOpen.get(e)! || mayHaveBeenSent;
      // Silenced during the group's wait: never told, so it is told once the silence ends, as one silenced as it came.
      if (d.outcome === 'silenced' && state.alert(e.alertKey!)) await deps.alerts!.watchMuted(e.alertKey!, notifier, nextLookAt(d, state.silences, now));
    }
    if (send) kept.push(e);
    else dropped.push(d.outcome === 'send' ? `${e.alertKey} resolved before the group was sent` : d.reason);
  }
  const lead = kept.find(isFailure) ?? kept[0];
  if (!lead) {
    const silenced = dropped.length > 0 && dropped.every((r) => r.startsWith('silenced'));
    return { unsent: silenced ? 'silenced' : 'suppressed', reason: dropped.join('; ') || 'an empty group' };
  }
  const others = kept
    .filter((e) => e !== lead)
    .map((e) => ({ id: e.id, type: e.type, summary: summarize(e), ...(e.alertKey ? { alertKey: e.alertKey } : {}) }));
  await deps.deliveries.markSending(deliveryId);
  return { event: others.length ? { ...lead, grouped: others } : lead };
}

/**
 * Notes the group's message on each alert it opens, before sending and atomically with "still open" (one call for the
 * group): a resolve from now on waits for this notification. An alert the group will not carry only loses its pending
 * note. Per event noted, whether its alert is still open.
 */
async function noteGroupAlerts(deps: DeliverDeps, notifier: string, deliveryId: string, decided: Map<WatchEvent, Decision>): Promise<Map<WatchEvent, boolean>> {
  if (!deps.alerts) return new Map();
  const noted = [...decided].filter(([e]) => e.alertKey && alertActionOf(e) === 'open');
  const open = await deps.alerts.noteMessages(
    notifier,
    noted.map(([e, d]) => ({ key: e.alertKey!, deliveryId: d.outcome === 'send' ? deliveryId : '' })),
  );
  return new Map(noted.map(([e], i) => [e, open[i]!]));
}

/** BullMQ backoff: the one backoff rule from the base delay (at most 15 min), or the receiver's Retry-After when longer. */
export function deliveryBackoff(baseMs: number, random?: () => number) {
  return (attemptsMade: number, _type?: string, err?: Error): number => {
    const retryAfterMs = Math.min((err as { retryAfterMs?: number } | undefined)?.retryAfterMs ?? 0, 15 * 60 * 1000);
    return backoffMs({ baseMs, attempt: attemptsMade, maxMs: 15 * 60 * 1000, retryAfterMs, random });
  };
}
