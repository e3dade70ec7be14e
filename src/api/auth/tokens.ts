// Personal and machine API tokens: made by an admin (`steprun-watch tokens create`, POST /tokens), shown once, kept
// only as a digest with a name, a role and an optional expiry; used as `Authorization: Bearer <token>`.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Keys } from '../../store/keys';
import { AlreadyExistsError, InvalidInputError, TokenNotFoundError } from '../../model/errors';
import type { Role } from './roles';
import { digestOf } from './secrets';
import { parseDurationMs } from '../../util/duration';

export interface ApiToken {
  name: string;
  role: Role;
  createdAt: number;
  /** Who made it (an admin's name, or `cli:<user>`). */
  createdBy: string;
  expiresAt?: number;
  /** When it was last used, to the minute (a token nobody uses is one to revoke). */
  lastUsedAt?: number;
}

/** Tokens start with this: told apart from the bootstrap `api.token` and easy to find in a leaked file. */
const TOKEN_PREFIX = 'srwt_';
const NAME = /^[A-Za-z0-9][\w.@-]{0,63}$/;
/** A use is recorded at most this often per token (a token used a thousand times a minute writes once). */
const LAST_USED_RESOLUTION_MS = 60_000;

export class TokenStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** Makes a token; the token itself is in the answer only (stored as its digest). A taken name is refused. */
  async create(o: { name: string; role: Role; createdBy: string; expiresAt?: number }, now: number): Promise<{ token: string; record: ApiToken }> {
    if (!NAME.test(o.name)) throw new InvalidInputError(`name: "${o.name}" is not a token name (letters, digits, . _ @ -; up to 64)`);
    if (o.expiresAt !== undefined && o.expiresAt <= now) throw new InvalidInputError('expires: must be in the future');
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const record: ApiToken = { name: o.name, role: o.role, createdAt: now, createdBy: o.createdBy, ...(o.expiresAt ? { expiresAt: o.expiresAt } : {}) };
    const digest = digestOf(token);
    if (!(await this.redis.hsetnx(this.keys.apiTokenNames, o.name, digest))) throw new AlreadyExistsError(`an API token named "${o.name}" exists`);
    await this.redis.hset(this.keys.apiTokens, digest, JSON.stringify(record));
    return { token, record };
  }

  async list(): Promise<ApiToken[]> {
    const all = Object.values(await this.redis.hgetall(this.keys.apiTokens)).map((v) => JSON.parse(v) as ApiToken);
    return all.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Revokes the named token: from now on it opens nothing. */
  async revoke(name: string): Promise<ApiToken> {
    const digest = await this.redis.hget(this.keys.apiTokenNames, name);
    const record = digest && (await this.redis.hget(this.keys.apiTokens, digest));
    if (!digest || !record) throw new TokenNotFoundError(name);
    await this.redis.multi().hdel(this.keys.apiTokens, digest).hdel(this.keys.apiTokenNames, name).exec();
    return JSON.parse(record) as ApiToken;
  }

  /** The token's record if it is one of ours and has not expired; notes its use. */
  async verify(token: string, now: number): Promise<ApiToken | undefined> {
    if (!token.startsWith(TOKEN_PREFIX)) return undefined;
    const digest = digestOf(token);
    const stored = await this.redis.hget(this.keys.apiTokens, digest);
    if (!stored) return undefined;
    const record = JSON.parse(stored) as ApiToken;
    if (record.expiresAt !== undefined && record.expiresAt <= now) return undefined;
    if (now - (record.lastUsedAt ?? 0) >= LAST_USED_RESOLUTION_MS) {
      await this.redis.hset(this.keys.apiTokens, digest, JSON.stringify({ ...record, lastUsedAt: now }));
    }
    return record;
  }
}

/** `expires` of a new token: a duration such as "90d". */
export function expiryMs(value: unknown): number {
  const ms = typeof value === 'string' ? parseDurationMs(value) : undefined;
  if (!ms) throw new InvalidInputError('expires: a duration such as "90d" or "12h"');
  return ms;
}
