// Sending dead letters again: the delivery goes back to pending with a new job id (the old job may still exist).
import type { Queue } from 'bullmq';
import { DeliveryNotFoundError, InvalidInputError } from '../../model/errors';
import { deliveryJobId } from '../../store/ids';
import type { DeliveryStore } from '../../store/deliveries';

/** Sends a dead letter again; `by`: who asked (the signed-in user, a token's name, `cli:<user>`), kept on the record. */
export async function retryDelivery(store: DeliveryStore, queue: Queue, id: string, now: number, by?: string): Promise<void> {
  const record = await store.get(id);
  if (!record) throw new DeliveryNotFoundError(id);
  if (record.status !== 'failed') throw new InvalidInputError(`delivery ${id} is ${record.status}, not failed: nothing to retry`);
  const event = await store.deadEvent(id);
  if (!event) throw new InvalidInputError(`delivery ${id} has no stored event to send again`);
  const retry = await store.reopen(id, now, by);
  await queue.add(record.notifier, { deliveryId: id, notifier: record.notifier, event }, { jobId: deliveryJobId(id, retry) });
}

/** Retries every dead letter; returns how many were sent again. */
export async function retryAllFailed(store: DeliveryStore, queue: Queue, now: number, by?: string): Promise<number> {
  let n = 0;
  for (const id of await store.deadLetterIds()) {
    await retryDelivery(store, queue, id, now, by);
    n++;
  }
  return n;
}
