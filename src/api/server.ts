// The daemon's HTTP API: tracks, events (+ SSE), deliveries, health and metrics. Localhost by default, bearer token optional.
import { timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { trackTargetSchema } from '../config/schema';
import { describeIssue } from '../config/load';
import { ConfigInvalidError, InvalidInputError, RedisUnavailableError, TrackNotFoundError } from '../model/errors';
import { retryDelivery } from '../notify/deliver/dead-letters';
import { parseEntry } from '../store/outbox';
import { TrackStore, trackOfTarget, verifyTarget } from '../store/tracks';
import { EventFanout } from '../store/outbox-tail';
import { defineAlertRoutes } from './alert-routes';
import { defineAlertmanagerSilenceRoutes } from './alertmanager-silences';
import { defineHookRoutes } from './hook-routes';
import { definePagerDutyHook } from './pagerduty-hook';
import { defineSlackHook } from './slack-hook';
import { defineDashboardRoutes } from './dashboard/routes';
import { SessionStore } from './dashboard/session';
import { AuthLimiter } from './auth-limiter';
import type { ApiDeps, Handler } from './deps';
import { checkBrowserSafety, isLoopback, LOOPBACK_NAMES } from './guards';
import { HttpError, readJsonObject, sendError, sendJson } from './http';
import { untrack } from '../alerts/untrack';

/**
 * Who may call a route: token holders (the bearer header, or the dashboard's session cookie); anyone (health,
 * sign-in, assets); whoever shows the route's own secret (hooks); `page`: token holders, others are sent to sign in.
 */
type RouteAuth = 'token' | 'open' | 'self' | 'page';

/** Form posts: the dashboard's sign-in and sign-out (no JavaScript needed), and Slack's signed interactivity payloads. */
const FORM_PATHS = new Set(['/ui/login', '/ui/logout', '/hooks/slack']);

/** A request that has not been answered by then is answered 503/504: no route may hang while Redis is away. */
const ROUTE_DEADLINE_MS = 5000;

/** POST /tracks: the CLI's track schema, plus `verify` (default true: ask the provider whether the run exists). */
function parseTrackBody(body: unknown) {
  const { verify = true, ...rest } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof verify !== 'boolean') throw new InvalidInputError('verify: expected a boolean');
  const parsed = trackTargetSchema.safeParse(rest);
  if (!parsed.success) throw new InvalidInputError(describeIssue(parsed.error));
  return { ...parsed.data, verify };
}

export class ApiServer {
  private readonly server: http.Server;
  private readonly routes: { method: string; pattern: RegExp; keys: string[]; handler: Handler; auth: RouteAuth }[] = [];
  private readonly tracks: TrackStore;
  private readonly fanout: EventFanout;
  /** Host names a request may name (DNS rebinding defence); undefined = any (a non-loopback listen with a token). */
  private allowedHosts?: Set<string>;

  private readonly d: ApiDeps;
  private readonly limiter: AuthLimiter;

  constructor(deps: ApiDeps) {
    this.limiter = new AuthLimiter(() => deps.clock.now(), deps.authLimits);
    // The sign-in form answers a wrong token itself (a redirect): it reports the failure through authFailed.
    this.d = { ...deps, authFailed: (req) => this.noteAuthFailure(req) };
    const d = this.d;
    this.tracks = new TrackStore(d.redis, d.keys, d.clock, d.scripts);
    this.fanout = new EventFanout(d.redis, d.keys.events, d.logger);
    this.server = http.createServer((req, res) => void this.handle(req, res));
    // Slow or idle clients cannot hold sockets forever (SSE answers are long, but their requests are short).
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 30_000;
    this.server.keepAliveTimeout = 5_000;
    this.define();
  }

