// The API's people, made once from the config: sessions, API tokens, the audit log, and the OpenID Connect sign-in
// (discovered at start: a provider that cannot be discovered stops the daemon with a config error naming the field).
import type { Redis } from 'ioredis';
import type { Config } from '../../config/schema';
import type { Keys } from '../../store/keys';
import type { Clock } from '../../util/clock';
import type { Logger } from '../../util/logger';
import { AuditLog, auditRetentionOf } from './audit';
import type { Authenticator } from './authenticate';
import type { OidcSignIn } from './oidc';
import { emptyRoleLists, roleOfClaims, type Role, type RoleClaims, type RoleLists } from './roles';
import { SessionStore } from './sessions';
import { TokenStore } from './tokens';

export interface People {
  authenticator: Authenticator;
  sessions: SessionStore;
  tokens: TokenStore;
  audit: AuditLog;
  /** The bootstrap token (`api.token`): an admin, and the dashboard's token sign-in form. */
  token?: string;
  oidc?: OidcSignIn;
  /** The role the config gives a signed-in user (api.oidc.roles); undefined: none. */
  roleOf?(claims: RoleClaims): Role | undefined;
}

/** `signsIn`: this process serves the dashboard (a worker-only process serves health and metrics: no sign-in to discover). */
export async function peopleOf(api: Config['api'], o: { redis: Redis; keys: Keys; clock: Clock; logger: Logger; signsIn?: boolean }): Promise<People> {
  const lists = o.signsIn === false ? undefined : api.oidc?.roles;
  if (lists) warnAboutEmptyRoles(lists, o.logger);
  // Loaded only when configured: openid-client is an ES module, and most processes never sign anyone in.
  const settingsOf = (oidc: NonNullable<Config['api']['oidc']>) => ({ ...oidc, redirectUrl: oidc.redirectUrl ?? redirectUrlOf(api) });
  const oidc = api.oidc && o.signsIn !== false ? await (await import('./oidc')).OidcSignIn.discover(settingsOf(api.oidc), o.redis, o.keys) : undefined;
  const roleOf = lists ? (claims: RoleClaims) => roleOfClaims(claims, lists) : undefined;
  const settings = { idleMs: api.sessions.idle, absoluteMs: api.sessions.absolute };
  const sessions = new SessionStore(o.redis, o.keys, { settings, clock: o.clock, token: api.token, roleOf });
  const tokens = new TokenStore(o.redis, o.keys);
  const authenticator: Authenticator = { token: api.token, required: Boolean(api.token || oidc), sessions, tokens, clock: o.clock };
  const audit = new AuditLog(o.redis, o.keys, auditRetentionOf(api.audit));
  return { authenticator, sessions, tokens, audit, token: api.token, oidc, roleOf };
}

/** Where the provider sends the browser back: the dashboard's public address, else the address the API listens on. */
function redirectUrlOf(api: Config['api']): string {
  const base = api.publicUrl ?? `http://${/^\d+$/.test(api.listen) ? `127.0.0.1:${api.listen}` : api.listen}`;
  return `${base.replace(/\/$/, '')}/ui/oidc/callback`;
}

function warnAboutEmptyRoles(lists: RoleLists, logger: Logger): void {
  const empty = emptyRoleLists(lists);
  if (empty.length === 3) logger.warn('api.oidc.roles names nobody: no one who signs in gets a role (list emails, sub:, group: or role: entries)');
  else for (const role of empty) logger.warn({ field: `api.oidc.roles.${role}` }, `api.oidc.roles.${role} names nobody: no one who signs in is a ${role}`);
}
