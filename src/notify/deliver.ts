// The delivery job: claim it (skip what was delivered or is being sent), call the notifier, mark it delivered at once,
// dead-letter the last failure. A job carrying a batch goes to deliver-batch.ts.
import { UnrecoverableError, type Job } from 'bullmq';
import { backoffMs } from '../backoff';
import { alertActionOf } from '../alerts/alert-key';
import { summarize, type WatchEvent } from '../store/events';
import { Scripts } from '../store/scripts';
import { deliverBatch } from './deliver-batch';
import { noteFailure, type DeliveryFailure } from './delivery-outcome';
import type { BatchDeliveryData, DeliverDeps, DeliverJobData, DeliverOutcome, SingleDeliveryData } from './delivery-job';
import { isFailure } from './formats/describe';

export type { BatchDeliveryData, DeliverDeps, DeliverJobData, DeliverOutcome, SingleDeliveryData } from './delivery-job';

export async function deliverJob(deps: DeliverDeps, job: Job<DeliverJobData>, signal: AbortSignal): Promise<DeliverOutcome> {
  if ('batch' in job.data) return deliverBatch(deps, job as Job<BatchDeliveryData>, signal);
  const { deliveryId, notifier: name, group } = job.data;
  const [claimed] = await deps.deliveries.claim([deliveryId], job.id ?? deliveryId, deps.clock.now());
  if (!claimed) return 'already-delivered';
  const event = group ? await groupLead(deps, group) : job.data.event;
  if (!event) throw new UnrecoverableError(`delivery ${deliveryId} carries no event`);
  const notifier = deps.notifiers.get(name);
  const attempt = job.attemptsMade + 1;
  const maxAttempts = job.opts.attempts ?? 1;
  const log = deps.logger.child({ component: 'deliver', deliveryId, notifier: name });
  if (!notifier) {
    const error = Object.assign(new Error(`notifier "${name}" is not configured`), { retryable: false });
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
  // The lead of a group carried its alert to this notifier: the alert's resolve must reach it too.
  if (group && event.alertKey && alertActionOf(event) === 'open') await deps.alerts?.noteNotified(event.alertKey, name);
  deps.onDelivered?.(name, event, true, true);
  return 'delivered';
}

/**
 * A group generation as one notification: closes the generation (later events start the next one) and
 * returns its lead (the first failure, else the first event) carrying a line for each of the others.
 */
async function groupLead(deps: DeliverDeps, group: NonNullable<SingleDeliveryData['group']>): Promise<WatchEvent | undefined> {
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
