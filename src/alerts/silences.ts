// Silences, as Alertmanager has them: matchers on event fields with an expiry; a silenced delivery is recorded, not sent.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { InvalidInputError, SilenceNotFoundError } from '../model/errors';
import type { WatchEvent } from '../store/events';
import type { Keys } from '../store/keys';
import { MatcherSyntaxError, parseMatcherList, shortMatcher, type Matcher } from '../store/matchers';
import { MATCH_FIELDS } from './alert-key';
import { matchersHold } from './routing';

/** Fields a silence may match on, besides `labels.NAME`. */
export const SILENCE_FIELDS = MATCH_FIELDS;

export interface Silence {
  id: string;
  /** Every one must hold: `experiment=churn`, `step!=report`, `experiment=~"nightly-.*"`. */
  matchers: Matcher[];
  startsAt: number;
  endsAt: number;
  comment: string;
  createdBy?: string;
  createdAt: number;
  /** When it was last changed (made, updated or expired). */
  updatedAt?: number;
}

/**
 * `experiment=churn,type=steprun.failed`, `step!=report`, `experiment=~"nightly-.*"` (or amtool's `{a="b", c=~"d"}`)
 * -> matchers; a syntax error, a regex that does not compile or an unknown field is refused by name.
 */
export function parseMatchers(text: string): Matcher[] {
  let matchers: Matcher[];
  try {
    matchers = parseMatcherList(text);
  } catch (err) {
    if (err instanceof MatcherSyntaxError) throw new InvalidInputError(`--match: ${err.message}`);
    throw err;
  }
  if (matchers.length === 0) throw new InvalidInputError('--match: a silence needs at least one matcher (FIELD=VALUE)');
  return matchers;
}

/** The matchers as one line, as `--match` takes them: `experiment=churn,step!=report,labels.team=~"ml|data, web"`. */
export function matchersText(matchers: readonly Matcher[]): string {
  return matchers.map(shortMatcher).join(',');
}

/** Pure: whether the silence is in force at `now` and every matcher matches the event. */
export function silenceMatches(s: Silence, e: WatchEvent, now: number): boolean {
  return now >= s.startsAt && now < s.endsAt && matchersHold(s.matchers, e);
}

export function activeSilencesFor(silences: Silence[], e: WatchEvent, now: number): Silence[] {
  return silences.filter((s) => silenceMatches(s, e, now));
}

/** Matchers, or the short form `field -> glob` (each an `=` matcher), as silences written before operators hold them. */
export function matchersOf(m: readonly Matcher[] | Record<string, string>): Matcher[] {
  return Array.isArray(m) ? [...m] : Object.entries(m).map(([name, value]) => ({ name, op: '=' as const, value }));
}

/** What a silence is made of: matchers (or `field -> glob`), how long, from when (default now), why, by whom. */
export interface SilenceInput {
  matchers: Matcher[] | Record<string, string>;
  durationMs: number;
  comment?: string;
  createdBy?: string;
  startsAt?: number;
}

function newSilence(o: SilenceInput, id: string, createdAt: number, now: number): Silence {
  if (!(o.durationMs > 0)) throw new InvalidInputError('a silence needs a positive duration (--for 2h)');
  const startsAt = o.startsAt ?? now;
  return {
    id,
    matchers: matchersOf(o.matchers),
    startsAt,
    endsAt: startsAt + o.durationMs,
    comment: o.comment ?? '',
    ...(o.createdBy ? { createdBy: o.createdBy } : {}),
    createdAt,
    updatedAt: now,
  };
}

function silenceOf(json: string): Silence {
  const s = JSON.parse(json) as Omit<Silence, 'matchers'> & { matchers: Matcher[] | Record<string, string> };
  return { ...s, matchers: matchersOf(s.matchers) };
}

export class SilenceStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async add(o: SilenceInput, now: number): Promise<Silence> {
    const silence = newSilence(o, `s${randomBytes(6).toString('hex')}`, now, now);
    await this.redis.hset(this.keys.silences, silence.id, JSON.stringify(silence));
    return silence;
  }

  /** Every silence, newest first; expired ones a day past their end are dropped as they are read. */
  async list(now: number): Promise<Silence[]> {
    const all = Object.values(await this.redis.hgetall(this.keys.silences)).map(silenceOf);
    const stale = all.filter((s) => s.endsAt < now - 86_400_000).map((s) => s.id);
    if (stale.length) await this.redis.hdel(this.keys.silences, ...stale);
    return all.filter((s) => !stale.includes(s.id)).sort((a, b) => b.createdAt - a.createdAt);
  }

  /**
   * Changes a silence (Alertmanager's POST with an id): matchers, times and comment replaced, its id kept; one that
   * has ended is made anew (a new id), as Alertmanager does. SilenceNotFoundError when there is none with that id.
   */
  async update(id: string, o: SilenceInput, now: number): Promise<Silence> {
    const before = await this.get(id);
    if (before.endsAt <= now) return this.add(o, now);
    const changed = newSilence(o, id, before.createdAt, now);
    await this.redis.hset(this.keys.silences, id, JSON.stringify(changed));
    // A silence made shorter or narrower may let alerts through at once: they are looked at again at the next tick.
    await this.lookAgain(now);
    return changed;
  }

  /** The silence with this id (SilenceNotFoundError when there is none). */
  async get(id: string): Promise<Silence> {
    const json = await this.redis.hget(this.keys.silences, id);
    if (!json) throw new SilenceNotFoundError(id);
    return silenceOf(json);
  }

  /** Ends a silence now (SilenceNotFoundError when there is none with that id); returns it as it is now. */
  async expire(id: string, now: number): Promise<Silence> {
    const s = await this.get(id);
    s.endsAt = Math.min(s.endsAt, now);
    s.updatedAt = now;
    await this.redis.hset(this.keys.silences, id, JSON.stringify(s));
    await this.lookAgain(now);
    return s;
  }

  /** Every alert a silence kept from a notifier is looked at again at the next tick (unmuted.ts), not a minute on. */
  private async lookAgain(now: number): Promise<void> {
    const muted = await this.redis.zrangebyscore(this.keys.alertsMuted, `(${now}`, '+inf');
    if (muted.length) await this.redis.zadd(this.keys.alertsMuted, 'XX', ...muted.flatMap((m) => [now, m]));
  }
}
