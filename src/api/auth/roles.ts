// Who may do what: three roles, each including the one below it. A viewer reads; an operator acknowledges, silences
// and retries; an admin tracks, untracks and manages API tokens. Where a user's role comes from (the sign-in's claims,
// a token's record) and what each route needs are here, in one table a test holds docs/openapi.yaml to.
import { InvalidInputError } from '../../model/errors';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** A role as a client or a flag gives it; anything else is refused naming the three. */
export function parseRole(value: unknown): Role {
  if (!isRole(value)) throw new InvalidInputError(`role: "${String(value)}" is not a role (viewer, operator, admin)`);
  return value;
}

/** `have` includes `need` (an admin may do what an operator may). */
export function hasRole(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** What a sign-in says of its user, as far as roles go (the ID token's claims: Entra ID's `groups` and `roles`). */
export interface RoleClaims {
  sub: string;
  email?: string;
  groups?: string[];
  roles?: string[];
}

/** Per role, who has it: `*` (anyone who can sign in), an email, `sub:<subject>`, `group:<group id>`, `role:<app role>`. */
export type RoleLists = Record<Role, string[]>;

/** The highest role whose list names this user; undefined: none (not let in). */
export function roleOfClaims(claims: RoleClaims, lists: RoleLists): Role | undefined {
  const names = entriesNaming(claims);
  for (const role of [...ROLES].reverse()) if (lists[role].some((entry) => names.has(entry.toLowerCase()))) return role;
  return undefined;
}

function entriesNaming(c: RoleClaims): Set<string> {
  return new Set(
    ['*', `sub:${c.sub}`, ...(c.email ? [c.email] : []), ...(c.groups ?? []).map((g) => `group:${g}`), ...(c.roles ?? []).map((r) => `role:${r}`)].map((s) =>
      s.toLowerCase(),
    ),
  );
}

/** The role lists that name nobody (warned at start: a role nobody can have is a config mistake more often than not). */
export function emptyRoleLists(lists: RoleLists): Role[] {
  return ROLES.filter((role) => lists[role].length === 0);
}

/** Writes an operator may make (on-call work); every other write needs an admin, every read a viewer. */
const OPERATOR_WRITES = [
  /^\/alerts\/[^/]+\/ack$/,
  /^\/silences(\/[^/]+)?$/,
  /^\/api\/v2\/silences$/,
  /^\/api\/v2\/silence\/[^/]+$/,
  /^\/deliveries\/[^/]+\/retry$/,
];
/** Requests that write nothing whatever their method (a dry run of the routing). */
const READS_BY_POST = ['/routes/test'];
/** Reads only an admin may make: who holds which token. */
const ADMIN_READS = [/^\/tokens(\/|$)/];

/** The role a request needs. A write nobody listed needs an admin: a new route is closed until someone opens it. */
export function roleNeeded(method: string, path: string): Role {
  const read = method === 'GET' || method === 'HEAD' || READS_BY_POST.includes(path);
  if (read) return ADMIN_READS.some((p) => p.test(path)) ? 'admin' : 'viewer';
  return OPERATOR_WRITES.some((p) => p.test(path)) ? 'operator' : 'admin';
}

/** Who a request is: the signed-in user, a token's name, or (no credentials configured) anyone on this host. */
export interface Identity {
  /** Shown and recorded: the user's name or email, a token's name, `api-token`, `slack:<user>`, `cli:<user>`. */
  name: string;
  role: Role;
  /** How they proved it. `open`: the API asks for nothing (no token, no sign-in configured), as on a laptop. */
  via: 'oidc' | 'token' | 'api-token' | 'open' | 'cli' | 'hook';
  /** The sign-in's subject (oidc), or the token's name (token). */
  subject?: string;
}
