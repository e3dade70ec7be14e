// The small pieces every credential here is made of: random ids, their digests (what Redis keeps), cookies that
// carry an id, and comparing a secret in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type * as http from 'node:http';

/** 32 random bytes as hex: a session's or a sign-in's id. */
export function randomId(): string {
  return randomBytes(32).toString('hex');
}

/** SHA-256 as hex: ids and tokens are stored under it, so what Redis holds opens nothing. */
export function digestOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The id (64 hex characters, as `randomId` makes them) a request's cookie `name` carries, if any. */
export function cookieId(req: http.IncomingMessage, name: string): string | undefined {
  return new RegExp(`(?:^|;\\s*)${name}=([0-9a-f]{64})(?:;|$)`).exec(req.headers.cookie ?? '')?.[1];
}

/** Two texts are equal (constant time: a token or a mark). */
export function sameText(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
