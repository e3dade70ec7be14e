// Alertmanager's silence API (v2), served by the daemon over its own silences: `amtool --alertmanager.url=…
// silence add|query|expire` and Grafana's Alertmanager data source read and make them. The shapes are Alertmanager's
// (GettableSilence, PostableSilence); so are its errors: a JSON string with status 400 or 404, which amtool prints.
import type { ServerResponse } from 'node:http';
import { actorOf } from './auth/authenticate';
import { InvalidInputError, SilenceNotFoundError } from '../model/errors';
import { formatMatcher, MatcherSyntaxError, matcherHolds, parseMatcher, parseMatcherList, type Matcher } from '../store/matchers';
import type { Silence, SilenceStore } from '../alerts/silences';
import { parseJsonObject, readBody, sendJson } from './http';
import type { ApiDeps, Handler } from './deps';

/** The Alertmanager release whose silence API this speaks. */
const ALERTMANAGER_API_VERSION = '0.25.0';
const startedAt = Date.now();

/** Alertmanager's matcher: `isEqual` false negates, `isRegex` makes the value a regular expression. */
interface AmMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

export function defineAlertmanagerSilenceRoutes(route: (method: string, path: string, handler: Handler) => void, d: ApiDeps): void {
  const amRoute = (method: string, path: string, handler: Handler) =>
    route(method, path, (req, res, p, url) => answeringAsAlertmanager(res, () => handler(req, res, p, url)));
  // amtool asks for the version first (--version-check): the API spoken is Alertmanager 0.25's.
  amRoute('GET', '/api/v2/status', async (_q, res) =>
    sendJson(res, 200, {
      cluster: { status: 'disabled', peers: [] },
      versionInfo: { version: ALERTMANAGER_API_VERSION, branch: 'steprun-watch', revision: '', buildUser: '', buildDate: '', goVersion: '' },
      config: { original: '' },
      uptime: new Date(startedAt).toISOString(),
    }),
  );
  amRoute('GET', '/api/v2/silences', async (_q, res, _p, url) => {
    const filter = url.searchParams.getAll('filter').flatMap((text) => parseMatcherList(text));
    const now = d.clock.now();
    const silences = (await store(d).list(now)).filter((s) => filterHolds(filter, s));
    sendJson(
      res,
      200,
      silences.map((s) => gettable(s, now)),
    );
  });
  amRoute('GET', '/api/v2/silence/:id', async (_q, res, p) => sendJson(res, 200, gettable(await store(d).get(p.id!), d.clock.now())));
  amRoute('DELETE', '/api/v2/silence/:id', async (_q, res, p) => {
    await store(d).expire(p.id!, d.clock.now());
    sendJson(res, 200, null);
  });
  amRoute('POST', '/api/v2/silences', async (req, res) => {
    const body = parseJsonObject((await readBody(req)).toString('utf8'));
    const now = d.clock.now();
    const matchers = matchersOf(body.matchers);
    const startsAt = Math.max(now, timeOf(body.startsAt, 'startsAt'));
    const endsAt = timeOf(body.endsAt, 'endsAt');
    if (endsAt <= startsAt) throw new InvalidInputError('endsAt: must be after startsAt (and after now)');
    if (typeof body.comment !== 'string') throw new InvalidInputError('comment: a string (why this silence)');
    if (typeof body.createdBy !== 'string' || !body.createdBy.trim()) throw new InvalidInputError('createdBy: who makes this silence');
    if (body.id !== undefined && typeof body.id !== 'string') throw new InvalidInputError('id: the id of the silence to update, or none');
    // amtool always sends createdBy (the local user name): signed in, the silence is the signed-in user's.
    const o = { matchers, startsAt, durationMs: endsAt - startsAt, comment: body.comment, createdBy: actorOf(req, body.createdBy) };
    // An id updates that silence in place (as Alertmanager does for a silence not yet ended); an unknown one is 404.
    const silence = body.id ? await store(d).update(body.id, o, now) : await store(d).add(o, now);
    sendJson(res, 200, { silenceID: silence.id });
  });
}

function store(d: ApiDeps): SilenceStore {
  if (!d.silences) throw new SilenceNotFoundError('(silences are not served by this process)');
  return d.silences;
}

/** Runs a handler, answering its refusals as Alertmanager does: a JSON string, 400 for bad input, 404 for no such silence. */
async function answeringAsAlertmanager(res: ServerResponse, handler: () => Promise<void>): Promise<void> {
  try {
    await handler();
  } catch (err) {
    if (err instanceof InvalidInputError || err instanceof MatcherSyntaxError) return sendJson(res, 400, err.message);
    if (err instanceof SilenceNotFoundError) return sendJson(res, 404, err.message);
    throw err;
  }
}

/** Alertmanager's matchers -> ours, each checked as a matcher written in the config is (field, regex). */
function matchersOf(value: unknown): Matcher[] {
  if (!Array.isArray(value) || value.length === 0) throw new InvalidInputError('matchers: at least one {name, value, isRegex, isEqual}');
  return value.map((m: unknown, i) => {
    const am = m as Partial<AmMatcher> | null;
    if (typeof am?.name !== 'string' || typeof am.value !== 'string') throw new InvalidInputError(`matchers[${i}]: needs a name and a value (strings)`);
    const op = am.isRegex ? (am.isEqual === false ? '!~' : '=~') : am.isEqual === false ? '!=' : '=';
    try {
      return parseMatcher(formatMatcher({ name: am.name, op, value: am.value }));
    } catch (err) {
      if (err instanceof MatcherSyntaxError) throw new InvalidInputError(`matchers[${i}].name "${am.name}": ${err.message}`);
      throw err;
    }
  });
}

function timeOf(value: unknown, field: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new InvalidInputError(`${field}: a time such as 2026-12-07T10:00:00Z`);
  return ms;
}

/** Alertmanager's filter: every filter matcher holds for the silence's matchers read as labels (name -> value). */
function filterHolds(filter: Matcher[], s: Silence): boolean {
  const labels = new Map(s.matchers.map((m) => [m.name, m.value]));
  return filter.every((f) => matcherHolds(f, labels.get(f.name)));
}

function gettable(s: Silence, now: number) {
  const state = now < s.startsAt ? 'pending' : now < s.endsAt ? 'active' : 'expired';
  return {
    id: s.id,
    status: { state },
    updatedAt: new Date(s.updatedAt ?? s.createdAt).toISOString(),
    comment: s.comment,
    createdBy: s.createdBy ?? '',
    startsAt: new Date(s.startsAt).toISOString(),
    endsAt: new Date(s.endsAt).toISOString(),
    matchers: s.matchers.map((m): AmMatcher => ({
      name: m.name,
      value: m.value,
      isRegex: m.op === '=~' || m.op === '!~',
      isEqual: m.op === '=' || m.op === '=~',
    })),
  };
}
