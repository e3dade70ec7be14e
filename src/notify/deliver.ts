// The delivery job: skip what was delivered, call the notifier, mark it delivered at once, dead-letter the last failure.
import { UnrecoverableError, type Job } from 'bullmq';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { WatchEvent } from '../watch/events';
import type { DeliveryStore } from './deliveries';
import type { Notifier } from './notifier';

export interface DeliverJobData {
  deliveryId: string;
  notifier: string;
  event: WatchEvent;
}

export interface DeliverDeps {
  notifiers: Map<string, Notifier>;
  deliveries: DeliveryStore;
  clock: Clock;
  logger: Logger;
  onDelivered?(notifier: string, event: WatchEvent, ok: boolean, final: boolean): void;
}

export type DeliverOutcome = 'delivered' | 'already-delivered';

export async function deliverJob(deps: DeliverDeps, job: Job<DeliverJobData>, signal: AbortSignal): Promise<DeliverOutcome> {
  const { deliveryId, notifier: name, event } = job.data;
  if ((await deps.deliveries.status(deliveryId)) === 'delivered') return 'already-delivered';
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
  await deps.deliveries.markDelivered(deliveryId, attempt, deps.clock.now(), detail);
  deps.onDelivered?.(name, event, true, true);
  return 'delivered';
}

/** BullMQ backoff: exponential from the base delay, or the receiver's Retry-After when it asked for longer. */
export function deliveryBackoff(baseMs: number) {
  return (attemptsMade: number, _type?: string, err?: Error): number => {
    const exp = baseMs * 2 ** Math.max(0, attemptsMade - 1);
    const retryAfter = (err as { retryAfterMs?: number } | undefined)?.retryAfterMs ?? 0;
    return Math.min(Math.max(exp, retryAfter), 15 * 60 * 1000);
  };
}
