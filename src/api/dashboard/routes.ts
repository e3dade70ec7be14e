// The dashboard's routes on the daemon's HTTP server: server-rendered pages, the sign-in form, the built assets.
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { ApiDeps, Handler } from '../deps';
import { HttpError, statusOf } from '../http';
import { packageRoot } from '../../util/package-root';
import { html, type SafeHtml } from './html';
import { page } from './layout';
import { alertsPage } from './pages/alerts';
import { deliveriesPage } from './pages/deliveries';
import { eventsPage } from './pages/events';
import { metricsPage } from './pages/metrics';
import { runPage } from './pages/run';
import { runsPage } from './pages/runs';
import { auditPage } from './pages/audit';
import { identityOf } from '../auth/authenticate';
import type { Identity } from '../auth/roles';
import { defineSignInRoutes, type Show } from './sign-in-routes';

/** Who may open a route: pages need the token (a session cookie or the bearer header); assets and sign-in are open. */
export type DashboardAuth = 'page' | 'open';
type Route = (method: string, path: string, handler: Handler, auth: DashboardAuth) => void;

/** Pages only load this origin's files; nothing inline can run (what a page shows is escaped, and this is the backstop). */
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; " +
    "form-action 'self'",
  'x-content-type-options': 'nosniff',
  // Not no-referrer: under it Chromium sends `Origin: null` with the sign-in form, which the origin check refuses.
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

const ASSET_TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };

/** Where `npm run build` puts the front end (vite: ui/ -> dist/ui/). */
export function assetsDir(): string {
  return path.join(packageRoot(), 'dist', 'ui');
}

export function defineDashboardRoutes(route: Route, d: ApiDeps): void {
  const show: Show = (res, url, title, body, o = {}) => {
    res.writeHead(o.status ?? 200, PAGE_HEADERS);
    const signedIn = o.who && o.who.via !== 'open' ? o.who : undefined;
    res.end(page({ title, path: url.pathname, body, live: o.live ?? true, signedIn, refreshTo: o.refreshTo }));
  };
  /** A page handler whose errors are shown as a page (with the error's status), not as JSON. */
  const pageRoute = (
    p: string,
    title: string,
    render: (url: URL, params: Record<string, string>, who: Identity) => Promise<SafeHtml | { title: string; body: SafeHtml }>,
    live = true,
  ) =>
    route(
      'GET',
      p,
      async (req, res, params, url) => {
        const who = identityOf(req);
        try {
          const out = await render(url, params, who);
          if ('body' in out) show(res, url, out.title, out.body, { live, who });
          else show(res, url, title, out, { live, who });
        } catch (err) {
          // Shown as a page (an unknown run, a provider that does not answer), never as JSON in the browser.
          const status = statusOf(err);
          if (status === 500) d.logger.error({ err: (err as Error).message, path: url.pathname }, 'dashboard page failed');
          const message = status === 500 ? 'internal error (the daemon log says more)' : (err as Error).message;
          const body = html`<p class="fail-text" role="alert">${message}</p>
            <p><a href="/ui/">Back to the runs</a></p>`;
          show(res, url, status === 404 ? 'Not found' : 'Cannot show this page', body, { live: false, status, who });
        }
      },
      'page',
    );

  route('GET', '/', async (_q, res) => void res.writeHead(302, { location: '/ui/' }).end(), 'open');
  route('GET', '/favicon.ico', async (_q, res) => void res.writeHead(204).end(), 'open');
  route('GET', '/ui', async (_q, res) => void res.writeHead(302, { location: '/ui/' }).end(), 'open');
  pageRoute('/ui/', 'Pipeline runs', () => runsPage(d));
  pageRoute('/ui/runs/:provider/:run', 'Pipeline run', (url, p) => runPage(d, p.provider!, p.run!, url.searchParams.get('experiment') ?? undefined));
  pageRoute('/ui/events', 'Events', (url) => {
    const get = (k: string) => url.searchParams.get(k) || undefined;
    const before = get('before');
    if (before !== undefined && !/^\d+-\d+$/.test(before)) throw new HttpError('SRW_INVALID_INPUT', 'before: a stream id');
    return eventsPage(d, { experiment: get('experiment'), type: get('type'), status: get('status'), before });
  });
  pageRoute('/ui/alerts', 'Alerts & silences', (_url, _p, who) => alertsPage(d, who));
  pageRoute('/ui/deliveries', 'Deliveries', (url, _p, who) => deliveriesPage(d, url.searchParams.get('status') === 'failed', who));
  pageRoute('/ui/metrics', 'Metrics', () => metricsPage(d));
  pageRoute('/ui/audit', 'Audit log', (url) => auditPage(d, url.searchParams.get('since') ?? undefined));
  defineSignInRoutes(route, d, show);

  route(
    'GET',
    '/ui/assets/:file',
    async (_req, res, p) => {
      const file = p.file!;
      const type = ASSET_TYPES[path.extname(file)];
      // Names only: nothing outside the built folder can be asked for.
      if (!/^[\w.-]+$/.test(file) || !type) throw new HttpError('SRW_NOT_FOUND', `no asset ${file}`);
      const body = await readFile(path.join(assetsDir(), file)).catch(() => {
        throw new HttpError('SRW_NOT_FOUND', `no asset ${file} (run npm run build)`);
      });
      res.writeHead(200, { 'content-type': type, 'content-length': body.length, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
      res.end(body);
    },
    'open',
  );
}
