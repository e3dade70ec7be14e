// Who a request is: a dashboard session, the bootstrap `api.token`, a personal or machine token, or — when the API
// asks for nothing (no token, no sign-in configured: a laptop's loopback API) — anyone, as an admin. The identity is
// kept beside the request for the handlers (`identityOf`) and the audit log.
import type * as http from 'node:http';
import type { Clock } from '../../util/clock';
import type { Identity } from './roles';
import { sameText } from './secrets';
import type { SessionStore } from './sessions';
import type { TokenStore } from './tokens';

export interface Authenticator {
  /** The bootstrap token (`api.token`): an admin. */
  token?: string;
  /** Credentials are required (a token or a sign-in is configured). */
  required: boolean;
  sessions: SessionStore;
  tokens: TokenStore;
  clock: Clock;
}

/** Anyone, where the API asks for nothing: free-text `by` is taken from them (there is nobody else to name). */
export const OPEN_IDENTITY: Identity = { name: 'anonymous', role: 'admin', via: 'open' };

/** The request's identity, or undefined when it shows none that is valid and one is required. */
export async function authenticate(req: http.IncomingMessage, a: Authenticator): Promise<Identity | undefined> {
  const fromSession = await a.sessions.identityOf(req);
  if (fromSession) return fromSession;
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (bearer !== undefined) {
    if (a.token && sameText(bearer, a.token)) return { name: 'api-token', role: 'admin', via: 'api-token' };
    const record = await a.tokens.verify(bearer, a.clock.now());
    if (record) return { name: record.name, role: record.role, via: 'token', subject: record.name };
  }
  return a.required ? undefined : OPEN_IDENTITY;
}

const identities = new WeakMap<http.IncomingMessage, Identity>();

export function rememberIdentity(req: http.IncomingMessage, identity: Identity): void {
  identities.set(req, identity);
}

/** Someone was named for this request (its credentials, or a hook's user). */
export function hasIdentity(req: http.IncomingMessage): boolean {
  return identities.has(req);
}

/** The identity the server found for this request (routes that need none: the open identity). */
export function identityOf(req: http.IncomingMessage): Identity {
  return identities.get(req) ?? OPEN_IDENTITY;
}

/**
 * Who a write is recorded as: the signed-in user or the personal token's name, whatever the client says. Where the
 * API asks for nothing, the `by` the client gave (free text: there is no one else to name), else `fallback`; with the
 * shared bootstrap token, that `by` marked as unproven: `carol (api-token)`.
 */
export function actorOf(req: http.IncomingMessage, given: string | undefined, fallback = 'api'): string {
  const identity = identityOf(req);
  const named = given?.trim();
  if (identity.via === 'open') return named || fallback;
  if (identity.via === 'api-token') return named ? `${named} (api-token)` : identity.name;
  return identity.name;
}
