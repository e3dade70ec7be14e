// OpenID Connect sign-in (authorization code flow with PKCE, `state` and `nonce`), with openid-client: the provider
// is discovered at start; a sign-in's secrets wait in Redis for ten minutes under a random id that a cookie of this
// browser carries, so the browser that comes back is the one that left; the ID token's signature, issuer, audience
// and nonce are checked by openid-client, the rest of the claims decide the role (roles.ts).
import type * as http from 'node:http';
import type { Redis } from 'ioredis';
import * as client from 'openid-client';
import { ConfigInvalidError } from '../../model/errors';
import type { Keys } from '../../store/keys';
import { HttpError } from '../http';
import { isLoopback } from '../guards';
import type { RoleClaims } from './roles';
import { cookieId, digestOf, randomId } from './secrets';

export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  scopes: string[];
  redirectUrl: string;
}

/** What a finished sign-in gives: who it is (for the role and the name shown) and where the user was going. */
export interface SignedIn {
  claims: RoleClaims;
  name: string;
  next: string;
}

const SIGN_IN_COOKIE = 'srw_sign_in';
const SIGN_IN_TTL_S = 600;
/** The provider's answers at sign-in (and its discovery at start) wait this long at most. */
const PROVIDER_TIMEOUT_S = 10;

interface PendingSignIn {
  verifier: string;
  state: string;
  nonce: string;
  next: string;
}

export class OidcSignIn {
  private constructor(
    private readonly config: client.Configuration,
    private readonly o: OidcSettings,
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** Discovers the provider; one that cannot be discovered is a config error naming the field. */
  static async discover(o: OidcSettings, redis: Redis, keys: Keys): Promise<OidcSignIn> {
    const issuer = new URL(o.issuer);
    // Plain HTTP only for a provider on this host (a test's, a developer's): tokens never cross a network in clear.
    const insecure = issuer.protocol === 'http:' && isLoopback(issuer.hostname.replace(/^\[|\]$/g, ''));
    // The ID token's signature is checked against the provider's published keys too (openid-client's default trusts
    // the TLS channel of the token endpoint alone).
    const execute = [client.enableNonRepudiationChecks, ...(insecure ? [client.allowInsecureRequests] : [])];
    try {
      const config = await client.discovery(issuer, o.clientId, o.clientSecret, undefined, { execute, timeout: PROVIDER_TIMEOUT_S });
      return new OidcSignIn(config, o, redis, keys);
    } catch (err) {
      const why = issuer.protocol === 'http:' && !insecure ? 'plain http is only allowed for a provider on this host' : reasonOf(err);
      throw new ConfigInvalidError(`api.oidc.issuer: cannot discover the OpenID Provider at ${o.issuer} (${why})`);
    }
  }

  /** The provider's host, for the sign-in button. */
  get providerName(): string {
    return new URL(this.o.issuer).host;
  }

  /** Starts a sign-in: where to send the browser, and the cookie that ties its return to this browser. */
  async start(next: string): Promise<{ location: string; cookie: string }> {
    await this.ensureReachable();
    const id = randomId();
    const pending: PendingSignIn = { verifier: client.randomPKCECodeVerifier(), state: client.randomState(), nonce: client.randomNonce(), next };
    await this.redis.set(this.keys.signIn(digestOf(id)), JSON.stringify(pending), 'EX', SIGN_IN_TTL_S);
    const location = client.buildAuthorizationUrl(this.config, {
      redirect_uri: this.o.redirectUrl,
      scope: this.o.scopes.join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    // Lax, not Strict: the provider sends the browser back from another site, and this cookie must come along.
    return { location: location.href, cookie: `${SIGN_IN_COOKIE}=${id}; HttpOnly; SameSite=Lax; Path=/ui/oidc; Max-Age=${SIGN_IN_TTL_S}` };
  }

  /** Finishes a sign-in at the redirect: the code exchanged (PKCE), the state and the ID token (signature, iss, aud, nonce) checked. */
  async finish(req: http.IncomingMessage, url: URL): Promise<SignedIn> {
    const id = cookieId(req, SIGN_IN_COOKIE);
    // Taken once: a code and its secrets cannot be replayed.
    const raw = id ? await this.redis.getdel(this.keys.signIn(digestOf(id))) : null;
    if (!raw) throw new HttpError('SRW_SIGN_IN_FAILED', 'this sign-in was not started in this browser, or is over 10 minutes old: sign in again');
    const pending = JSON.parse(raw) as PendingSignIn;
    const error = url.searchParams.get('error');
    if (error)
      throw new HttpError('SRW_SIGN_IN_FAILED', `the provider refused the sign-in: ${error} ${url.searchParams.get('error_description') ?? ''}`.trim());
    // The redirect as the provider was told it (the address the browser used may differ behind a proxy), with its answer.
    const current = new URL(this.o.redirectUrl);
    current.search = url.search;
    try {
      const tokens = await client.authorizationCodeGrant(this.config, current, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      return { ...signedInAs(tokens.claims()!), next: pending.next };
    } catch (err) {
      if (isUnreachable(err)) throw new HttpError('SRW_SIGN_IN_UNAVAILABLE', `the sign-in provider ${this.providerName} did not answer: try again`);
      throw new HttpError('SRW_SIGN_IN_FAILED', `sign-in refused: ${reasonOf(err)}`);
    }
  }

  /** Before sending a browser there: a provider that does not answer gets our page, not the browser's error. */
  private async ensureReachable(): Promise<void> {
    const endpoint = this.config.serverMetadata().authorization_endpoint!;
    try {
      await fetch(endpoint, { method: 'HEAD', signal: AbortSignal.timeout(3000), redirect: 'manual' });
    } catch {
      throw new HttpError('SRW_SIGN_IN_UNAVAILABLE', `the sign-in provider ${this.providerName} does not answer: try again in a while`);
    }
  }
}

/** The role claims and the name shown, from the ID token: Entra ID names users by `preferred_username` (their UPN). */
function signedInAs(c: client.IDToken): { claims: RoleClaims; name: string } {
  const text = (k: string) => (typeof c[k] === 'string' ? (c[k] as string) : undefined);
  const list = (k: string) => (Array.isArray(c[k]) ? (c[k] as unknown[]).filter((v): v is string => typeof v === 'string') : undefined);
  const email = text('email') ?? text('preferred_username');
  const claims: RoleClaims = { sub: c.sub, ...(email ? { email } : {}), groups: list('groups') ?? [], roles: list('roles') ?? [] };
  return { claims, name: text('name') ?? email ?? c.sub };
}

/** The provider did not answer (refused, timed out, no route): openid-client wraps fetch's error, which wraps the socket's. */
function isUnreachable(err: unknown): boolean {
  type Cause = { name?: string; message?: string; code?: string; cause?: unknown };
  for (let e = err as Cause | undefined; e; e = e.cause as Cause | undefined) {
    if (e.name === 'TimeoutError' || e.name === 'AbortError' || (e.name === 'TypeError' && e.message === 'fetch failed')) return true;
    if (e.code && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH'].includes(e.code)) return true;
  }
  return false;
}

function reasonOf(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string; code?: string } };
  return [e.message, e.cause?.code ?? e.cause?.message].filter(Boolean).join(': ');
}
