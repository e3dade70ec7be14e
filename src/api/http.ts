// Small HTTP plumbing for the API: JSON bodies with a size limit, JSON answers, errors mapped to status codes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { httpStatusFor, type ErrorCode } from '../model/error-catalogue';
import { InvalidInputError, isSrwError } from '../model/errors';

/** The API's own bodies are small; a hook may take more (Event Grid batches: up to 1 MiB). */
export const MAX_BODY_BYTES = 64 * 1024;

/** An answer of the API itself (not found, unauthorized, …): its status is its code's, from the error catalogue. */
export class HttpError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Headers the answer carries (Retry-After of a 429). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = httpStatusFor(code);
  }
}

/** The raw body (what a webhook's signature covers), refused with 413 as soon as it passes `maxBytes`. */
export async function readBody(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<Buffer> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new HttpError('SRW_BODY_TOO_LARGE', `request body over ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** A JSON body, refused with 413 as soon as what arrived passes `maxBytes`: never more than that is held. */
export async function readJson(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  return parseJson((await readBody(req, maxBytes)).toString('utf8'));
}

/** A JSON body that must be an object (`{}` when empty): null, an array, a number or a string is a 400 naming what came. */
export async function readJsonObject(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<Record<string, unknown>> {
  return parseJsonObject((await readBody(req, maxBytes)).toString('utf8'));
}

export function parseJsonObject(text: string, what = 'request body'): Record<string, unknown> {
  const value = parseJson(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidInputError(`${what} must be a JSON object, not ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`}`);
  return value as Record<string, unknown>;
}

export function parseJson(text: string): unknown {
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidInputError('request body is not valid JSON');
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The status an error calls for: its code's (the error catalogue), else 500 (unexpected). */
export function statusOf(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  if (isSrwError(err)) return httpStatusFor(err.code);
  return 500;
}

/** `{ error: { code, message } }` with the status the code calls for; unexpected errors are a plain 500. */
export function sendError(res: ServerResponse, err: unknown): void {
  if (err instanceof HttpError) return sendJson(res, err.status, { error: { code: err.code, message: err.message } }, err.headers);
  if (isSrwError(err)) return sendJson(res, statusOf(err), { error: { code: err.code, message: err.message } });
  sendJson(res, 500, { error: { code: 'SRW_INTERNAL', message: 'internal error' } });
}
