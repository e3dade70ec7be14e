// The one HTTP helper of the notifiers: POST with a timeout, and the retry rules (2xx ok; 408/429/5xx and network errors retry; other 4xx fail at once).
import * as http from 'node:http';
import * as https from 'node:https';
import { urlToHttpOptions } from 'node:url';
import { DeliveryError } from '../../model/errors';
import { maskUrl } from '../../util/logger';
import { retryAfterMs } from '../../util/retry-after';

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

/**
 * Connections are kept alive and reused across deliveries (node:http, not fetch: at saturation fetch's streams and
 * abort signals cost several times the request itself — docs/PERFORMANCE.md).
 */
const AGENTS = { 'http:': new http.Agent({ keepAlive: true, maxSockets: 256 }), 'https:': new https.Agent({ keepAlive: true, maxSockets: 256 }) };

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

interface RawResponse {
  status: number;
  /** A response header's (first) value. Node builds a response's header object on first use: most answers never need it. */
  header(name: string): string | undefined;
  /** The first MAX_RESPONSE_BYTES of the body (the rest is never read: the connection is dropped). */
  body: string;
}

/** A URL's request options, parsed once: the same few webhook URLs are posted to thousands of times. */
const targets = new Map<string, http.RequestOptions>();
const MAX_TARGETS = 256;

function requestOptionsOf(url: string): http.RequestOptions {
  let target = targets.get(url);
  if (!target) {
    if (targets.size >= MAX_TARGETS) targets.clear();
    target = urlToHttpOptions(new URL(url));
    targets.set(url, target);
  }
  return target;
}

/** One POST; resolves with the answer, rejects with the network error (or the timeout, or the caller's abort). */
function post(o: PostOptions): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const target = requestOptionsOf(o.url);
    const https_ = target.protocol === 'https:';
    const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(o.body)), ...o.headers };
    const req = (https_ ? https : http).request({ ...target, method: 'POST', agent: https_ ? AGENTS['https:'] : AGENTS['http:'], headers });
    // The caller's abort ends the request. A plain listener: the `signal` option wraps every request in a stream
    // abort helper, a fifth of a POST's allocations at saturation (docs/PERFORMANCE.md).
    // In Node's shape of an abort (fetch's AbortError), which the callers' abort handling recognises.
    const abort = () => req.destroy(Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' }));
    const signal = o.signal;
    if (signal?.aborted) abort();
    else signal?.addEventListener('abort', abort, { once: true });
    // The timeout runs from when the request has a connection: one waiting for a free connection of the agent (a
    // burst to one receiver: up to 32 batches of 50 against 256 connections) has not been sent yet, and a long queue
    // here is not a slow receiver. Connecting counts: a receiver that does not accept is one that does not answer.
    let timer: NodeJS.Timeout | undefined;
    let ended = false;
    req.once('socket', () => {
      if (!ended) timer = setTimeout(() => req.destroy(new TimeoutError(o.timeoutMs)), o.timeoutMs);
    });
    const settled = () => {
      ended = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
    };
    req.on('error', (err) => {
      settled();
      reject(err);
    });
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        settled();
        const body = chunks.length === 0 ? '' : Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString('utf8');
        resolve({ status: res.statusCode ?? 0, header: (name) => firstOf(res.headers[name]), body });
      };
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        // Enough read: the rest is never read, and this connection is not reused.
        if (size >= MAX_RESPONSE_BYTES) {
          res.destroy();
          done();
        }
      });
      res.once('end', done);
      // A body cut off midway still says what it said so far.
      res.on('error', done);
      res.once('aborted', done);
    });
    req.end(o.body);
  });
}

function firstOf(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

class TimeoutError extends DeliveryError {
  constructor(readonly ms: number) {
    super(`timed out after ${ms} ms`, { retryable: true });
  }
}

export async function postJson(o: PostOptions): Promise<PostResult> {
  // Masked only when a message needs it (most POSTs succeed).
  const target = () => maskUrl(o.url);
  let response: RawResponse;
  try {
    response = await post(o);
  } catch (err) {
    const reason = err instanceof TimeoutError ? err.message : describeNetworkError(err);
    throw new DeliveryError(`POST ${target()}: ${reason}`, { retryable: true, cause: err });
  }
  const { status, body, header } = response;
  if (status >= 200 && status < 300) return { status, body };
  if (status >= 300 && status < 400) {
    // A redirect will not change on retry, and following it would send the alert somewhere nobody configured.
    const location = header('location');
    throw new DeliveryError(`POST ${target()}: HTTP ${status} redirect${location ? ` to ${maskUrl(location)}` : ''}: fix the URL`, { retryable: false });
  }
  const snippet = body.replace(/\s+/g, ' ').slice(0, 200);
  throw new DeliveryError(`POST ${target()}: HTTP ${status}${snippet ? ` ${snippet}` : ''}`, {
    retryable: isRetryableStatus(status),
    retryAfterMs: retryAfterMs({ get: header }),
  });
}

function describeNetworkError(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return e.code ?? e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}
