// Every idempotency id (track, poll job, event, delivery) is built here: BullMQ job ids must not contain ':'.
import { hash } from 'node:crypto';

/** SHA-256 of the parts, hex, cut to `length`: the one-shot hash (a storm's flushes make tens of thousands of ids). */
function digest(parts: (string | number)[], length: number): string {
  return hash('sha256', parts.join('\0'), 'hex').slice(0, length);
}

export type TrackKind = 'step' | 'pipeline' | 'experiment';

/** The same target on the same provider is always the same track. */
export function trackId(provider: string, kind: TrackKind, target: string): string {
  return `t${digest([provider, kind, target], 15)}`;
}

/**
 * The poll job of tracks claimed for polls due from `dueAt`: one job per claim. Two claims of the same tracks and due
 * time (a tick and a first poll asked for at once) are one job; a claim made while a track's previous poll job is
 * still finishing (its commit has set the next due time) gets a new job — an id per track alone would make that add
 * a no-op and strand the track until its lease ran out. One track keeps its own id; several, a digest of them all
 * (never a name of the first alone: another set with the same first track would be dropped as its duplicate).
 */
export function pollJobId(tracks: string[], dueAt: number): string {
  return tracks.length === 1 ? `poll-${tracks[0]}-${dueAt}` : `polls-${digest(tracks, 20)}-${dueAt}`;
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

/** An alert's storage id: its key (any text) hashed to a safe, fixed-length name. */
export function alertId(key: string): string {
  return `a${digest([key], 20)}`;
}

/** The alert.resolved event of one opening: the same id however often the resolve is replayed. */
export function resolvedEventId(openedBy: string): string {
  return `r${digest([openedBy, 'resolved'], 23)}`;
}

/** One notification of a group (route, notifier, group-by values) in its n-th generation. */
export function groupId(route: number, notifier: string, values: string[]): string {
  return `g${digest([route, notifier, ...values], 20)}`;
}

export function groupDeliveryId(group: string, generation: number, notifier: string): string {
  return `${group}-${generation}-${notifier}`;
}

/** The group a notifier's group delivery id names (groupDeliveryId read back), else undefined. */
export function groupOfDelivery(deliveryId: string | undefined, notifier: string): string | undefined {
  const match = deliveryId?.endsWith(`-${notifier}`) ? /^(g[0-9a-f]{20})-\d+-/.exec(deliveryId) : null;
  return match?.[1];
}

/** The n-th notification of an incident group (made at `firstAt`): the idempotency id its receiver sees on every try. */
export function incidentDeliveryId(group: string, firstAt: number, seq: number): string {
  return `${group}-${firstAt.toString(36)}-n${seq}`;
}

/** The flush job of an incident group due at `dueAt`: one job per due time, however often it is claimed. */
export function incidentFlushJobId(group: string, dueAt: number): string {
  return `inc-${group}-${dueAt}`;
}

/** The n-th repeat of an open alert to one notifier. */
export function repeatDeliveryId(openedBy: string, notifier: string, n: number): string {
  return `${openedBy}-${notifier}-repeat${n}`;
}

/** An open alert told to a notifier once nothing mutes it any more: once per failure count (a replayed tick sends it once). */
export function unmutedDeliveryId(openedBy: string, notifier: string, failures: number): string {
  return `${openedBy}-${notifier}-unmuted${failures}`;
}

/** The job of a batch of deliveries: the same set of deliveries is always the same job. */
export function batchJobId(deliveries: string[]): string {
  return `dlvb-${digest(deliveries, 24)}`;
}
