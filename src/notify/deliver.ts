// The delivery job: skip what was delivered, call the notifier, mark it delivered at once, dead-letter the last failure.
import { UnrecoverableError, type Job } from 'bullmq';
import { backoffMs } from '../backoff';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { Redis } from 'ioredis';
import { alertActionOf, type KeyField } from '../alerts/alert-key';
import type { AlertStore } from '../alerts/alert-store';
import { summarize, type WatchEvent } from '../store/events';
import type { Keys } from '../store/keys';
import { Scripts } from '../store/scripts';
import { isFailure } from './formats/describe';
import type { DeliveryStore } from './deliveries';
import type { Notifier } from './notifier';

export interface DeliverJobData {
  deliveryId: string;
  notifier: string;
  /** One event; or, for a grouped route, the group generation whose events are sent as one notification. */
  event?: WatchEvent;
  group?: { id: string; generation: number; key?: KeyField[] };
}

export interface DeliverDeps {
  notifiers: Map<string, Notifier>;
  deliveries: DeliveryStore;
  /** For grouped deliveries: their events, and the alert the lead opened. */
  redis?: Redis;
  keys?: Keys;
  alerts?: AlertStore;
  clock: Clock;
  logger: Logger;
  onDelivered?(notifier: string, event: WatchEvent, ok: boolean, final: boolean): void;
}

export type DeliverOutcome = 'delivered' | 'already-delivered';

export async function deliverJob(deps: DeliverDeps, job: Job<DeliverJobData>, signal: AbortSignal): Promise<DeliverOutcome> {
  const { deliveryId, notifier: name, group } = job.data;
  const status = await deps.deliveries.status(deliveryId);
  if (status === 'delivered' || status === 'silenced') return 'already-delivered';
  const event = group ? await groupLead(deps, group) : job.data.event;
  if (!event) throw new UnrecoverableError(`delivery ${deliveryId} carries no event`);
  const notifier = deps.notifiers.get(name);
  const attempt = job.attemptsMade + 1;
  const maxAttempts = job.opts.attempts ?? 1;
  const log = deps.logger.child({ component: 'deliver', deliveryId, notifier: name });
  if (!notifier) {
    await deps.deliveries.markFailedAttempt(deliveryId, attempt, deps.clock.now(), `notifier "${name}" is not configured`, { event });
    throw new UnrecoverableError(`notifier "${name}" is not configured`);
  }
  let detail: string | undefined;
  try {
    detail = (await notifier.deliver(event, { deliveryId, attempt, logger: log, signal }))?.detail;
  } catch (err) {
    const e = err as Error & { retryable?: boolean };
    const final = e.retryable === false || attempt >= maxAttempts;
    await deps.deliveries.markFailedAttempt(deliveryId, attempt, deps.clock.now(), e.message, final ? { event } : false);
    deps.onDelivered?.(name, event, false, final);
    log[final ? 'error' : 'warn']({ attempt, maxAttempts, err: e.message, final }, final ? 'delivery failed: dead-lettered' : 'delivery failed: will retry');
    if (e.retryable === false) throw new UnrecoverableError(e.message);
    throw err;
  }
  await deps.deliveries.markDelivered(
    deliveryId,
    attempt,
    deps.clock.now(),
    detail ?? (event.grouped?.length ? `with ${event.grouped.length} more event(s)` : undefined),
  );
  // The lead of a group carried its alert to this notifier: the alert's resolve must reach it too.
  if (group && event.alertKey && alertActionOf(event) === 'open') await deps.alerts?.noteNotified(event.alertKey, name);
  deps.onDelivered?.(name, event, true, true);
  return 'delivered';
}

/**
 * A group generation as one notification: closes the generation (later events start the next one) and
 * returns its lead (the first failure, else the first event) carrying a line for each of the others.
 */
async function groupLead(deps: DeliverDeps, group: NonNullable<DeliverJobData['group']>): Promise<WatchEvent | undefined> {
  if (!deps.redis || !deps.keys) throw new UnrecoverableError('grouped delivery without Redis');
  const texts = await new Scripts(deps.redis, deps.keys).closeGroup({ groupId: group.id, generation: group.generation, now: deps.clock.now() });
  const events = texts.map((t) => JSON.parse(t) as WatchEvent);
  const lead = events.find(isFailure) ?? events[0];
  if (!lead) return undefined;
  const others = events.filter((e) => e !== lead).map((e) => ({ id: e.id, type: e.type, summary: summarize(e) }));
  return others.length ? { ...lead, grouped: others } : lead;
}

/** BullMQ backoff: the one backoff rule from the base delay (at most 15 min), or the receiver's Retry-After when longer. */
export function deliveryBackoff(baseMs: number, random?: () => number) {
  return (attemptsMade: number, _type?: string, err?: Error): number => {
    const retryAfterMs = Math.min((err as { retryAfterMs?: number } | undefined)?.retryAfterMs ?? 0, 15 * 60 * 1000);
    return backoffMs({ baseMs, attempt: attemptsMade, maxMs: 15 * 60 * 1000, retryAfterMs, random });
  };
}
