// PagerDuty's back-channel: POST /hooks/pagerduty takes v3 webhooks (a subscription on the service the Events API
// routing key feeds). `incident_key` is the dedup key we sent (`steprun-watch/<alert key>`), so it names the alert:
// acknowledged → the alert is acknowledged (repeats stop); unacknowledged → repeats resume; resolved by a person
// while the step still fails → the alert closes as resolved-by-human (its resolve goes out; the step's next
// failure opens it again). Verified with X-PagerDuty-Signature; unknown keys are answered 200 and ignored.
import { rememberIdentity } from './auth/authenticate';
import { digestOf } from './auth/secrets';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Logger } from '../util/logger';
import { acknowledge, unacknowledge } from '../alerts/ack';
import type { AlertStore } from '../alerts/alert-store';
import { groupIdOfIncidentKey } from '../alerts/incident';
import type { IncidentStore } from '../alerts/incidents';
import { AlertNotFoundError } from '../model/errors';
import type { ApiDeps, Handler } from './deps';
import { HttpError, parseJsonObject, readBody, sendJson } from './http';

/** PagerDuty's webhook payloads stay far below this. */
const MAX_PAGERDUTY_BYTES = 256 * 1024;
const DEDUP_PREFIX = 'steprun-watch/';

/**
 * `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]` — one HMAC-SHA256 of the raw body per secret PagerDuty holds (several
 * while a secret rotates); any that matches any of ours passes. Constant-time comparison.
 */
export function verifyPagerDutySignature(rawBody: Buffer, header: string | undefined, secrets: string[]): boolean {
  if (!header) return false;
  const given = header
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.startsWith('v1='))
    .map((part) => Buffer.from(part.slice(3), 'hex'));
  return secrets.some((secret) => {
    const expected = createHmac('sha256', secret).update(rawBody).digest();
    return given.some((sig) => sig.length === expected.length && timingSafeEqual(sig, expected));
  });
}

interface PagerDutyWebhook {
  event?: {
    id?: string;
    event_type?: string;
    occurred_at?: string;
    agent?: { summary?: string } | null;
    data?: { incident_key?: string; html_url?: string };
  };
}

/** A webhook's event.id is remembered this long: PagerDuty retries for far less, a replay later is refused too. */
const SEEN_SECONDS = 7 * 86_400;
/** Clocks differ: an event this much older than the incident it names is still taken as about it. */
const CLOCK_SKEW_MS = 5_000;

