// An incident group's flush, as a delivery job: hold the group, send again a message a crashed flush left noted, look
// at the group's alerts now (resolved, silenced, acknowledged: incident.ts's stages), compare with the notification
// log, send the difference to the pager (trigger, acknowledge or resolve, under the group's one incident key), note
// it, and set the next flush. Level-triggered: whatever was lost or raced, the next flush mends it.
import { UnrecoverableError, type Job } from 'bullmq';
import { decideFlush, groupStateOf, nextFlushAt, type FlushDecision, type GroupState, type IncidentAction, type NotificationLog } from '../../alerts/incident';
import { incidentMessage } from '../../alerts/incident-message';
import type { IncidentGroup, PendingMessage } from '../../alerts/incidents';
import { annotated, mutedUntil } from '../../alerts/route-choice';
import { summarize, type WatchEvent } from '../../store/events';
import { incidentDeliveryId } from '../../store/ids';
import { noteFailure, type DeliveryFailure, notConfigured } from './delivery-outcome';
import type { DeliverDeps, DeliverOutcome, IncidentFlushData } from './delivery-job';
import { forReceiver } from './run-link';

/** A flush that finds its group held by another waits this long before it looks again. */
const BUSY_RETRY_MS = 500;
/** Messages one flush sends at most: what the group is, and an acknowledgement the receiver could not get before. */
const MAX_SENDS_PER_FLUSH = 2;

export async function flushIncident(deps: DeliverDeps, job: Job<IncidentFlushData>, signal: AbortSignal): Promise<DeliverOutcome> {
  const { incidents, alerts } = deps;
  if (!incidents || !alerts) throw new UnrecoverableError('an incident flush needs the incident and alert stores');
  const groupId = job.data.incident.id;
  const token = await incidents.lock(groupId, job.id ?? `${groupId}-${job.timestamp}`);
  if (!token) {
    await incidents.flushSoon([groupId], deps.clock.now() + BUSY_RETRY_MS);
    return 'not-sent';
  }
  try {
    let group = await incidents.read(groupId);
    if (!group) {
      // Scheduled but gone (its keys deleted by hand, or lost): not claimed again every lease for good.
      await incidents.unschedule(groupId);
      return 'not-sent';
    }
    if (group.pending) {
      // A flush died between noting this message and the receiver's answer: the same message, under the same id.
      await send(deps, job, group, group.pending, signal);
      group = (await incidents.read(groupId)) ?? group;
    }
    return await flushOnce(deps, job, group, signal);
  } finally {
    await incidents.unlock(groupId, token);
  }
}

async function flushOnce(deps: DeliverDeps, job: Job<IncidentFlushData>, group: IncidentGroup, signal: AbortSignal): Promise<DeliverOutcome> {
  const { incidents, alerts } = deps as Required<Pick<DeliverDeps, 'incidents' | 'alerts'>>;
  const now = deps.clock.now();
  const keys = [...group.members.keys()];
  const [views, silences] = await Promise.all([alerts.views(keys), deps.silences?.list(now) ?? []]);
  const route = deps.policy?.routes[group.settings.route];
  const state = groupStateOf(
    keys.map((key) => ({ key, alert: views.get(key) })),
    now,
    {
      silences,
      ...(group.settings.ackExpiresMs ? { ackExpiresMs: group.settings.ackExpiresMs } : {}),
      ...(route && deps.policy ? { mutedUntil: mutedUntil(deps.policy, route, now) } : {}),
    },
  );
  const gone = keys.filter((k) => !views.has(k)).map((k): [string, string] => [k, group.members.get(k)!]);
  // Until the receiver holds what the group is: an incident acknowledged while it was silenced must be triggered,
  // then acknowledged at once (PagerDuty opens no incident acknowledged), not paged until the next look.
  let log = group.log;
  let sent = 0;
  for (let decision = decideFlush(state, log, group.settings); decision.send && sent < MAX_SENDS_PER_FLUSH; sent++) {
    log = await sendDecision(deps, job, group, { state, log, decision: decision as FlushDecision & { send: IncidentAction }, now, gone }, signal);
    decision = decideFlush(state, log, group.settings);
  }
  const ackedAt = Math.min(...state.members.filter((m) => m.acked).map((m) => m.acked!.at));
  const nextAt =
    nextFlushAt(log, group.settings, now, keys.length - gone.length, Number.isFinite(ackedAt) ? ackedAt : undefined, state.heldUntil) ??
    now + group.settings.intervalMs;
  await incidents.settle(group.id, now, nextAt, gone);
  return sent > 0 ? 'delivered' : 'not-sent';
}

