// The daemon's HTTP API: tracks, events (+ SSE), deliveries, health and metrics. Localhost by default, bearer token optional.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigInvalidError, InvalidInputError, RedisUnavailableError } from '../model/errors';
import { EventFanout } from '../store/outbox-tail';
import { defineAlertRoutes } from './alert-routes';
import { defineAlertmanagerSilenceRoutes } from './alertmanager-silences';
import { defineHookRoutes } from './hook-routes';
import { definePagerDutyHook } from './pagerduty-hook';
import { defineSlackHook } from './slack-hook';
import { defineDashboardRoutes } from './dashboard/routes';
import { AuthLimiter } from './auth-limiter';
import { authenticate, hasIdentity, identityOf, rememberIdentity } from './auth/authenticate';
import { hasRole, roleNeeded, type Identity } from './auth/roles';
import type { ApiDeps, Handler } from './deps';
import { defineEventRoutes } from './event-routes';
import { checkBrowserSafety, isLoopback, LOOPBACK_NAMES } from './guards';
import { HttpError, sendError, sendJson } from './http';
import { definePeopleRoutes } from './people-routes';
import { defineTrackRoutes } from './track-routes';

/**
 * Who may call a route: those with credentials (a bearer token, or the dashboard's session cookie), each as far as
 * their role goes (roles.ts); anyone (health, sign-in, assets); whoever shows the route's own secret (hooks);
 * `page`: those with credentials, others are sent to sign in.
 */
type RouteAuth = 'token' | 'open' | 'self' | 'page';

/** Form posts: the dashboard's sign-in and sign-out (no JavaScript needed), and Slack's signed interactivity payloads. */
const FORM_PATHS = new Set(['/ui/login', '/ui/logout', '/hooks/slack']);

/** A request that has not been answered by then is answered 503/504: no route may hang while Redis is away. */
const ROUTE_DEADLINE_MS = 5000;

export class ApiServer {
  private readonly server: http.Server;
  private readonly routes: { method: string; pattern: RegExp; keys: string[]; handler: Handler; auth: RouteAuth }[] = [];
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
    const route = (method: string, path: string, handler: Handler) => this.route(method, path, handler);
    defineTrackRoutes(route, d);
    defineEventRoutes(route, d, this.fanout);
    definePeopleRoutes(route, d, d.people);
    defineAlertRoutes(route, d);
    defineAlertmanagerSilenceRoutes(route, d);
    defineHookRoutes((method, path, handler) => this.route(method, path, handler, 'self'), d.hooks?.eventGrid, d.hints);
    definePagerDutyHook((method, path, handler) => this.route(method, path, handler, 'self'), d);
    defineSlackHook((method, path, handler) => this.route(method, path, handler, 'self'), d);
    defineDashboardRoutes((method, path, handler, auth) => this.route(method, path, handler, auth), d);
  }

  /** Who the request is, if it shows valid credentials (or the API asks for none); kept beside it for the handlers. */
  private async identify(req: http.IncomingMessage): Promise<Identity | undefined> {
    const identity = await authenticate(req, this.d.people.authenticator);
    if (identity) rememberIdentity(req, identity);
    return identity;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let route: (typeof this.routes)[number] | undefined;
    try {
      checkBrowserSafety(req, this.allowedHosts, FORM_PATHS.has(url.pathname));
      const candidates = this.routes.filter((r) => r.pattern.test(url.pathname));
      if (candidates.length === 0) throw new HttpError('SRW_NOT_FOUND', `no route ${url.pathname}`);
      route = candidates.find((r) => r.method === req.method);
      if (!route) throw new HttpError('SRW_METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${url.pathname}`);
      if (route.auth !== 'open' || (req.method === 'POST' && url.pathname === '/ui/login')) this.refuseIfGuessing(req);
      const identity = route.auth === 'token' || route.auth === 'page' ? await this.identify(req) : undefined;
      if (route.auth === 'page' && !identity) {
        if (req.headers.authorization) this.noteAuthFailure(req);
        return void res.writeHead(303, { location: `/ui/login?next=${encodeURIComponent(url.pathname + url.search)}` }).end();
      }
      if (route.auth === 'token' && !identity) {
        res.setHeader('www-authenticate', 'Bearer');
        throw new HttpError('SRW_UNAUTHORIZED', 'a valid bearer token or session is required');
      }
      const need = roleNeeded(req.method ?? 'GET', url.pathname);
      if (identity && !hasRole(identity.role, need)) {
        throw new HttpError('SRW_FORBIDDEN', `${req.method} ${url.pathname} needs the ${need} role; ${identity.name} is a ${identity.role}`);
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
    } finally {
      await this.audit(req, url, res, route);
    }
  }

  /**
   * Every write of someone known goes in the audit log, refused or not: the API's writes (not the dry run of a
   * route), and the hooks' acknowledgements (their handler names the Slack or PagerDuty user). Never fails the answer.
   */
  private async audit(req: http.IncomingMessage, url: URL, res: http.ServerResponse, route: { auth: RouteAuth } | undefined): Promise<void> {
    const write = req.method !== 'GET' && req.method !== 'HEAD' && roleNeeded(req.method ?? 'GET', url.pathname) !== 'viewer';
    if (!route || !write || !hasIdentity(req) || route.auth === 'open') return;
    const entry = { action: `${req.method} ${url.pathname}`, from: clientAddress(req), result: String(res.statusCode) };
    await this.d.people.audit
      .add(identityOf(req), entry, this.d.clock.now())
      .catch((err: Error) => this.d.logger.warn({ err: err.message }, 'audit log not written'));
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

/** `127.0.0.1:8787`, `[::1]:8787`, `0.0.0.0:80`, or a bare port (then localhost). */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(listen) ?? /^()()(\d+)$/.exec(listen);
  if (!m) throw new InvalidInputError(`api.listen: "${listen}" is not host:port`);
  return { host: m[1] || m[2] || '127.0.0.1', port: Number(m[3]) };
}
