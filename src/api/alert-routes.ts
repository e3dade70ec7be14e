// The on-call routes of the API: open alerts, silences, and the routing dry-run (docs/ALERTS.md).
import { acknowledge, unacknowledge } from '../alerts/ack';
import { readDecisionState } from '../alerts/decision-state';
import { explainRouting } from '../alerts/explain';
import { deliveryHistory } from '../alerts/history';
import { alertPolicyOf } from '../alerts/policy';
import { receiverHolds } from '../alerts/receivers';
import { findEvent } from '../store/outbox';
import { parseMatchers, type SilenceStore } from '../alerts/silences';
import { parseDurationMs } from '../util/duration';
import { InvalidInputError } from '../model/errors';
import { eventFromJson } from '../store/events';
import { HttpError, readJsonObject, sendJson } from './http';
import { actorOf } from './auth/authenticate';
import type { ApiDeps, Handler } from './deps';

export function defineAlertRoutes(route: (method: string, path: string, handler: Handler) => void, d: ApiDeps): void {
  route('GET', '/alerts', async (_q, res) => {
    const alerts = (await d.alerts?.list()) ?? [];
    const held = await receiverHolds(alerts, d.deliveries, d.incidents);
    sendJson(res, 200, {
      alerts: alerts.map(({ event: _event, ...a }) => ({ ...a, openedAt: new Date(a.openedAt).toISOString(), held: held.get(a.id) ?? {} })),
    });
  });
  route('POST', '/alerts/:id/ack', async (req, res, p) => {
    const body = await readJsonObject(req);
    if (body.by !== undefined && (typeof body.by !== 'string' || !body.by.trim())) throw new InvalidInputError('by: who acknowledges (a name)');
    if (body.comment !== undefined && typeof body.comment !== 'string') throw new InvalidInputError('comment: a string');
    if (!d.alerts) throw new HttpError('SRW_NOT_FOUND', 'alerts are not served by this process');
    // Signed in (a session or a token): who that is, whatever `by` says; `by` names someone only on an open API.
    const by = actorOf(req, body.by as string | undefined);
    const done = await acknowledge(d.alerts, p.id!, by, d.clock.now(), body.comment as string | undefined, d.incidents);
    sendJson(res, 200, { alert: { id: done.alert.id, key: done.alert.key, acked: done.alert.acked }, outcome: done.outcome });
  });
  route('DELETE', '/alerts/:id/ack', async (_q, res, p) => {
    if (!d.alerts) throw new HttpError('SRW_NOT_FOUND', 'alerts are not served by this process');
    const alert = await unacknowledge(d.alerts, p.id!, d.clock.now(), d.incidents);
    sendJson(res, 200, { alert: { id: alert.id, key: alert.key, acked: alert.acked ?? null }, outcome: 'unacknowledged' });
  });
  route('GET', '/silences', async (_q, res) => sendJson(res, 200, { silences: (await d.silences?.list(d.clock.now())) ?? [] }));
  route('POST', '/silences', async (req, res) => {
    const body = await readJsonObject(req);
    if (typeof body.match !== 'string') throw new InvalidInputError('match: FIELD=VALUE[,FIELD=VALUE], e.g. "experiment=churn,type=steprun.failed"');
    const durationMs = typeof body.for === 'string' ? parseDurationMs(body.for) : undefined;
    if (!durationMs) throw new InvalidInputError('for: a duration such as "2h" or "30m"');
    if (body.comment !== undefined && typeof body.comment !== 'string') throw new InvalidInputError('comment: a string');
    if (body.createdBy !== undefined && typeof body.createdBy !== 'string') throw new InvalidInputError('createdBy: a name');
    const createdBy = actorOf(req, body.createdBy as string | undefined);
    const silence = await silencesOf(d).add({ matchers: parseMatchers(body.match), durationMs, comment: body.comment, createdBy }, d.clock.now());
    sendJson(res, 201, { silence });
  });
  route('DELETE', '/silences/:id', async (_q, res, p) => sendJson(res, 200, { silence: await silencesOf(d).expire(p.id!, d.clock.now()) }));
  route('POST', '/routes/test', async (req, res) => {
    const body = await readJsonObject(req);
    const event =
      typeof body.eventId === 'string'
        ? await findEvent(d.redis, d.keys, body.eventId)
        : (eventFromJson(body.event) ?? invalidBody('give "eventId" (an event of the stream) or "event" (an event object with a "type")'));
    const policy = d.policy ?? alertPolicyOf({ notifiers: {}, routes: [] });
    const state = await readDecisionState({ policy, alerts: d.alerts, silences: d.silences }, [event], d.clock.now());
    const history = typeof body.eventId === 'string' ? await deliveryHistory(d.redis, d.keys, d.deliveries, policy, event) : undefined;
    const explained = explainRouting(policy, state, event, history);
    sendJson(res, 200, d.incidents ? await d.incidents.explain(explained) : explained);
  });
}

function silencesOf(d: ApiDeps): SilenceStore {
  if (!d.silences) throw new HttpError('SRW_NOT_FOUND', 'silences are not served by this process');
  return d.silences;
}

function invalidBody(message: string): never {
  throw new InvalidInputError(message);
}
