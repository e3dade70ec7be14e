// What keeps a page in the operator's browser out of the API when there is no token (DNS rebinding, cross-site writes).
import type * as http from 'node:http';
import { HttpError } from './http';

export const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

export function isLoopback(host: string): boolean {
  return LOOPBACK_NAMES.includes(host.toLowerCase()) || /^127\./.test(host);
}

/**
 * The Host must be one of ours (`allowedHosts`; undefined = any, for a non-loopback listen with a token), a write
 * must not come from another origin, and a write must be JSON (no "simple" cross-site form post) — except the
 * dashboard's sign-in and sign-out forms (`formAllowed`), which still pass the origin checks above.
 */
export function checkBrowserSafety(req: http.IncomingMessage, allowedHosts: Set<string> | undefined, formAllowed = false): void {
  if (allowedHosts) {
    const host = hostnameOf(req.headers.host);
    if (!host || !allowedHosts.has(host)) throw new HttpError('SRW_HOST_NOT_ALLOWED', `host "${req.headers.host ?? ''}" is not this server (api.allowedHosts)`);
  }
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return;
  const origin = req.headers.origin;
  if (origin !== undefined) {
    const from = hostnameOf(originHost(origin));
    // The same host and the same port: a page on another port of this host is another origin (another program).
    const samePort = portOf(originHost(origin)) === portOf(req.headers.host);
    if (origin === 'null' || from !== hostnameOf(req.headers.host) || !samePort || (allowedHosts && (from === undefined || !allowedHosts.has(from)))) {
      throw new HttpError('SRW_ORIGIN_NOT_ALLOWED', `cross-origin requests from ${origin} are refused`);
    }
  }
  if (req.headers['sec-fetch-site'] === 'cross-site') throw new HttpError('SRW_ORIGIN_NOT_ALLOWED', 'cross-site requests are refused');
  // JSON, or JSON as CloudEvents deliver it (Event Grid's CloudEvents schema: one event or a batch).
  if (formAllowed && /^application\/x-www-form-urlencoded\s*(;|$)/i.test(req.headers['content-type'] ?? '')) return;
  if (req.method === 'POST' && !/^application\/(cloudevents(-batch)?\+)?json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) {
    throw new HttpError('SRW_UNSUPPORTED_MEDIA_TYPE', 'writes take content-type: application/json');
  }
}

/** The host name of a Host header (`a.b:8787`, `[::1]:8787`), lower case, without port or brackets. */
function hostnameOf(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(host) ?? /^([^:]+)(?::\d+)?$/.exec(host);
  return m?.[1]?.toLowerCase();
}

/** The explicit port of a Host header or an Origin's host (`a.b:8787` → `8787`; none: ''). */
function portOf(host: string | undefined): string {
  return /:(\d+)$/.exec(host ?? '')?.[1] ?? '';
}

/** The host (with port) of an Origin such as `http://evil.example:8080`. */
function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}
