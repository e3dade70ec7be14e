// HTTP to Azure: bearer auth, the shared request budget, retries (429/503 honour Retry-After; 5xx/408/network back off with jitter), typed errors.
import { backoffMs } from '../../util/backoff';
import { retryAfterMs as readRetryAfter } from '../../util/retry-after';
import { ProviderAuthError, ProviderResponseError, ProviderUnavailableError, RunNotFoundError } from '../../model/errors';
import type { RequestBudget } from '../../model/provider';
import type { TokenSource } from './auth';

export interface AzureRequest {
  method?: 'GET' | 'POST' | 'HEAD';
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Token scope; omit for pre-signed (SAS) URLs. */
  scope?: string;
  /** The run this request is about: a 404 becomes RunNotFoundError for it. */
  runId?: string;
  /** Statuses the caller handles itself (e.g. 416 for an empty log). */
  accept?: number[];
}

export interface AzureResponse {
  status: number;
  headers: Headers;
  text: string;
}

export interface AzureHttpOptions {
  tokens: TokenSource;
  budget?: RequestBudget;
  timeoutMs: number;
  /** Retries of transient failures before giving up (the poll then backs off on its own). */
  retries?: number;
  sleep?: (ms: number) => Promise<void>;
}

const ROLE_HINT = 'the identity needs a role on the workspace that can read runs (e.g. "AzureML Data Scientist" or Reader)';

export class AzureHttp {
  private readonly retries: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly o: AzureHttpOptions) {
    this.retries = o.retries ?? 3;
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async json<T>(req: AzureRequest): Promise<T> {
    const res = await this.send(req);
    try {
      return JSON.parse(res.text) as T;
    } catch {
      const looksHtml = /^\s*</.test(res.text);
      throw new ProviderResponseError(
        `${describe(req)}: the answer is not JSON${looksHtml ? ' (an HTML page: a proxy or a wrong endpoint?)' : ''}: ` +
          `${res.text.slice(0, 80).replace(/\s+/g, ' ')}`,
      );
    }
  }

  async send(req: AzureRequest): Promise<AzureResponse> {
    for (let attempt = 0; ; attempt++) {
      await this.o.budget?.acquire();
      let res: Response;
      try {
        const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
        if (req.scope) headers.authorization = `Bearer ${await this.o.tokens.token(req.scope)}`;
        if (req.body !== undefined) headers['content-type'] = 'application/json';
        res = await fetch(req.url, {
          method: req.method ?? 'GET',
          headers,
          body: req.body === undefined ? undefined : JSON.stringify(req.body),
          signal: AbortSignal.timeout(this.o.timeoutMs),
        });
      } catch (err) {
        if (err instanceof ProviderAuthError) throw err;
        if (attempt < this.retries) {
          await this.sleep(backoff(attempt));
          continue;
        }
        throw new ProviderUnavailableError(`${describe(req)}: ${networkReason(err)}`, { cause: err });
      }
      const text = req.method === 'HEAD' ? '' : await res.text().catch(() => '');
      if ((res.status >= 200 && res.status < 300) || req.accept?.includes(res.status)) return { status: res.status, headers: res.headers, text };
      const retryAfterMs = readRetryAfter(res.headers);
      const transient = res.status === 429 || res.status === 503 || res.status === 408 || res.status >= 500;
      if (transient && attempt < this.retries) {
        await this.sleep(res.status === 429 || res.status === 503 ? Math.max(retryAfterMs ?? 0, backoff(attempt)) : backoff(attempt));
        continue;
      }
      throw toError(req, res.status, text, retryAfterMs);
    }
  }
}

function toError(req: AzureRequest, status: number, text: string, retryAfterMs?: number): Error {
  const detail = serviceMessage(text);
  if (status === 401) return new ProviderAuthError(`${describe(req)}: HTTP 401, the token was refused${detail}`);
  if (status === 403) return new ProviderAuthError(`${describe(req)}: HTTP 403, ${ROLE_HINT}${detail}`);
  if (status === 404 && req.runId) return new RunNotFoundError(req.runId);
  if (status === 429 || status >= 500 || status === 408) return new ProviderUnavailableError(`${describe(req)}: HTTP ${status}${detail}`, { retryAfterMs });
  return new ProviderResponseError(`${describe(req)}: HTTP ${status}${detail}`);
}

/** `{error: {code, message}}` as Azure answers errors, shortened; nothing when the body is something else. */
function serviceMessage(text: string): string {
  try {
    const e = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
    return e ? ` (${[e.code, e.message].filter(Boolean).join(': ').slice(0, 200)})` : '';
  } catch {
    return '';
  }
}

function backoff(attempt: number): number {
  return backoffMs({ baseMs: 500, attempt: attempt + 1, maxMs: 30_000 });
}

/** Method and path, without the query string (SAS tokens live there). */
function describe(req: AzureRequest): string {
  try {
    const u = new URL(req.url);
    return `${req.method ?? 'GET'} ${u.origin}${u.pathname}`;
  } catch {
    return `${req.method ?? 'GET'} (bad url)`;
  }
}

function networkReason(err: unknown): string {
  if ((err as Error).name === 'TimeoutError') return 'timed out';
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}
