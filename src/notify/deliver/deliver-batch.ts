// A delivery job that carries several deliveries of one notifier (the dispatcher batches what one read of the events
// stream gives it): one BullMQ job, one claim and one mark for the lot, one send each. Each delivery keeps its own
// record, attempts and dead letter; a batch that had failures is retried whole, and what was delivered is skipped.
import { getMaxListeners, setMaxListeners } from 'node:events';
import { UnrecoverableError, type Job } from 'bullmq';
import { DeliveryError } from '../../model/errors';
import type { WatchEvent } from '../../store/events';
import type { BatchDeliveryData, DeliverDeps, DeliverOutcome } from './delivery-job';
import { noteFailure, type DeliveryFailure, notConfigured } from './delivery-outcome';
import { forReceiver } from './run-link';
import { lazyChild } from '../../util/logger';

export async function deliverBatch(deps: DeliverDeps, job: Job<BatchDeliveryData>, signal: AbortSignal): Promise<DeliverOutcome> {
  const { notifier: name, batch } = job.data;
  const now = deps.clock.now();
  const attempt = job.attemptsMade + 1;
  const maxAttempts = job.opts.attempts ?? 1;
  const claimed = new Set(
    await deps.deliveries.claim(
      batch.map((b) => b.deliveryId),
      job.id ?? `batch-${batch[0]?.deliveryId}`,
      now,
    ),
  );
  const todo = batch.filter((b) => claimed.has(b.deliveryId));
  if (todo.length === 0) return 'already-delivered';
  const notifier = deps.notifiers.get(name);
  const log = lazyChild(deps.logger, { component: 'deliver', notifier: name, batch: todo.length });
  if (!notifier) {
    const error = notConfigured(name);
    for (const b of todo) await noteFailure(deps, { notifier: name, ...b, attempt, maxAttempts, error, log: lazyChild(log, { deliveryId: b.deliveryId }) });
    throw new UnrecoverableError(error.message);
  }
  // Every send listens to the job's one abort signal at once: a full batch is not a leak (Node warns past 10).
  if (getMaxListeners(signal) < todo.length + 10) setMaxListeners(todo.length + 10, signal);
  const results = await Promise.allSettled(
    todo.map((b) =>
      notifier.deliver(forReceiver(b.event, deps), {
        deliveryId: b.deliveryId,
        attempt,
        logger: lazyChild(log, { deliveryId: b.deliveryId }),
        signal,
      }),
    ),
  );
  const delivered: { id: string; detail?: string; event: WatchEvent }[] = [];
  const failed: { deliveryId: string; event: WatchEvent; error: DeliveryFailure }[] = [];
  results.forEach((r, i) => {
    const { deliveryId, event } = todo[i]!;
    if (r.status === 'fulfilled') delivered.push({ id: deliveryId, detail: r.value?.detail, event });
    else failed.push({ deliveryId, event, error: r.reason as DeliveryFailure });
  });
  // Marked at once, in one transaction: a crash after this cannot send them again.
  if (delivered.length) await deps.deliveries.markManyDelivered(delivered, attempt, deps.clock.now());
  for (const d of delivered) deps.onDelivered?.(name, d.event, true, true);
  const failures: ((typeof failed)[number] & { final: boolean })[] = [];
  for (const f of failed)
    failures.push({ ...f, final: await noteFailure(deps, { notifier: name, ...f, attempt, maxAttempts, log: lazyChild(log, { deliveryId: f.deliveryId }) }) });
  const retry = failures.filter((f) => !f.final);
  if (retry.length > 0) {
    // The job comes back after the backoff (the longest Retry-After of its receivers wins); delivered ones are skipped.
    const retryAfterMs = Math.max(0, ...retry.map((f) => f.error.retryAfterMs ?? 0));
    throw new DeliveryError(`${retry.length} of ${todo.length} deliveries failed, first: ${retry[0]!.error.message}`, { retryable: true, retryAfterMs });
  }
  if (failures.length > 0) throw new UnrecoverableError(`${failures.length} of ${todo.length} deliveries dead-lettered, first: ${failures[0]!.error.message}`);
  return 'delivered';
}
