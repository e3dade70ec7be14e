// What a poll reads before it asks the provider: the track, its stored state, and whether its provider's change
// feed is pushing hints. The polls of one job read in one round trip.
import type { Redis } from 'ioredis';
import type { Keys } from '../store/keys';
import { ERROR_FIELD } from '../store/state-fields';
import type { Track } from '../store/tracks';

export interface TrackRead {
  trackId: string;
  /** Undefined once the track is gone (untracked, or retired by another poll). */
  track?: Track;
  /** The stored state: one field per step (and the pipeline, and the track's error). */
  prev: Record<string, string>;
  meta: { lastChangeAt: number; failures: number; cursor?: number; prevError: string; pushed: boolean };
}

type Reply<T> = [Error | null, T];

export async function readTracks(deps: { redis: Redis; keys: Keys; providers: Map<string, unknown> }, trackIds: string[]): Promise<TrackRead[]> {
  // Every provider's "pushed" marker: a track's provider is known only once its record is read (MGET needs a key).
  const providerNames = [...deps.providers.keys()];
  const pipeline = deps.redis.pipeline();
  for (const id of trackIds) pipeline.hmget(deps.keys.track(id), 'json', 'lastChangeAt', 'failures', 'cursor').hgetall(deps.keys.state(id));
  pipeline.mget(providerNames.length ? providerNames.map((p) => deps.keys.pushed(p)) : [deps.keys.pushed('-')]);
  const replies = (await pipeline.exec()) as Reply<unknown>[];
  // A failed read is Redis's error, never "the track is gone".
  const failed = replies.find(([err]) => err);
  if (failed) throw failed[0];
  const pushed = replies[replies.length - 1]![1] as (string | null)[];
  return trackIds.map((trackId, i) => {
    const fields = (replies[2 * i]![1] as (string | null)[] | null) ?? [];
    const prev = (replies[2 * i + 1]![1] as Record<string, string> | null) ?? {};
    const track = fields[0] ? (JSON.parse(fields[0]) as Track) : undefined;
    const meta = {
      lastChangeAt: Number(fields[1] ?? 0),
      failures: Number(fields[2] ?? 0),
      cursor: fields[3] ? Number(fields[3]) : undefined,
      prevError: prev[ERROR_FIELD] ?? '',
      pushed: track ? pushed[providerNames.indexOf(track.provider)] != null : false,
    };
    return { trackId, track, prev, meta };
  });
}
