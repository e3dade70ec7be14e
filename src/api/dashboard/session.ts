// The dashboard's sign-in: the API token, typed once into a form, becomes an HttpOnly, SameSite=Strict cookie that
// holds an HMAC of the token (never the token itself). Changing the token signs every browser out.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type * as http from 'node:http';

export const SESSION_COOKIE = 'srw_session';
const SESSION_HOURS = 12;

function sessionValue(token: string): string {
  return createHmac('sha256', token).update('steprun-watch dashboard session').digest('hex');
}

/** The Set-Cookie header of a signed-in browser. No `Secure`: the daemon speaks plain HTTP (localhost by default). */
export function sessionCookie(token: string): string {
  return `${SESSION_COOKIE}=${sessionValue(token)}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_HOURS * 3600}`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
}

/** The request carries the session cookie of this token. */
export function hasSession(req: http.IncomingMessage, token: string): boolean {
  const cookie = req.headers.cookie ?? '';
  const given = new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([0-9a-f]{64})(?:;|$)`).exec(cookie)?.[1];
  if (!given) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(sessionValue(token)));
}

/** The token given in the sign-in form equals ours (constant time). */
export function tokenMatches(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
