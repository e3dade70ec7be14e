// Signing in to the dashboard and out: with the OpenID Provider (api.oidc: /ui/oidc/start, then the provider sends
// the browser back to /ui/oidc/callback), or with the bootstrap API token in a form (api.token). Either opens a
// server-side session (auth/sessions.ts); signing out deletes it.
import type * as http from 'node:http';
import type { ApiDeps, Handler } from '../deps';
import { HttpError, statusOf } from '../http';
import type { OidcSignIn } from '../auth/oidc';
import type { Identity } from '../auth/roles';
import { sameText } from '../auth/secrets';
import { clearedSessionCookie } from '../auth/sessions';
import type { SafeHtml } from './html';
import { loginPage, signedInPage, signInProblemPage } from './pages/login';

export type Show = (
  res: http.ServerResponse,
  url: URL,
  title: string,
  body: SafeHtml,
  o?: { live?: boolean; status?: number; who?: Identity; refreshTo?: string },
) => void;
type Route = (method: string, path: string, handler: Handler, auth: 'open') => void;

export function defineSignInRoutes(route: Route, d: ApiDeps, show: Show): void {
  defineTokenSignIn(route, d, show);
  defineOidcSignIn(route, d, show);
}

/** The sign-in page, the bootstrap token's form, and signing out (whichever way one signed in). */
function defineTokenSignIn(route: Route, d: ApiDeps, show: Show): void {
  const { people } = d;

  route(
    'GET',
    '/ui/login',
    async (_req, res, _p, url) => {
      if (!people.token && !people.oidc) return void res.writeHead(302, { location: '/ui/' }).end();
      const body = loginPage({
        next: safeNext(url.searchParams.get('next')),
        failed: url.searchParams.has('failed'),
        provider: people.oidc?.providerName,
        tokenForm: Boolean(people.token),
      });
      show(res, url, 'Sign in', body, { live: false });
    },
    'open',
  );
  route(
    'POST',
    '/ui/login',
    async (req, res) => {
      const form = new URLSearchParams(await readSmallBody(req));
      const next = safeNext(form.get('next'));
      if (!people.token || !sameText(form.get('token') ?? '', people.token)) {
        d.authFailed?.(req);
        return void res.writeHead(303, { location: `/ui/login?failed=1&next=${encodeURIComponent(next)}` }).end();
      }
      const cookie = await people.sessions.open({ identity: { name: 'api-token', role: 'admin', via: 'api-token' } });
      await audit(d, { name: 'api-token', role: 'admin', via: 'api-token' }, 'sign in', req, 'ok');
      res.writeHead(303, { location: next, 'set-cookie': cookie }).end();
    },
    'open',
  );
  route(
    'POST',
    '/ui/logout',
    async (req, res) => {
      // Ended on the server too: the cookie, wherever it was copied, opens nothing any more.
      const who = await people.sessions.identityOf(req);
      await people.sessions.close(req);
      if (who) await audit(d, who, 'sign out', req, 'ok');
      res.writeHead(303, { location: '/ui/login', 'set-cookie': clearedSessionCookie() }).end();
    },
    'open',
  );
}

/** Signing in with the OpenID Provider: off to it, and back with a code. */
function defineOidcSignIn(route: Route, d: ApiDeps, show: Show): void {
  const { people } = d;
  const problem = (res: http.ServerResponse, url: URL, err: unknown) => {
    const status = statusOf(err);
    if (status === 500) d.logger.error({ err: (err as Error).message }, 'sign-in failed');
    show(res, url, 'Sign-in failed', signInProblemPage(status === 500 ? 'internal error (the daemon log says more)' : (err as Error).message), {
      live: false,
      status,
    });
  };
  /** A step of the sign-in: the provider configured, and any failure shown as a page saying why. */
  const step = (path: string, act: (oidc: OidcSignIn, req: http.IncomingMessage, res: http.ServerResponse, url: URL) => Promise<void>) =>
    route(
      'GET',
      path,
      async (req, res, _p, url) => {
        try {
          if (!people.oidc) throw new HttpError('SRW_NOT_FOUND', 'sign-in with an OpenID Provider is not configured (api.oidc)');
          await act(people.oidc, req, res, url);
        } catch (err) {
          problem(res, url, err);
        }
      },
      'open',
    );
  step('/ui/oidc/start', async (oidc, _req, res, url) => {
    const { location, cookie } = await oidc.start(safeNext(url.searchParams.get('next')));
    res.writeHead(302, { location, 'set-cookie': cookie }).end();
  });
  step('/ui/oidc/callback', async (oidc, req, res, url) => {
    const signedIn = await oidc.finish(req, url);
    const role = people.roleOf?.(signedIn.claims);
    if (!role) {
      d.authFailed?.(req);
      throw new HttpError('SRW_SIGN_IN_FAILED', `${signedIn.name} signed in, but no role in api.oidc.roles names them: ask an admin to add them`);
    }
    const identity: Identity = { name: signedIn.name, role, via: 'oidc', subject: signedIn.claims.sub };
    const cookie = await people.sessions.open({ identity, claims: signedIn.claims });
    await audit(d, identity, 'sign in', req, 'ok');
    res.setHeader('set-cookie', cookie);
    show(res, url, 'Signed in', signedInPage(signedIn.next), { live: false, refreshTo: signedIn.next });
  });
}

async function audit(d: ApiDeps, who: Identity, action: string, req: http.IncomingMessage, result: string): Promise<void> {
  await d.people.audit.add(who, { action, from: req.socket.remoteAddress ?? 'unknown', result }, d.clock.now());
}

/** Where to go after signing in: a dashboard path of this server, never another site. */
function safeNext(next: string | null): string {
  return next && next.startsWith('/ui/') && !next.startsWith('/ui//') ? next : '/ui/';
}

async function readSmallBody(req: http.IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req as AsyncIterable<Buffer>) {
    text += chunk.toString('utf8');
    if (text.length > 4096) throw new HttpError('SRW_BODY_TOO_LARGE', 'sign-in form over 4 KiB');
  }
  return text;
}
