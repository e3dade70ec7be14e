// Silences, as Alertmanager has them: matchers on event fields with an expiry; a silenced delivery is recorded, not sent.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { InvalidInputError, SilenceNotFoundError } from '../model/errors';
import { globToRegExp } from '../store/event-fields';
import type { WatchEvent } from '../store/events';
import type { Keys } from '../store/keys';
import { fieldOf, MATCH_FIELDS } from './alert-key';

/** Fields a silence may match on (values are globs: `train*`). */
export const SILENCE_FIELDS = MATCH_FIELDS;

export interface Silence {
  id: string;
  /** field -> glob; every one must match. `labels.team` matches a label. */
  matchers: Record<string, string>;
  startsAt: number;
  endsAt: number;
  comment: string;
  createdBy?: string;
  createdAt: number;
}

/** `experiment=churn,type=steprun.failed` -> matchers; unknown fields are refused by name. */
export function parseMatchers(text: string): Record<string, string> {
  const matchers: Record<string, string> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    const field = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (eq <= 0 || !value) throw new InvalidInputError(`--match takes FIELD=VALUE[,FIELD=VALUE], got "${part}"`);
    if (!(SILENCE_FIELDS as readonly string[]).includes(field) && !field.startsWith('labels.')) {
      throw new InvalidInputError(`--match: unknown field "${field}" (known: ${SILENCE_FIELDS.join(', ')}, labels.NAME)`);
    }
    matchers[field] = value;
  }
  if (Object.keys(matchers).length === 0) throw new InvalidInputError('--match: a silence needs at least one FIELD=VALUE');
  return matchers;
}

/** Pure: whether every matcher (field -> glob) matches the event. */
export function matchersMatch(matchers: Record<string, string>, e: WatchEvent): boolean {
  return Object.entries(matchers).every(([field, glob]) => {
    const value = fieldOf(e, field);
    return value !== undefined && globToRegExp(glob).test(value);
  });
}

/** Pure: whether the silence is in force at `now` and every matcher matches the event. */
export function silenceMatches(s: Silence, e: WatchEvent, now: number): boolean {
  return now >= s.startsAt && now < s.endsAt && matchersMatch(s.matchers, e);
}

export function activeSilencesFor(silences: Silence[], e: WatchEvent, now: number): Silence[] {
  return silences.filter((s) => silenceMatches(s, e, now));
}

export class SilenceStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async add(
    o: { matchers: Record<string, string>; durationMs: number; comment?: string; createdBy?: string; startsAt?: number },
    now: number,
  ): Promise<Silence> {
    if (!(o.durationMs > 0)) throw new InvalidInputError('a silence needs a positive duration (--for 2h)');
    const startsAt = o.startsAt ?? now;
    const silence: Silence = {
      id: `s${randomBytes(6).toString('hex')}`,
      matchers: o.matchers,
      startsAt,
      endsAt: startsAt + o.durationMs,
      comment: o.comment ?? '',
      ...(o.createdBy ? { createdBy: o.createdBy } : {}),
      createdAt: now,
    };
    await this.redis.hset(this.keys.silences, silence.id, JSON.stringify(silence));
    return silence;
  }

  /** Every silence, newest first; expired ones a day past their end are dropped as they are read. */
  async list(now: number): Promise<Silence[]> {
    const all = Object.values(await this.redis.hgetall(this.keys.silences)).map((j) => JSON.parse(j) as Silence);
    const stale = all.filter((s) => s.endsAt < now - 86_400_000).map((s) => s.id);
    if (stale.length) await this.redis.hdel(this.keys.silences, ...stale);
    return all.filter((s) => !stale.includes(s.id)).sort((a, b) => b.createdAt - a.createdAt);
  }

  /** Ends a silence now (SilenceNotFoundError when there is none with that id); returns it as it is now. */
  async expire(id: string, now: number): Promise<Silence> {
    const json = await this.redis.hget(this.keys.silences, id);
    if (!json) throw new SilenceNotFoundError(id);
    const s = { ...(JSON.parse(json) as Silence) };
    s.endsAt = Math.min(s.endsAt, now);
    await this.redis.hset(this.keys.silences, id, JSON.stringify(s));
    // Every alert a silence kept from a notifier is looked at again at the next tick (unmuted.ts), not a minute on.
    const muted = await this.redis.zrangebyscore(this.keys.alertsMuted, `(${now}`, '+inf');
    if (muted.length) await this.redis.zadd(this.keys.alertsMuted, 'XX', ...muted.flatMap((m) => [now, m]));
    return s;
  }
}
