// Every idempotency id (track, poll job, event, delivery) is built here: BullMQ job ids must not contain ':'.
import { createHash } from 'node:crypto';

function digest(parts: (string | number)[], length: number): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, length);
}

export type TrackKind = 'step' | 'pipeline' | 'experiment';

/** The same target on the same provider is always the same track. */
export function trackId(provider: string, kind: TrackKind, target: string): string {
  return `t${digest([provider, kind, target], 15)}`;
}

/** One poll job per track at a time: a second add with this id is ignored while the first exists. */
export function pollJobId(track: string): string {
  return `poll-${track}`;
}

/** The n-th transition of a step (or `@pipeline`, or `@error`) of a track. Stable across replays. */
export function eventId(track: string, subject: string, seq: number): string {
  return `e${digest([track, subject, seq], 23)}`;
}

/** One delivery of one event to one notifier. */
export function deliveryId(event: string, notifier: string): string {
  return `${event}-${notifier}`;
}

/** The BullMQ job of a delivery; a retry from the dead-letter list gets a new job id, same delivery id. */
export function deliveryJobId(delivery: string, retry = 0): string {
  return retry === 0 ? `dlv-${delivery}` : `dlv-${delivery}-r${retry}`;
}