export function definePagerDutyHook(route: (method: string, path: string, handler: Handler) => void, d: ApiDeps): void {
  route('POST', '/hooks/pagerduty', async (req, res) => {
    const hook = d.hooks?.pagerDuty;
    if (!hook || !d.alerts) throw new HttpError('SRW_NOT_FOUND', 'no PagerDuty webhook is configured (api.pagerDuty.secrets)');
    const raw = await readBody(req, MAX_PAGERDUTY_BYTES);
    if (!verifyPagerDutySignature(raw, req.headers['x-pagerduty-signature'] as string | undefined, hook.secrets))
      throw new HttpError('SRW_UNAUTHORIZED', 'X-PagerDuty-Signature is missing or matches no secret of api.pagerDuty.secrets');
    const { event } = parseJsonObject(raw.toString('utf8')) as PagerDutyWebhook;
    const incidentKey = typeof event?.data?.incident_key === 'string' ? event.data.incident_key : undefined;
    const log = d.logger.child({ hook: 'pagerduty', eventType: event?.event_type, incidentKey });
    if (typeof event?.event_type !== 'string' || !incidentKey?.startsWith(DEDUP_PREFIX)) {
      log.info('pagerduty webhook: not an incident of ours, ignored');
      return sendJson(res, 200, { ignored: 'not an incident this daemon triggered' });
    }
    const agent = `${typeof event.agent?.summary === 'string' ? event.agent.summary : 'someone'} (PagerDuty)`;
    rememberIdentity(req, { name: agent, role: 'operator', via: 'hook' });
    // Replays (PagerDuty's late retries, or a copy of a signed request): each event.id is applied once, and an event
    // that occurred before the incident it names opened is about an earlier incident under the same key.
    const seen = typeof event.id === 'string' ? d.keys.webhookSeen('pagerduty', digestOf(event.id)) : undefined;
    if (seen && (await d.redis.exists(seen))) return ignore(res, log, `already applied (event ${event.id})`);
    const group = groupIdOfIncidentKey(incidentKey);
    const key = incidentKey.slice(DEDUP_PREFIX.length);
    const occurredAt = typeof event.occurred_at === 'string' ? Date.parse(event.occurred_at) : NaN;
    const openedAt = group && d.incidents ? await incidentOpenedAt(d.incidents, group) : (await d.alerts.get(key))?.openedAt;
    if (openedAt !== undefined && occurredAt < openedAt - CLOCK_SKEW_MS)
      return ignore(res, log, `occurred at ${event.occurred_at}, before this incident opened (${new Date(openedAt).toISOString()})`);
    const outcome =
      group && d.incidents
        ? await applyToGroup(d.alerts, d.incidents, event.event_type, group, agent, d.clock.now())
        : // A key of an earlier release: one alert per incident.
          await applyIncidentEvent(d.alerts, event.event_type, key, agent, d.clock.now());
    if (seen) await d.redis.set(seen, '1', 'EX', SEEN_SECONDS);
    log.info({ outcome }, 'pagerduty webhook');
    sendJson(res, 200, group && d.incidents ? { incident: group, outcome } : { alert: key, outcome });
  });
}

function ignore(res: ServerResponse, log: Logger, why: string): void {
  log.info({ ignored: why }, 'pagerduty webhook ignored');
  sendJson(res, 200, { ignored: why });
}

/** When the pager last opened the group's incident (its first trigger since a resolve), if it holds one. */
async function incidentOpenedAt(incidents: IncidentStore, groupId: string): Promise<number | undefined> {
  const log = await incidents.log(groupId);
  return log && log.action !== 'resolve' ? (log.openedAt ?? log.at) : undefined;
}

/**
 * An incident event of a group's incident: applied to each alert of the group still open (acknowledged, taken back,
 * closed by a person), then the group flushes, so every pager of it holds the same.
 */
async function applyToGroup(alerts: AlertStore, incidents: IncidentStore, type: string, groupId: string, agent: string, now: number): Promise<string> {
  const group = await incidents.read(groupId);
  if (!group) return 'unknown incident: ignored';
  const outcomes = new Set<string>();
  for (const key of group.members.keys()) outcomes.add(await applyIncidentEvent(alerts, type, key, agent, now, incidents));
  await incidents.flushSoon([groupId], now);
  return [...outcomes].join(', ') || 'no open alert: ignored';
}

/** What an incident event does to the alert `key`; the same webhook delivered twice changes nothing more. */
async function applyIncidentEvent(alerts: AlertStore, type: string, key: string, agent: string, now: number, incidents?: IncidentStore): Promise<string> {
  const alert = await alerts.get(key);
  if (!alert) return 'unknown alert: ignored';
  try {
    switch (type) {
      case 'incident.acknowledged':
        return (await acknowledge(alerts, alert.id, agent, now, undefined, incidents)).outcome;
      case 'incident.unacknowledged':
        await unacknowledge(alerts, alert.id, now, incidents);
        return 'unacknowledged';
      case 'incident.resolved': {
        // The step has not recovered (the alert is open), yet a person closed the incident: close the alert too,
        // so nothing pages again for this failure; the step's next failure opens a new one.
        const resolved = await alerts.resolveByHand(key, agent, now, 'human');
        return resolved ? 'resolved-by-human' : 'already resolved';
      }
      default:
        return `${type}: ignored`;
    }
  } catch (err) {
    if (err instanceof AlertNotFoundError) return 'unknown alert: ignored';
    throw err;
  }
}
