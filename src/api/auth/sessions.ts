// Dashboard sessions, kept on the server: the browser holds an HttpOnly, SameSite=Strict cookie with a random id
// (never a token); Redis holds who it is under a digest of that id. A session ends when idle too long, when its
// absolute lifetime is over, at sign-out (deleted: the cookie opens nothing after, wherever it was copied), when the
// bootstrap token changes (a token session names the token it was opened with), or when the config no longer gives
// its user a role (a signed-in user's role is read again from the config at every request).
import { createHmac } from 'node:crypto';
import type * as http from 'node:http';
import type { Redis } from 'ioredis';
import type { Keys } from '../../store/keys';
import type { Clock } from '../../util/clock';
import type { Identity, Role, RoleClaims } from './roles';
import { cookieId, digestOf, randomId, sameText } from './secrets';

export const SESSION_COOKIE = 'srw_session';

export interface SessionSettings {
  /** A session nobody used for this long ends. */
  idleMs: number;
  /** A session ends this long after sign-in, used or not. */
  absoluteMs: number;
}

interface StoredSession {
  identity: Identity;
  /** A signed-in user's claims: their role is worked out again from them at every request. */
  claims?: RoleClaims;
  /** A bootstrap-token session: which token it was opened with (an HMAC, not the token). */
  tokenMark?: string;
  absoluteUntil: number;
}

export interface SessionStoreOptions {
  settings: SessionSettings;
  clock: Clock;
  /** The bootstrap `api.token`, if set. */
  token?: string;
  /** The role the config gives a signed-in user today (undefined: none, and the session ends). */
  roleOf?(claims: RoleClaims): Role | undefined;
}

export class SessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly o: SessionStoreOptions,
  ) {}

  /** Opens a session for a user (with their claims) or the bootstrap token; returns the Set-Cookie header that carries it. */
  async open(s: { identity: Identity; claims?: RoleClaims }): Promise<string> {
    const id = randomId();
    const stored: StoredSession = {
      ...s,
      ...(s.identity.via === 'api-token' && this.o.token ? { tokenMark: tokenMark(this.o.token) } : {}),
      absoluteUntil: this.o.clock.now() + this.o.settings.absoluteMs,
    };
    await this.redis.set(this.keys.session(digestOf(id)), JSON.stringify(stored), 'PX', Math.min(this.o.settings.idleMs, this.o.settings.absoluteMs));
    // No `Secure`: the daemon speaks plain HTTP (behind TLS, the proxy's cookie rules apply to its own).
    return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor(this.o.settings.absoluteMs / 1000)}`;
  }

  /** Who the request's session is, if it is open and still valid; its idle clock starts again. */
  async identityOf(req: http.IncomingMessage): Promise<Identity | undefined> {
    const id = cookieId(req, SESSION_COOKIE);
    if (!id) return undefined;
    const key = this.keys.session(digestOf(id));
    // Read and used at once (the idle clock restarts): one round trip a request. The absolute end is checked below.
    const raw = await this.redis.getex(key, 'PX', this.o.settings.idleMs);
    const stored = raw ? parseSession(raw) : undefined;
    if (!stored) return undefined;
    const identity = this.stillValid(stored);
    const left = stored.absoluteUntil - this.o.clock.now();
    if (!identity || left <= 0) {
      await this.redis.del(key);
      return undefined;
    }
    return identity;
  }

  /** Ends the request's session (sign-out). */
  async close(req: http.IncomingMessage): Promise<void> {
    const id = cookieId(req, SESSION_COOKIE);
    if (id) await this.redis.del(this.keys.session(digestOf(id)));
  }

  /** The session's identity as the config stands now: the token it was opened with, the role its user has today. */
  private stillValid(s: StoredSession): Identity | undefined {
    if (s.tokenMark !== undefined) return this.o.token && sameText(s.tokenMark, tokenMark(this.o.token)) ? s.identity : undefined;
    if (!s.claims || !this.o.roleOf) return undefined;
    const role = this.o.roleOf(s.claims);
    return role ? { ...s.identity, role } : undefined;
  }
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
}

function parseSession(raw: string): StoredSession | undefined {
  try {
    const s = JSON.parse(raw) as StoredSession;
    return typeof s.identity?.name === 'string' && typeof s.absoluteUntil === 'number' ? s : undefined;
  } catch {
    return undefined; // a session of an older version (a bare token mark): signed out
  }
}

/** Which token a session was opened with, without keeping the token: a changed token ends every session. */
function tokenMark(token: string): string {
  return createHmac('sha256', token).update('steprun-watch dashboard session').digest('hex');
}
