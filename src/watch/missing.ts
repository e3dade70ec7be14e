// Missing runs: an experiment track that expects a pipeline run every so often says so once when none started in time.
import type { Redis } from 'ioredis';
import { Status } from '../model/status';
import { experimentEvent, MISSING_FIELD, missingEvent } from '../store/event-builders';
import type { Keys } from '../store/keys';
import { Scripts } from '../store/scripts';
import { decodeState, encodeState } from '../store/state-fields';
import type { Expectation, Track } from '../store/tracks';
import { InternalError } from '../model/errors';

export type { Expectation } from '../store/tracks';

export { MISSING_FIELD } from '../store/event-builders';

/** Milliseconds the zone is ahead of UTC at `at`. */
function zoneOffsetMs(at: number, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(at));
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - (at - (at % 1000));
}

/** The first moment after `now` at which the local clock of `tz` reads `by` (pure; daylight saving included). */
export function nextLocalTime(now: number, by: string, tz: string): number {
  const [hh, mm] = by.split(':').map(Number) as [number, number];
  const local = new Date(now + zoneOffsetMs(now, tz));
  for (let day = 0; day < 3; day++) {
    const wall = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + day, hh, mm);
    // The wall time in UTC terms, corrected with the offset in force at that moment.
    let at = wall - zoneOffsetMs(wall, tz);
    at = wall - zoneOffsetMs(at, tz);
    if (at > now) return at;
  }
  throw new InternalError(`no ${by} in ${tz} after ${new Date(now).toISOString()}`);
}

/** When the next check is due: the next `by` time, or `everyMs` after the last run (or after `since`). */
export function nextDeadline(e: Expectation, now: number, lastRunAt: number): number {
  return e.by ? nextLocalTime(now, e.by, e.tz) : Math.max(lastRunAt + e.everyMs, now + 1000);
}

/** Whether a run started in the window that ends at `deadline` (pure). */
export function runMissing(e: Expectation, deadline: number, lastRunAt: number): boolean {
  return lastRunAt < deadline - e.everyMs;
}

export class MissingWatch {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly scripts: Scripts = new Scripts(redis, keys),
  ) {}

  /** Called by an experiment track's first poll: schedules its first check (kept if one is there). */
  async schedule(track: Track, now: number): Promise<void> {
    if (!track.expect) return;
    const deadline = nextDeadline(track.expect, now, track.createdAt);
    if ((await this.redis.zadd(this.keys.expect, 'NX', deadline, track.id)) === 1) await this.redis.hset(this.keys.track(track.id), 'expectDeadline', deadline);
  }

  /** On the scheduler's tick: each experiment whose deadline passed without a run raises one experiment.missing. */
  async raiseDue(now: number, limit = 500): Promise<number> {
    const k = this.keys;
    const due = await this.scripts.claimDue({ schedule: k.expect, now, limit, leaseMs: 60_000 });
    let raised = 0;
    for (const { member: trackId } of due) {
      const [json, lastRun, deadlineText] = await this.redis.hmget(k.track(trackId), 'json', 'lastRunAt', 'expectDeadline');
      if (!json) {
        await this.redis.zrem(k.expect, trackId);
        continue;
      }
      const track = JSON.parse(json) as Track;
      const e = track.expect!;
      const lastRunAt = Number(lastRun ?? 0);
      const deadline = Number(deadlineText ?? 0) || now;
      if (runMissing(e, deadline, lastRunAt)) {
        const before = await this.redis.hget(k.state(trackId), MISSING_FIELD);
        const prev = decodeState(before ?? undefined);
        // Once until a run starts: a second empty window does not page again.
        if (prev?.status !== Status.Failed) {
          const seq = (prev?.seq ?? 0) + 1;
          const appended = await this.scripts.casAppend({
            hash: k.state(trackId),
            field: MISSING_FIELD,
            expected: before ?? '',
            next: encodeState({ seq, status: Status.Failed }),
            eventJson: JSON.stringify(missingEvent(track, e, seq, deadline, lastRunAt, now)),
          });
          if (appended) raised++;
        }
      }
      const next = nextDeadline(e, now, lastRunAt);
      await this.redis.multi().zadd(k.expect, next, trackId).hset(k.track(trackId), 'expectDeadline', next).exec();
    }
    return raised;
  }

  /** A run was found: if the experiment's run was missing, one experiment.resumed (it resolves that alert). */
  async resumed(track: Track, now: number): Promise<void> {
    const k = this.keys;
    const before = await this.redis.hget(k.state(track.id), MISSING_FIELD);
    const prev = decodeState(before ?? undefined);
    if (prev?.status !== Status.Failed) return;
    const event = experimentEvent(track, 'experiment.resumed', prev.seq + 1, now);
    await this.scripts.casAppend({
      hash: k.state(track.id),
      field: MISSING_FIELD,
      expected: before!,
      next: encodeState({ seq: prev.seq + 1, status: Status.Finished }),
      eventJson: JSON.stringify(event),
    });
  }
}
