// A track's errors as compare-and-set transitions of its state: the provider's (`@error`, raised by
// recordPollFailure-5.lua) and each unreadable record's (`@unreadable:<step run id>`). Each track.error is followed by
// one track.recovered when it clears — all of them only once the track polls wholly fine (nothing left unreadable),
// since they share the track's one alert.
import { unreadableField } from '../store/state-fields';
import { Status } from '../model/status';
import type { UnreadableStepRun } from '../model/provider';
import { trackErrorEvent, trackRecoveredEvent } from '../store/event-builders';
import type { Track } from '../store/tracks';
import { decodeState, encodeState, ERROR_FIELD, UNREADABLE_FIELD_PREFIX } from '../store/state-fields';
import { type Transition } from '../store/state-store';

/** A step whose record cannot be read: one track.error naming it (raised again only after it was readable). */
export function unreadableTransitions(track: Track, prev: Record<string, string>, unreadable: UnreadableStepRun[], now: number): Transition[] {
  const raised: Transition[] = [];
  for (const u of unreadable) {
    const field = unreadableField(u.stepRunId);
    const before = decodeState(prev[field]);
    if (before?.status === Status.Failed) continue;
    const seq = (before?.seq ?? 0) + 1;
    const event = trackErrorEvent(track, { ...u.error, retryable: false }, seq, now, field);
    raised.push({ field, expected: prev[field] ?? '', next: encodeState({ seq, status: Status.Failed }), event });
  }
  return raised;
}

/** The errors of a track that polls wholly fine now (`unreadableNow` empty), each with its track.recovered. */
export function recoveryTransitions(track: Track, prev: Record<string, string>, unreadableNow: UnreadableStepRun[], now: number): Transition[] {
  if (unreadableNow.length > 0) return [];
  const recovered: Transition[] = [];
  for (const [field, value] of Object.entries(prev)) {
    if (field !== ERROR_FIELD && !field.startsWith(UNREADABLE_FIELD_PREFIX)) continue;
    const t = recoveryOf(track, field, value, now);
    if (t) recovered.push(t);
  }
  return recovered;
}

/** The track.recovered of one error field that holds a raised error; undefined for any other value. */
export function recoveryOf(track: Track, field: string, value: string, now: number): Transition | undefined {
  const before = decodeState(value);
  if (before?.status !== Status.Failed) return undefined;
  const seq = before.seq + 1;
  return { field, expected: value, next: encodeState({ seq, status: Status.Finished }), event: trackRecoveredEvent(track, seq, now, field) };
}