/** The message a flush decided on: built, noted as pending, sent. Returns the log as the receiver now has it. */
async function sendDecision(
  deps: DeliverDeps,
  job: Job<IncidentFlushData>,
  group: IncidentGroup,
  o: { state: GroupState; log: NotificationLog | undefined; decision: FlushDecision & { send: IncidentAction }; now: number; gone: [string, string][] },
  signal: AbortSignal,
): Promise<NotificationLog> {
  const { state, log, decision, now } = o;
  const { message, lead } = incidentMessage({ groupId: group.id, decision, state, log, flushedBefore: group.flushedAt, summaryOf: summarize });
  const seq = (log?.seq ?? 0) + 1;
  const reopened = !log || log.action === 'resolve';
  const next: NotificationLog = {
    firing: decision.firing,
    resolved: decision.resolved,
    action: decision.send,
    at: now,
    seq,
    ...(reopened ? { openedAt: now } : log?.openedAt ? { openedAt: log.openedAt } : {}),
  };
  const event: WatchEvent = {
    ...annotated(lead ?? placeholderEvent(group, now), deps.policy?.routes[group.settings.route]?.annotations),
    // A first page counts its latency from the failure's detection; any later message from now.
    ...(reopened && lead ? {} : { detectedAt: now }),
    time: new Date(now).toISOString(),
    incident: message,
  };
  delete event.alertKey;
  const pending: PendingMessage = { id: incidentDeliveryId(group.id, group.firstAt, seq), event, log: next };
  await send(deps, job, group, pending, signal, o.gone, () => deps.incidents!.noteSending(group.id, pending));
  return next;
}

/**
 * One message to the pager: recorded as a delivery (shown by `deliveries`, dead-lettered when it fails for good),
 * then noted in the log. A failed try throws for BullMQ's retry; the last one sets the group's next flush, which
 * sends the noted message again. `notePending`: notes a new message as pending, with its record and before anything
 * is sent (the two writes do not depend on each other: one round trip for both).
 */
async function send(
  deps: DeliverDeps,
  job: Job<IncidentFlushData>,
  group: IncidentGroup,
  pending: PendingMessage,
  signal: AbortSignal,
  gone: [string, string][] = [],
  notePending?: () => Promise<void>,
): Promise<void> {
  const { incidents } = deps as Required<Pick<DeliverDeps, 'incidents'>>;
  const name = group.settings.notifier;
  const incident = pending.event.incident!;
  const now = deps.clock.now();
  const record = {
    id: pending.id,
    eventId: pending.event.id,
    notifier: name,
    eventType: `incident.${incident.action}`,
    summary: incident.title,
    reason: incident.reason,
  };
  await Promise.all([notePending?.(), deps.deliveries.ensureMany([record], now)]);
  const notifier = deps.notifiers.get(name);
  const attempt = job.attemptsMade + 1;
  const maxAttempts = job.opts.attempts ?? 1;
  const log = deps.logger.child({ component: 'incident', groupId: group.id, deliveryId: pending.id, notifier: name });
  let detail: string | undefined;
  try {
    if (!notifier) throw notConfigured(name);
    detail = (await notifier.deliver(forReceiver(pending.event, deps), { deliveryId: pending.id, attempt, logger: log, signal }))?.detail;
  } catch (err) {
    const error = err as DeliveryFailure;
    const final = await noteFailure(deps, { notifier: name, deliveryId: pending.id, event: pending.event, attempt, maxAttempts, error, log });
    if (!final) throw err;
    // Given up for now (dead-lettered): the group's next flush, an interval from now, sends the noted message again.
    await incidents.settle(group.id, now, now + group.settings.intervalMs, gone);
    throw new UnrecoverableError(error.message);
  }
  // The log and the record say it was sent (independent writes, one round trip for both).
  await Promise.all([incidents.noteSent(group.id, pending.log), deps.deliveries.markDelivered(pending.id, attempt, deps.clock.now(), detail)]);
  deps.onDelivered?.(name, pending.event, true, true);
}

/** The event a message of a group with no open alert left carries (a resolve): the incident says everything. */
function placeholderEvent(group: IncidentGroup, now: number): WatchEvent {
  return {
    id: `${group.id}-${now.toString(36)}`,
    type: 'alert.resolved',
    time: new Date(now).toISOString(),
    detectedAt: now,
    trackId: '',
    provider: '',
    experiment: '',
    labels: {},
  };
}
