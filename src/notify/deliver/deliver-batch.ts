// A delivery job that carries several deliveries of one notifier (the dispatcher batches what one read of the events
// stream gives it): one BullMQ job, one claim for the lot, one send each, each marked delivered as soon as it went.
// Each delivery keeps its own record, attempts and dead letter; a batch that had failures is retried whole, and what
// was delivered is skipped.
import { getMaxListeners, setMaxListeners } from 'node:events';
import { UnrecoverableError, type Job } from 'bullmq';
import { DeliveryError } from '../../model/errors';
import type { WatchEvent } from '../../store/events';
import type { BatchDeliveryData, DeliverDeps, DeliverOutcome } from './delivery-job';
import { noteFailure, type DeliveryFailure, notConfigured } from './delivery-outcome';
import { forReceiver } from './run-link';
import { lazyChild } from '../../util/logger';
import type { DeliveryStore } from '../../store/deliveries';
import type { Clock } from '../../util/clock';

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
  const marks = new DeliveredMarks(deps.deliveries, attempt, deps.clock);
  const results = await Promise.allSettled(
    todo.map(async (b) => {
      const sent = await notifier.deliver(forReceiver(b.event, deps), {
        deliveryId: b.deliveryId,
        attempt,
        logger: lazyChild(log, { deliveryId: b.deliveryId }),
        signal,
      });
      marks.add({ id: b.deliveryId, detail: sent?.detail });
      return sent;
    }),
  );
  // What went is marked already (DeliveredMarks); here only told, in the batch's order, once every mark is written.
  const delivered: WatchEvent[] = [];
  const failed: { deliveryId: string; event: WatchEvent; error: DeliveryFailure }[] = [];
  results.forEach((r, i) => {
    const { deliveryId, event } = todo[i]!;
    if (r.status === 'fulfilled') delivered.push(event);
    else failed.push({ deliveryId, event, error: r.reason as DeliveryFailure });
  });
  await marks.written();
  for (const event of delivered) deps.onDelivered?.(name, event, true, true);
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

/**
 * Marks a batch's deliveries delivered as their sends succeed, those of one event-loop turn in one call: a delivery
 * is marked a turn and a round trip after its receiver's answer, not after the batch's slowest send (a crash in
 * between would send it again on the job's re-run: the window is kept to that round trip).
 */
class DeliveredMarks {
  private due: { id: string; detail?: string }[] = [];
  private scheduled = false;
  private readonly writes: Promise<void>[] = [];
  private failure?: Error;

  constructor(
    private readonly deliveries: DeliveryStore,
    private readonly attempt: number,
    private readonly clock: Clock,
  ) {}

  add(mark: { id: string; detail?: string }): void {
    this.due.push(mark);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.write();
    });
  }

  /** Every mark written; the first write that failed is thrown (the job is retried, its delivered ones skipped). */
  async written(): Promise<void> {
    this.write();
    await Promise.all(this.writes);
    if (this.failure) throw this.failure;
  }

  private write(): void {
    if (this.due.length === 0) return;
    const marks = this.due.splice(0);
    // Caught at once: a write failing while other sends are still out must not be an unhandled rejection.
    this.writes.push(this.deliveries.markManyDelivered(marks, this.attempt, this.clock.now()).catch((err: Error) => void (this.failure ??= err)));
  }
}
