// Slack interactivity: POST /hooks/slack takes the clicks on an alert's buttons (Acknowledge, Silence 1h, Silence 4h)
// that the Slack app posts form-encoded (`payload=`). Verified as Slack documents it: X-Slack-Signature = `v0=` + hex
// HMAC-SHA256 of `v0:{X-Slack-Request-Timestamp}:{raw body}` with the app's signing secret, compared in constant time,
// timestamps over 5 minutes old refused, and a request acted on once refused if it comes again. A button's value is
// the alert's id only: what it may do is the button's own action on that one alert, looked up here.
import { rememberIdentity } from './auth/authenticate';
import { digestOf } from './auth/secrets';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { acknowledge, unacknowledge } from '../alerts/ack';
import { keyMatchersOf } from '../alerts/alert-key';
import { AlertNotFoundError } from '../model/errors';
import { ACK_ACTION, ALERT_ACTIONS_BLOCK, SILENCE_ACTIONS, UNACK_ACTION, alertActionsBlock, unackActionBlock } from '../notify/notifiers/formats/slack-actions';
import { postJson } from '../notify/notifiers/http';
import { slackEscape } from '../notify/notifiers/formats/render';
import { maskUrl } from '../util/logger';
import type { ApiDeps, Handler } from './deps';
import { HttpError, parseJsonObject, readBody } from './http';

/** Slack refuses to replay older requests than this, and so do we. */
export const SLACK_MAX_AGE_SECONDS = 5 * 60;
const MAX_SLACK_BYTES = 128 * 1024;

