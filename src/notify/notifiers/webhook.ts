// The webhook notifier: a JSON POST (CloudEvents, Slack, Teams or PagerDuty), signed per Standard Webhooks when a secret is set.
import { z } from 'zod';
import { maskUrl } from '../../util/logger';
import { cloudEvent, pagerDutyEvent, slackMessage, teamsMessage } from './formats/webhook-formats';
import { templateSchema } from './formats/template';
import { postJson } from './http';
import type { Notifier, NotifierFactory } from '../notifier';
import { parseOptions } from '../options';
import { signatureHeaders } from './signing';
import { duration } from '../../config/field-schemas';

const pagerApiSchema = z.strictObject({
  /** A read-only REST API key, from the environment (`${PAGERDUTY_API_TOKEN}`). */
  token: z.string().min(1),
  /** The service the routing key opens incidents in (its id, e.g. PWIXJZS). */
  serviceId: z.string().min(1),
  url: z.string().url().default('https://api.pagerduty.com'),
  /** Compare every so often in the daemon (counted in /metrics as srw_pager_drift); none: only `alerts reconcile`. */
  checkEvery: duration.optional(),
  /** The periodic check mends what it finds (as `alerts reconcile --fix`). */
  fix: z.boolean().default(false),
});
export type PagerApiSettings = z.infer<typeof pagerApiSchema>;

const PAGERDUTY_URL = 'https://events.pagerduty.com/v2/enqueue';

const optionsSchema = z
  .strictObject({
    type: z.literal('webhook'),
    url: z.string().url().optional(),
    secret: z.string().min(1).optional(),
    format: z.enum(['cloudevents', 'slack', 'teams', 'pagerduty']).default('cloudevents'),
    /** PagerDuty integration key (format pagerduty). */
    routingKey: z.string().min(1).optional(),
    headers: z.record(z.string(), z.string()).default({}),
    timeoutMs: z.number().int().positive().default(10000),
    /** Mustache subject/title and text instead of the built-in wording (slack, teams; pagerduty: the subject). */
    template: templateSchema.optional(),
    /** PagerDuty's REST API (read-only key): `alerts reconcile` and the periodic check compare what it holds open. */
    api: pagerApiSchema.optional(),
  })
  .refine((o) => o.url || o.format === 'pagerduty', { message: 'url is required', path: ['url'] })
  .refine((o) => o.format !== 'pagerduty' || o.routingKey, { message: 'routingKey is required for format pagerduty', path: ['routingKey'] })
  .refine((o) => !o.api || o.format === 'pagerduty', { message: 'is for format pagerduty (its REST API)', path: ['api'] });

/** The PagerDuty REST API settings of a pager notifier's options, if it has them (their problems are said at start). */
export function pagerApiOf(options: Record<string, unknown>): PagerApiSettings | undefined {
  const parsed = pagerApiSchema.safeParse(options.api);
  return options.format === 'pagerduty' && parsed.success ? parsed.data : undefined;
}

export const webhookNotifierFactory: NotifierFactory = (raw, ctx): Notifier => {
  const o = parseOptions(optionsSchema, raw, ctx.name);
  const url = o.url ?? PAGERDUTY_URL;
  const shownUrl = maskUrl(url);
  return {
    type: 'webhook',
    name: ctx.name,
    async deliver(event, delivery) {
      const payload =
        o.format === 'slack'
          ? slackMessage(event, o.template)
          : o.format === 'teams'
            ? teamsMessage(event, o.template)
            : o.format === 'pagerduty'
              ? pagerDutyEvent(event, o.routingKey!, o.template)
              : cloudEvent(event);
      if (!payload) return { detail: `skipped: ${event.type} is not sent to ${o.format}` };
      const body = JSON.stringify(payload);
      // The delivery id is the webhook-id on every try: receivers drop repeats by it.
      const signed = o.secret
        ? signatureHeaders({ secret: o.secret, id: delivery.deliveryId, timestampSeconds: Math.floor(Date.now() / 1000), body })
        : { 'webhook-id': delivery.deliveryId };
      const headers = {
        'user-agent': 'steprun-watch',
        ...o.headers,
        ...signed,
        ...(o.format === 'cloudevents' ? { 'content-type': 'application/cloudevents+json' } : {}),
      };
      const result = await postJson({ url, body, headers, timeoutMs: o.timeoutMs, signal: delivery.signal });
      return { detail: `HTTP ${result.status} from ${shownUrl}` };
    },
  };
};
