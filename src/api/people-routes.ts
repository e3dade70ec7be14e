// API tokens (an admin's) and the audit log (anyone's to read: "who silenced the nightly pipeline?" is everyone's question).
import { InvalidInputError } from '../model/errors';
import { parseSince, SINCE_HELP } from '../util/duration';
import { expiryMs } from './auth/tokens';
import { identityOf } from './auth/authenticate';
import { parseRole } from './auth/roles';
import type { People } from './auth/people';
import { boundedInt } from './event-routes';
import { readJsonObject, sendJson } from './http';
import type { ApiDeps, Handler } from './deps';

export function definePeopleRoutes(route: (method: string, path: string, handler: Handler) => void, d: ApiDeps, people: People): void {
  route('GET', '/tokens', async (_q, res) => sendJson(res, 200, { tokens: await people.tokens.list() }));
  route('POST', '/tokens', async (req, res) => {
    const body = await readJsonObject(req);
    if (typeof body.name !== 'string') throw new InvalidInputError('name: what the token is for, e.g. "ci"');
    const expiresAt = body.expires === undefined ? undefined : d.clock.now() + expiryMs(body.expires);
    const created = await people.tokens.create({ name: body.name, role: parseRole(body.role), createdBy: identityOf(req).name, expiresAt }, d.clock.now());
    // The token is in this answer and nowhere else: it is stored as a digest.
    sendJson(res, 201, created);
  });
  route('DELETE', '/tokens/:name', async (_q, res, p) => sendJson(res, 200, { revoked: await people.tokens.revoke(p.name!) }));
  route('GET', '/audit', async (_q, res, _p, url) => {
    const sinceText = url.searchParams.get('since');
    const since = sinceText === null ? undefined : parseSince(sinceText, d.clock.now());
    if (sinceText !== null && since === undefined) throw new InvalidInputError(`since: ${SINCE_HELP}`);
    const limit = boundedInt(url.searchParams.get('limit'), 100, 1000, 'limit');
    sendJson(res, 200, { entries: await people.audit.list({ since, limit }) });
  });
}
