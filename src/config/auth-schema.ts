// The API's people settings: OpenID Connect sign-in and who gets which role, dashboard sessions, the audit log.
import { z } from 'zod';
import { duration } from './field-schemas';

/** Who has a role: `*`, an email, `sub:<subject>`, `group:<group id>` (Entra ID: the group's object id), `role:<app role>`. */
const roleEntry = z
  .string()
  .regex(/^(\*|[^\s@:]+@[^\s@]+|(sub|group|role):\S+)$/, 'an email, sub:<subject>, group:<group id>, role:<app role>, or * (anyone who signs in)');
const roleList = z.array(roleEntry).default([]);

export const oidcSchema = z.strictObject({
  /** The OpenID Provider: Entra ID's is https://login.microsoftonline.com/{tenant}/v2.0; discovered at start. */
  issuer: z.url({ protocol: /^https?$/, error: "an https address (the provider's issuer, e.g. https://login.microsoftonline.com/{tenant}/v2.0)" }),
  clientId: z.string().min(1),
  /** From the environment, e.g. ${SRW_OIDC_CLIENT_SECRET}; without it the client is public (PKCE alone). */
  clientSecret: z.string().min(1, 'is empty (an unset ${VAR:-}?)').optional(),
  scopes: z.array(z.string().min(1)).default(['openid', 'profile', 'email']),
  /** Where the provider sends the browser back; default: api.publicUrl (or the listen address) + /ui/oidc/callback. */
  redirectUrl: z.url({ protocol: /^https?$/ }).optional(),
  roles: z.strictObject({ viewer: roleList, operator: roleList, admin: roleList }).prefault({}),
});

export const sessionsSchema = z
  .strictObject({
    /** A session nobody used for this long ends. */
    idle: duration.default(3_600_000),
    /** A session ends this long after sign-in, used or not. */
    absolute: duration.default(12 * 3_600_000),
  })
  .prefault({});

export const auditSchema = z
  .strictObject({
    /** Entries older than this go. */
    retention: duration.default(90 * 86_400_000),
    /** At most this many entries are kept (the oldest go first). */
    maxEntries: z.number().int().positive().default(100_000),
  })
  .prefault({});
