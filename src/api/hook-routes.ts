// Change hints pushed by Azure Event Grid: POST /hooks/eventgrid. It needs no API token but its own secret, carried
// in the subscription's endpoint URL (`?secret=`, or `?code=` as Azure Functions name it): Event Grid cannot send
// a bearer token of ours. Both handshakes are answered: Event Grid's SubscriptionValidationEvent, and CloudEvents'
// OPTIONS abuse protection. A hint only makes a poll sooner: polling stays the truth.
import { timingSafeEqual } from 'node:crypto';
import type * as http from 'node:http';
import { readEventGridDelivery } from '../providers/azureml/event-grid';
import type { HintRouter } from '../watch/hints';
import type { EventGridHook, Handler } from './deps';
import { HttpError, readJson, sendJson } from './http';

/** Event Grid delivers batches of up to 1 MB (and single events up to 1 MB): anything it may send is taken. */
export const EVENT_GRID_MAX_BYTES = 1024 * 1024;

function checkSecret(url: URL, secret: string): void {
  const given = Buffer.from(url.searchParams.get('secret') ?? url.searchParams.get('code') ?? '');
  const expected = Buffer.from(secret);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new HttpError('SRW_UNAUTHORIZED', 'the hook secret is missing or wrong (the endpoint URL carries ?secret=...)');
  }
}

export function defineHookRoutes(
  route: (method: string, path: string, handler: Handler) => void,
  hook: EventGridHook | undefined,
  hints: HintRouter | undefined,
): void {
  const configured = (url: URL): { hook: EventGridHook; hints: HintRouter } => {
    if (!hook || !hints) throw new HttpError('SRW_NOT_FOUND', 'no Event Grid hook is configured (api.eventGrid)');
    checkSecret(url, hook.secret);
    return { hook, hints };
  };

  // CloudEvents 1.0 webhook abuse protection: the sender asks first whether we accept its deliveries.
  route('OPTIONS', '/hooks/eventgrid', async (req: http.IncomingMessage, res, _p, url) => {
    configured(url);
    const origin = req.headers['webhook-request-origin'];
    if (typeof origin !== 'string' || origin === '') throw new HttpError('SRW_INVALID_INPUT', 'WebHook-Request-Origin header missing');
    res.writeHead(200, { 'WebHook-Allowed-Origin': origin, 'WebHook-Allowed-Rate': '*', Allow: 'POST, OPTIONS' }).end();
  });

  route('POST', '/hooks/eventgrid', async (req, res, _p, url) => {
    const { hook: h, hints: router } = configured(url);
    const delivery = readEventGridDelivery(await readJson(req, EVENT_GRID_MAX_BYTES));
    if (delivery.validationCode) return sendJson(res, 200, { validationResponse: delivery.validationCode });
    // Recorded before answering: a failure here answers 5xx, and Event Grid delivers again.
    const polled = await Promise.all(delivery.runs.map((run) => router.hint({ provider: h.provider, ...run })));
    sendJson(res, 200, { runs: delivery.runs.length, polled: polled.flat().length });
  });
}