  /** Listens on `listen` (`host:port`); a taken or forbidden address is a config error naming `field`. */
  async listen(listen: string, field = 'api.listen'): Promise<string> {
    const { host, port } = parseListen(listen);
    const loopback = isLoopback(host);
    if (loopback || (this.d.allowedHosts ?? []).length > 0) {
      this.allowedHosts = new Set([...LOOPBACK_NAMES, ...(loopback ? [] : [host]), ...(this.d.allowedHosts ?? [])].map((h) => h.toLowerCase()));
    }
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL'
            ? new ConfigInvalidError(
                `${field}: cannot listen on ${listen} (${err.code}); choose another host:port${field === 'api.listen' ? ', or set api.enabled: false' : ''}`,
              )
            : err,
        ),
      );
      this.server.listen(port, host, () => resolve());
    });
    const address = this.server.address() as AddressInfo;
    return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  }

  async close(): Promise<void> {
    await this.fanout.close();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private route(method: string, path: string, handler: Handler, auth: RouteAuth = 'token'): void {
    const keys: string[] = [];
    const pattern = new RegExp(`^${path.replace(/:(\w+)/g, (_m, k: string) => (keys.push(k), '([^/]+)'))}$`);
    this.routes.push({ method, pattern, keys, handler, auth });
  }

  private define(): void {
    const { d } = this;
    this.route('GET', '/healthz', async (_q, res) => sendJson(res, 200, { status: 'ok' }), 'open');
    this.route(
      'GET',
      '/readyz',
      async (_q, res) => ((await d.ready()) ? sendJson(res, 200, { status: 'ready' }) : sendJson(res, 503, { status: 'not ready' })),
      'open',
    );
    this.route('GET', '/metrics', async (_q, res) => {
      const text = await d.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': d.metrics.registry.contentType });
      res.end(text);
    });
    if (d.healthOnly) return;
    this.route('GET', '/tracks', async (_q, res) => sendJson(res, 200, { tracks: await this.tracks.list() }));
    this.route('POST', '/tracks', async (req, res) => {
      const body = parseTrackBody(await readJsonObject(req));
      const provider = d.providers.get(body.provider);
      if (!provider) throw new InvalidInputError(`provider: unknown provider "${body.provider}" (configured: ${[...d.providers.keys()].join(', ')})`);
      const track = trackOfTarget(body, 'api', d.clock.now());
      if (body.verify) await verifyTarget(track, provider);
      const added = await this.tracks.add(track);
      sendJson(res, added ? 201 : 200, { track: added ? track : await this.tracks.get(track.id), added });
    });
    this.route('GET', '/tracks/:id', async (_q, res, p) => sendJson(res, 200, { track: await this.tracks.require(p.id!) }));
    this.route('DELETE', '/tracks/:id', async (_q, res, p) => {
      if (!(await untrack(this.tracks, d.alerts, p.id!, d.clock.now()))) throw new TrackNotFoundError(p.id!);
      res.writeHead(204).end();
    });
    this.route('GET', '/events', async (_q, res, _p, url) => {
      const after = url.searchParams.get('after');
      const limit = boundedInt(url.searchParams.get('limit'), 100, 1000, 'limit');
      if (after !== null && !/^\d+-\d+$/.test(after))
        throw new InvalidInputError('after: a stream id such as 1732540000000-0 (the `cursor` of a previous answer)');
      const entries = await d.redis.xrange(d.keys.events, after ? `(${after}` : '-', '+', 'COUNT', limit);
      const events = entries.map(([id, f]) => ({ cursor: id, event: parseEntry(f) })).filter((e) => e.event);
      sendJson(res, 200, { events, cursor: entries.at(-1)?.[0] ?? after });
    });
    this.route('GET', '/events/stream', (req, res, _p, url) => this.stream(req, res, url));
    this.route('GET', '/deliveries', async (_q, res, _p, url) => {
      const status = url.searchParams.get('status');
      if (status !== null && status !== 'failed') throw new InvalidInputError('status: only "failed" can be asked for');
      const limit = boundedInt(url.searchParams.get('limit'), 50, 1000, 'limit');
      sendJson(res, 200, { deliveries: await d.deliveries.list({ failedOnly: status === 'failed', limit }) });
    });
    defineAlertRoutes((method, path, handler) => this.route(method, path, handler), d);
    defineAlertmanagerSilenceRoutes((method, path, handler) => this.route(method, path, handler), d);
    defineHookRoutes((method, path, handler) => this.route(method, path, handler, 'self'), d.hooks?.eventGrid, d.hints);
    definePagerDutyHook((method, path, handler) => this.route(method, path, handler, 'self'), d);
    defineSlackHook((method, path, handler) => this.route(method, path, handler, 'self'), d);
    defineDashboardRoutes((method, path, handler, auth) => this.route(method, path, handler, auth), d);
    this.route('POST', '/deliveries/:id/retry', async (_q, res, p) => {
      await retryDelivery(d.deliveries, d.deliverQueue, p.id!, d.clock.now());
      sendJson(res, 202, { retried: p.id });
    });
  }

  /** Server-Sent Events: each new event as `id: <stream id>` + `data: <json>`; Last-Event-ID resumes. One Redis reader serves all. */
  private async stream(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const from = (req.headers['last-event-id'] as string | undefined) ?? url.searchParams.get('after') ?? undefined;
    if (from !== undefined && !/^\d+-\d+$/.test(from)) throw new InvalidInputError('Last-Event-ID: a stream id');
    const cap = this.d.maxStreamClients ?? 100;
    if (this.fanout.size >= cap) throw new HttpError('SRW_TOO_MANY_STREAMS', `at most ${cap} event stream clients (api.maxStreamClients)`);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write(': connected\n\n');
    const unsubscribe = await this.fanout.subscribe(
      {
        onEntry: ([id, fields]) => {
          const event = parseEntry(fields);
          if (event) res.write(`id: ${id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
        },
        onIdle: () => res.write(': keep-alive\n\n'),
      },
      from,
    );
    req.on('close', unsubscribe);
  }

  private async authorized(req: http.IncomingMessage): Promise<boolean> {
    if (!this.d.token) return true;
    if (await new SessionStore(this.d.redis, this.d.keys, this.d.token).has(req)) return true;
    const given = Buffer.from(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '');
    const expected = Buffer.from(this.d.token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      checkBrowserSafety(req, this.allowedHosts, FORM_PATHS.has(url.pathname));
      const candidates = this.routes.filter((r) => r.pattern.test(url.pathname));
      if (candidates.length === 0) throw new HttpError('SRW_NOT_FOUND', `no route ${url.pathname}`);
      const route = candidates.find((r) => r.method === req.method);
      if (!route) throw new HttpError('SRW_METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${url.pathname}`);
      if (route.auth !== 'open' || (req.method === 'POST' && url.pathname === '/ui/login')) this.refuseIfGuessing(req);
      if (route.auth === 'page' && !(await this.authorized(req))) {
        if (req.headers.authorization) this.noteAuthFailure(req);
        return void res.writeHead(303, { location: `/ui/login?next=${encodeURIComponent(url.pathname + url.search)}` }).end();
      }
      if (route.auth === 'token' && !(await this.authorized(req))) {
        res.setHeader('www-authenticate', 'Bearer');
        throw new HttpError('SRW_UNAUTHORIZED', 'a valid bearer token is required');
      }
      const match = route.pattern.exec(url.pathname)!;
      const params = Object.fromEntries(route.keys.map((k, i) => [k, decodePathPart(match[i + 1]!, k)]));
      if (route.auth === 'open') return await route.handler(req, res, params, url);
      // Every other route needs Redis: say so at once when it is away, and never wait on it past the deadline.
      if (this.d.redis.status !== 'ready') throw new RedisUnavailableError(this.redisWhere());
      await withDeadline(route.handler(req, res, params, url), ROUTE_DEADLINE_MS, () => (this.d.redis.status === 'ready' ? undefined : this.redisWhere()));
    } catch (err) {
      if (res.headersSent) return void res.end();
      // A guess is a credential given and refused: a wrong bearer token or hook secret (a request with none is not one).
      if (err instanceof HttpError && err.status === 401 && (req.headers.authorization || url.pathname.startsWith('/hooks/'))) this.noteAuthFailure(req);
      if (!(err instanceof HttpError) && !(err as { code?: string }).code?.startsWith('SRW_'))
        this.d.logger.error({ err: (err as Error).message, path: url.pathname }, 'api error');
      sendError(res, err);
    }
  }

  /** 429 with Retry-After while this client address has failed too often (api.authLimits). */
  private refuseIfGuessing(req: http.IncomingMessage): void {
    const wait = this.limiter.retryAfter(clientAddress(req));
    if (wait === undefined) return;
    this.d.metrics.authFailures.inc({ outcome: 'limited' });
    this.d.logger.debug({ client: clientAddress(req), retryAfter: wait }, 'too many failed sign-ins: refused');
    throw new HttpError('SRW_TOO_MANY_FAILURES', `too many failed attempts from ${clientAddress(req)}: try again in ${wait} s`, {
      'retry-after': String(wait),
    });
  }

  private noteAuthFailure(req: http.IncomingMessage): void {
    this.limiter.fail(clientAddress(req));
    this.d.metrics.authFailures.inc({ outcome: 'refused' });
    this.d.logger.warn({ client: clientAddress(req), path: (req.url ?? '').split('?')[0] }, 'wrong token, session or hook secret');
  }

  private redisWhere(): string {
    if (this.d.redisWhere) return this.d.redisWhere;
    const o = this.d.redis.options;
    return o.path ?? `${o.host ?? '127.0.0.1'}:${o.port ?? 6379}`;
  }
}

/** The connecting address (behind a reverse proxy every client is the proxy: it must limit on its own side). */
function clientAddress(req: http.IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

function decodePathPart(part: string, name: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new InvalidInputError(`${name}: not a valid percent-encoded path segment`);
  }
}

/** The handler's answer, or after `ms` a 503 (Redis away) / 504; a late handler's outcome is dropped. */
async function withDeadline(work: Promise<void>, ms: number, redisAway: () => string | undefined): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          redisAway() !== undefined
            ? new RedisUnavailableError(redisAway()!)
            : new HttpError('SRW_TIMEOUT', `no answer within ${ms} ms (Redis or the provider is slow)`),
        ),
      ms,
    );
  });
  work.catch(() => undefined); // a handler that fails after the deadline has nobody to tell
  try {
    await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

function boundedInt(value: string | null, fallback: number, max: number, name: string): number {
  if (value === null) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidInputError(`${name}: a whole number from 1 to ${max}`);
  return n;
}

/** `127.0.0.1:8787`, `[::1]:8787`, `0.0.0.0:80`, or a bare port (then localhost). */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(listen) ?? /^()()(\d+)$/.exec(listen);
  if (!m) throw new InvalidInputError(`api.listen: "${listen}" is not host:port`);
  return { host: m[1] || m[2] || '127.0.0.1', port: Number(m[3]) };
}
