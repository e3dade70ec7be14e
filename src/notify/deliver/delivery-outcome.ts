// What a failed try of one delivery leaves behind, the same for a single delivery and for each one of a batch:
// its record (retrying, or failed with its event kept as a dead letter), the metrics hook, and one log line.
import { DeliveryError } from '../../model/errors';
import type { Logger } from '../../util/logger';
import type { WatchEvent } from '../../store/events';
import type { DeliverDeps } from './delivery-job';

export type DeliveryFailure = Error & { retryable?: boolean; retryAfterMs?: number };

/** A delivery to a notifier this process does not have (taken out of the config): failed at once, kept as a dead letter. */
export function notConfigured(name: string): DeliveryError {
  return new DeliveryError(`notifier "${name}" is not configured`, { retryable: false });
}

/** Records a failed try; returns whether it was the last one (not retryable, or out of attempts). */
export async function noteFailure(
  deps: DeliverDeps,
  o: { notifier: string; deliveryId: string; event: WatchEvent; attempt: number; maxAttempts: number; error: DeliveryFailure; log: Logger },
): Promise<boolean> {
  const { attempt, maxAttempts, error } = o;
  const final = error.retryable === false || attempt >= maxAttempts;
  await deps.deliveries.markFailedAttempt(o.deliveryId, attempt, deps.clock.now(), error.message, final ? { event: o.event } : false);
  deps.onDelivered?.(o.notifier, o.event, false, final);
  o.log[final ? 'error' : 'warn'](
    // The logger names the delivery already (a child made for it): written once per line.
    { attempt, maxAttempts, err: error.message, final },
    final ? 'delivery failed: dead-lettered' : 'delivery failed: will retry',
  );
  return final;
}