/** 'ok', 'stale' (a timestamp more than 5 minutes from now) or 'bad' (missing or wrong signature). */
export function verifySlackSignature(
  rawBody: Buffer | string,
  timestamp: string | undefined,
  signature: string | undefined,
  signingSecret: string,
  nowMs: number,
): 'ok' | 'stale' | 'bad' {
  if (!timestamp || !signature || !/^\d+$/.test(timestamp)) return 'bad';
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > SLACK_MAX_AGE_SECONDS) return 'stale';
  const expected = Buffer.from(`v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(rawBody).digest('hex')}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'ok' : 'bad';
}

/** The line saying what was last done: replaced, not stacked, by the next click. */
const SAID_BLOCK = 'srw_alert_said';

interface BlockActions {
  type?: string;
  user?: { id?: string; username?: string; name?: string };
  actions?: { action_id?: string; value?: string }[];
  response_url?: string;
  message?: { text?: string; blocks?: { type?: string; block_id?: string }[] };
}

export function defineSlackHook(route: (method: string, path: string, handler: Handler) => void, d: ApiDeps): void {
  route('POST', '/hooks/slack', async (req, res) => {
    const secret = d.hooks?.slack?.signingSecret;
    if (!secret || !d.alerts || !d.silences) throw new HttpError('SRW_NOT_FOUND', 'no Slack app is configured (api.slack.signingSecret)');
    const raw = await readBody(req, MAX_SLACK_BYTES);
    const signature = req.headers['x-slack-signature'] as string | undefined;
    const verdict = verifySlackSignature(raw, req.headers['x-slack-request-timestamp'] as string | undefined, signature, secret, d.clock.now());
    const log = d.logger.child({ hook: 'slack' });
    if (verdict === 'bad') throw new HttpError('SRW_UNAUTHORIZED', 'X-Slack-Signature is missing or wrong');
    if (verdict === 'stale') {
      log.warn('slack request refused: its timestamp is more than 5 minutes away (a replay?)');
      throw new HttpError('SRW_INVALID_INPUT', 'X-Slack-Request-Timestamp is more than 5 minutes away');
    }
    // Within its 5 minutes a signed request could be sent again: act on each one once.
    const digest = digestOf(signature!);
    const first = await d.redis.set(d.keys.webhookSeen('slack', digest), '1', 'EX', SLACK_MAX_AGE_SECONDS * 2, 'NX');
    if (first !== 'OK') {
      log.warn('slack request refused: already acted on (a replay)');
      throw new HttpError('SRW_INVALID_INPUT', 'this request was already acted on');
    }
    const payload = parseJsonObject(new URLSearchParams(raw.toString('utf8')).get('payload') ?? '', 'payload') as BlockActions;
    const action = payload.actions?.[0];
    const who = `@${[payload.user?.username, payload.user?.name, payload.user?.id].find((n) => typeof n === 'string') ?? 'someone'}`;
    // The audit log names the Slack user (Slack vouched for them by its signature); acting through a button is on-call work.
    rememberIdentity(req, { name: `${who} (Slack)`, role: 'operator', via: 'hook' });
    // Slack wants an answer within 3 s; the message is updated through response_url after it.
    res.writeHead(200).end();
    // Only what a button of ours sends: strings, or nothing is done (a body of other shapes is answered, then ignored).
    if (payload.type !== 'block_actions' || typeof action?.action_id !== 'string' || !action.action_id.startsWith('srw_') || typeof action.value !== 'string')
      return;
    const done = await act(d, action.action_id, action.value, who, slackEscape(who)).catch((err: Error): Acted => ({
      said: err instanceof AlertNotFoundError ? `This alert is no longer open (${slackEscape(who)} tried)` : `Could not do it: ${slackEscape(err.message)}`,
    }));
    log.info({ action: action.action_id, alert: action.value, by: who, said: done.said }, 'slack action');
    if (typeof payload.response_url !== 'string') return;
    // A signed click still names its own response_url: only Slack's hooks are followed (never 127.0.0.1 or a metadata address).
    const prefixes = d.hooks?.slack?.responseUrlPrefixes ?? ['https://hooks.slack.com/'];
    if (!prefixes.some((p) => payload.response_url!.startsWith(p)))
      return log.warn({ responseUrl: maskUrl(payload.response_url) }, 'slack response_url is not Slack’s: not followed');
    await answer(payload, done).catch((err: Error) => log.warn({ err: err.message }, 'slack response_url failed'));
  });
}

/** What a click did, in words, and the buttons the message offers now (none: the alert was acted on for good). */
interface Acted {
  said: string;
  buttons?: Record<string, unknown>;
}

/** Does the button's one action on its one alert; returns what the message should now say (`shown`: who, escaped) and offer. */
async function act(d: ApiDeps, actionId: string, alertId: string, who: string, shown: string): Promise<Acted> {
  const now = d.clock.now();
  if (actionId === ACK_ACTION) {
    const done = await acknowledge(d.alerts!, alertId, `${who} (Slack)`, now, undefined, d.incidents);
    return {
      said: done.outcome === 'acked' ? `Acknowledged by ${shown}` : `Already acknowledged by ${slackEscape(done.by)}`,
      buttons: unackActionBlock(alertId),
    };
  }
  if (actionId === UNACK_ACTION) {
    await unacknowledge(d.alerts!, alertId, now, d.incidents);
    return { said: `Acknowledgement taken back by ${shown}`, buttons: alertActionsBlock(alertId) };
  }
  const durationMs = SILENCE_ACTIONS[actionId];
  if (!durationMs) return { said: `Unknown action ${actionId}` };
  const alert = await d.alerts!.byId(alertId);
  if (!alert) throw new AlertNotFoundError(alertId);
  const silence = await d.silences!.add({ matchers: keyMatchersOf(alert.event), durationMs, comment: `from Slack on ${alert.key}`, createdBy: who }, now);
  return { said: `Silenced ${durationMs / 3_600_000}h by ${shown} (silence ${silence.id}, until ${new Date(silence.endsAt).toISOString()})` };
}

/** The message again, its buttons replaced by what was done and what it offers now (Slack's response_url, replace_original). */
async function answer(payload: BlockActions, done: Acted): Promise<void> {
  const { said } = done;
  const blocks = (payload.message?.blocks ?? []).filter((b) => b.block_id !== ALERT_ACTIONS_BLOCK && b.block_id !== SAID_BLOCK);
  const saidBlock = { type: 'context', block_id: SAID_BLOCK, elements: [{ type: 'mrkdwn', text: said }] };
  const body = payload.message
    ? { replace_original: true, text: payload.message.text ?? said, blocks: [...blocks, ...(done.buttons ? [done.buttons] : []), saidBlock] }
    : { replace_original: false, response_type: 'in_channel', text: said };
  await postJson({ url: payload.response_url!, body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, timeoutMs: 5000 });
}
