// The one HTTP helper of the notifiers: POST with a timeout, and the retry rules (2xx ok; 408/429/5xx and network errors retry; other 4xx fail at once).
import { DeliveryError } from '../model/errors';
import { maskUrl } from '../logger';
import { retryAfterMs } from '../retry-after';

export interface PostOptions {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface PostResult {
  status: number;
  body: string;
}

/** Enough of a response body for an error message: a receiver answering with 100 MB must not cost 100 MB. */
const MAX_RESPONSE_BYTES = 4096;

/** The first `limit` bytes of a body as text; the rest is never read (the connection is dropped). */
async function readSome(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // A body cut off midway still says what it said so far.
  } finally {
    reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export async function postJson(o: PostOptions): Promise<PostResult> {
  const target = maskUrl(o.url);
  const timeout = AbortSignal.timeout(o.timeoutMs);
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
  let response: Response;
  try {
    response = await fetch(o.url, { method: 'POST', body: o.body, headers: { 'content-type': 'application/json', ...o.headers }, signal, redirect: 'manual' });
  } catch (err) {
    const reason = timeout.aborted ? `timed out after ${o.timeoutMs} ms` : describeNetworkError(err);
    throw new DeliveryError(`POST ${target}: ${reason}`, { retryable: true, cause: err });
  }
  const body = await readSome(response, MAX_RESPONSE_BYTES);
  if (response.status >= 200 && response.status < 300) return { status: response.status, body };
  if (response.status >= 300 && response.status < 400) {
    // A redirect will not change on retry, and following it would send the alert somewhere nobody configured.
    const location = response.headers.get('location');
    throw new DeliveryError(`POST ${target}: HTTP ${response.status} redirect${location ? ` to ${maskUrl(location)}` : ''}: fix the URL`, { retryable: false });
  }
  const retryable = isRetryableStatus(response.status);
  const snippet = body.replace(/\s+/g, ' ').slice(0, 200);
  throw new DeliveryError(`POST ${target}: HTTP ${response.status}${snippet ? ` ${snippet}` : ''}`, {
    retryable,
    retryAfterMs: retryAfterMs(response.headers),
  });
}

function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}
