// The poll's one atomic commit: every transition compared-and-set on the track's state, its events appended to the
// outbox, and the track rescheduled — one Lua script (commitPoll-*.lua), so a crash leaves all of it or none.
import type { Redis } from 'ioredis';
import type { WatchEvent } from './events';
import type { Keys } from './keys';
import { Scripts, type StuckNote } from './scripts';
import type { Track } from './tracks';

/** One compare-and-set: if `field` still holds `expected`, store `next` and append `event`. */
export interface Transition {
  field: string;
  expected: string;
  next: string;
  event: WatchEvent;
}

export interface CommitResult {
  appended: number;
  conflicts: number;
  /** Per transition, in order: whether its compare-and-set held (it was applied). */
  won: boolean[];
}

export class StateStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly scripts: Scripts = new Scripts(redis, keys),
  ) {}

  /**
   * One script: compare-and-set every transition, append its event, then reschedule (or retire when nextPollAt
   * is null). Throws TrackNotFoundError when the track was removed while the poll ran (nothing is written).
   */
  async commit(track: Track, transitions: Transition[], now: number, nextPollAt: number | null, stuck?: Map<Transition, StuckNote>): Promise<CommitResult> {
    return this.scripts.commitPoll({
      trackId: track.id,
      provider: track.provider,
      now,
      nextPollAt,
      transitions: transitions.map((t) => ({ field: t.field, expected: t.expected, next: t.next, eventJson: JSON.stringify(t.event), stuck: stuck?.get(t) })),
    });
  }
}
