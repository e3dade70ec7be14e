// The dashboard's sign-in: the API token, typed once into a form, opens a session kept in Redis; the browser holds an
// HttpOnly, SameSite=Strict cookie with the session's random id (never the token). A session ends when its 12 hours
// are over (Redis forgets it), at sign-out (deleted: the cookie is worth nothing after, wherever it was copied), or
// when the token changes (each session names the token it was opened with).
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type * as http from 'node:http';
import type { Redis } from 'ioredis';
import type { Keys } from '../../store/keys';

export const SESSION_COOKIE = 'srw_session';
const SESSION_HOURS = 12;

export class SessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly token: string,
    private readonly hours = SESSION_HOURS,
  ) {}

  /** Opens a session; returns the Set-Cookie header that carries it. No `Secure`: the daemon speaks plain HTTP. */
  async open(): Promise<string> {
    const id = randomBytes(32).toString('hex');
    await this.redis.set(this.keys.session(digest(id)), this.tokenMark(), 'EX', this.hours * 3600);
    return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${this.hours * 3600}`;
  }

  /** The request carries the cookie of a session that is open, opened with this token. */
  async has(req: http.IncomingMessage): Promise<boolean> {
    const id = sessionIdOf(req);
    if (!id) return false;
    const mark = await this.redis.get(this.keys.session(digest(id)));
    return mark !== null && mark.length === this.tokenMark().length && timingSafeEqual(Buffer.from(mark), Buffer.from(this.tokenMark()));
  }

  /** Ends the request's session (sign-out): its cookie opens nothing any more. */
  async close(req: http.IncomingMessage): Promise<void> {
    const id = sessionIdOf(req);
    if (id) await this.redis.del(this.keys.session(digest(id)));
  }

  /** Which token a session was opened with, without keeping the token: a changed token ends every session. */
  private tokenMark(): string {
    return createHmac('sha256', this.token).update('steprun-watch dashboard session').digest('hex');
  }
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
}

function sessionIdOf(req: http.IncomingMessage): string | undefined {
  return new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([0-9a-f]{64})(?:;|$)`).exec(req.headers.cookie ?? '')?.[1];
}

/** A session is stored under a digest of its id: the keys in Redis are not cookies one could copy. */
function digest(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

/** The token given in the sign-in form equals ours (constant time). */
export function tokenMatches(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
