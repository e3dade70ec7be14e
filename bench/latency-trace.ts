// Where a change's time goes, p50 (or other percentiles) of each stage over a set of changes: the change to the provider's request about it
// (the hint's way in, its debounce, the poll job's wait; where the provider is a server here), that request to the
// commit (the provider's answer, the commit: the event's detectedAt), the commit to the delivery record (the
// dispatcher), the record to the receiver (the delivery job's wait and the POST).
import type { DeliveryStore } from '../src/store/deliveries';
import { deliveryId } from '../src/store/ids';
import type { Arrival } from './arrivals';
import { percentile } from './support';

export interface TracedChange {
  changedAt: number;
  /** When the provider was first asked about the change's run after it (where the provider counts its requests). */
  askedAt?: number;
  arrival?: Arrival;
}

/** Each stage's percentiles `percentiles` (p50 alone unless asked). */
export async function stagesOf(
  changes: TracedChange[],
  deliveries: DeliveryStore,
  notifier: string,
  percentiles = [50],
): Promise<Record<string, number | undefined>> {
  const stages: Record<string, number[]> = { changeToRequest: [], requestToCommit: [], changeToCommit: [], commitToDispatch: [], dispatchToArrival: [] };
  const records = await Promise.all(changes.map((c) => (c.arrival ? deliveries.get(deliveryId(c.arrival.eventId, notifier)) : undefined)));
  changes.forEach(({ changedAt, askedAt, arrival }, i) => {
    if (!arrival) return;
    if (askedAt !== undefined) {
      stages.changeToRequest!.push(askedAt - changedAt);
      stages.requestToCommit!.push(arrival.detectedAt - askedAt);
    }
    stages.changeToCommit!.push(arrival.detectedAt - changedAt);
    const record = records[i];
    if (record) {
      stages.commitToDispatch!.push(record.createdAt - arrival.detectedAt);
      stages.dispatchToArrival!.push(arrival.at - record.createdAt);
    }
  });
  return Object.fromEntries(
    Object.entries(stages).flatMap(([stage, ms]) => percentiles.map((p) => [`${stage}P${p}Ms`, ms.length ? percentile(ms, p) : undefined])),
  );
}
