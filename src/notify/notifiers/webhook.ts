// The webhook notifier: a JSON POST (CloudEvents, Slack, Teams or PagerDuty), signed per Standard Webhooks when a secret is set.
import { z } from 'zod';
import { maskUrl } from '../../util/logger';
import { cloudEvent, pagerDutyEvent, slackMessage, teamsMessage } from './formats/webhook-formats';
import { templateSchema } from './formats/template';
import { postJson } from '../deliver/http';
import type { Notifier, NotifierFactory } from '../notifier';
import { parseOptions } from '../options';
import { signatureHeaders } from '../deliver/signing';

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
  })
  .refine((o) => o.url || o.format === 'pagerduty', { message: 'url is required', path: ['url'] })
  .refine((o) => o.format !== 'pagerduty' || o.routingKey, { message: 'routingKey is required for format pagerduty', path: ['routingKey'] });

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
