// The events of the API (a page of the stream, or live as Server-Sent Events) and the deliveries they made.
import type * as http from 'node:http';
import { InvalidInputError } from '../model/errors';
import { retryDelivery } from '../notify/deliver/dead-letters';
import { parseEntry } from '../store/outbox';
import type { EventFanout } from '../store/outbox-tail';
import { HttpError, sendJson } from './http';
import { actorOf } from './auth/authenticate';
import type { ApiDeps, Handler } from './deps';

export function defineEventRoutes(route: (method: string, path: string, handler: Handler) => void, d: ApiDeps, fanout: EventFanout): void {
  route('GET', '/events', async (_q, res, _p, url) => {
    const after = url.searchParams.get('after');
    const limit = boundedInt(url.searchParams.get('limit'), 100, 1000, 'limit');
    if (after !== null && !/^\d+-\d+$/.test(after))
      throw new InvalidInputError('after: a stream id such as 1732540000000-0 (the `cursor` of a previous answer)');
    const entries = await d.redis.xrange(d.keys.events, after ? `(${after}` : '-', '+', 'COUNT', limit);
    const events = entries.map(([id, f]) => ({ cursor: id, event: parseEntry(f) })).filter((e) => e.event);
    sendJson(res, 200, { events, cursor: entries.at(-1)?.[0] ?? after });
  });
  route('GET', '/events/stream', (req, res, _p, url) => stream(d, fanout, req, res, url));
  route('GET', '/deliveries', async (_q, res, _p, url) => {
    const status = url.searchParams.get('status');
    if (status !== null && status !== 'failed') throw new InvalidInputError('status: only "failed" can be asked for');
    const limit = boundedInt(url.searchParams.get('limit'), 50, 1000, 'limit');
    sendJson(res, 200, { deliveries: await d.deliveries.list({ failedOnly: status === 'failed', limit }) });
  });
  route('POST', '/deliveries/:id/retry', async (req, res, p) => {
    await retryDelivery(d.deliveries, d.deliverQueue, p.id!, d.clock.now(), actorOf(req, undefined));
    sendJson(res, 202, { retried: p.id });
  });
}

/** Server-Sent Events: each new event as `id: <stream id>` + `data: <json>`; Last-Event-ID resumes. One Redis reader serves all. */
async function stream(d: ApiDeps, fanout: EventFanout, req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
  const from = (req.headers['last-event-id'] as string | undefined) ?? url.searchParams.get('after') ?? undefined;
  if (from !== undefined && !/^\d+-\d+$/.test(from)) throw new InvalidInputError('Last-Event-ID: a stream id');
  const cap = d.maxStreamClients ?? 100;
  if (fanout.size >= cap) throw new HttpError('SRW_TOO_MANY_STREAMS', `at most ${cap} event stream clients (api.maxStreamClients)`);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.write(': connected\n\n');
  const unsubscribe = await fanout.subscribe(
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

export function boundedInt(value: string | null, fallback: number, max: number, name: string): number {
  if (value === null) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidInputError(`${name}: a whole number from 1 to ${max}`);
  return n;
}
