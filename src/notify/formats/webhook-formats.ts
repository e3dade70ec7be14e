// Webhook bodies: CloudEvents 1.0, Slack incoming webhooks, Teams adaptive cards, PagerDuty Events API v2.
import type { WatchEvent } from '../../watch/events';
import { factsOf, isFailure, nextStepsOf, stepRowsOf, subjectOf } from './describe';

export type WebhookFormat = 'cloudevents' | 'slack' | 'teams' | 'pagerduty';

/** CloudEvents 1.0 structured JSON (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md). */
export function cloudEvent(e: WatchEvent): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: e.id,
    source: `/steprun-watch/${encodeURIComponent(e.provider)}/experiments/${encodeURIComponent(e.experiment || '-')}`,
    type: `io.steprun-watch.${e.type}`,
    subject: e.stepRun?.stepRunId ?? e.pipelineRunId ?? e.trackId,
    time: e.time,
    datacontenttype: 'application/json',
    data: e,
  };
}

const MAX_SLACK_TEXT = 2900;

/** Slack incoming webhook: `text` (notification fallback) and Block Kit `blocks` (https://api.slack.com/messaging/webhooks). */
export function slackMessage(e: WatchEvent): Record<string, unknown> {
  const facts = factsOf(e)
    .map(([k, v]) => `*${k}:* ${v}`)
    .join('\n');
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: subjectOf(e).slice(0, 150) } },
    { type: 'section', text: { type: 'mrkdwn', text: facts.slice(0, MAX_SLACK_TEXT) } },
  ];
  if (e.stderrTail)
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*stderr (last lines)*\n\`\`\`${e.stderrTail.slice(-MAX_SLACK_TEXT + 40)}\`\`\`` } });
  const rows = stepRowsOf(e);
  if (rows.length)
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: rows
          .map((r) => `• *${r[0]}* ${r[1]} (${r[2]}) ${r[3]}`)
          .join('\n')
          .slice(0, MAX_SLACK_TEXT),
      },
    });
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: nextStepsOf(e)
          .map((c) => `\`${c}\``)
          .join('  '),
      },
    ],
  });
  return { text: subjectOf(e), blocks };
}

/** Teams (Workflows / incoming webhook): a message carrying an Adaptive Card 1.4. */
export function teamsMessage(e: WatchEvent): Record<string, unknown> {
  const body: Record<string, unknown>[] = [
    { type: 'TextBlock', size: 'Medium', weight: 'Bolder', wrap: true, text: subjectOf(e), color: isFailure(e) ? 'Attention' : 'Good' },
    { type: 'FactSet', facts: factsOf(e).map(([title, value]) => ({ title, value })) },
  ];
  if (e.stderrTail)
    body.push(
      { type: 'TextBlock', text: 'stderr (last lines)', weight: 'Bolder' },
      { type: 'TextBlock', text: e.stderrTail, fontType: 'Monospace', wrap: true },
    );
  const rows = stepRowsOf(e);
  if (rows.length) body.push({ type: 'FactSet', facts: rows.map((r) => ({ title: r[0], value: `${r[1]} (${r[2]}) ${r[3]}`.trim() })) });
  body.push({ type: 'TextBlock', text: nextStepsOf(e).join('\n'), fontType: 'Monospace', wrap: true, isSubtle: true });
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: { $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', type: 'AdaptiveCard', version: '1.4', body },
      },
    ],
  };
}

/**
 * PagerDuty Events API v2 (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/):
 * trigger on a failure with dedup_key = its alert key (the same across runs: `local/churn/step/train`),
 * resolve with the same key when that alert resolves (alert.resolved). Other events are not PagerDuty's
 * business: undefined = do not send.
 */
export function pagerDutyEvent(e: WatchEvent, routingKey: string): Record<string, unknown> | undefined {
  const dedupKey = `steprun-watch/${e.alertKey ?? e.alert?.key ?? `${e.provider}/${e.pipelineRunId ?? e.trackId}`}`;
  if (e.type === 'alert.resolved') return { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey };
  if (isFailure(e)) {
    return {
      routing_key: routingKey,
      event_action: 'trigger',
      dedup_key: dedupKey,
      payload: {
        summary: subjectOf(e).slice(0, 1024),
        source: `steprun-watch/${e.provider}/${e.experiment}`,
        severity: 'error',
        timestamp: e.time,
        component: e.stepRun?.name ?? 'pipeline',
        group: e.experiment,
        class: e.stepRun?.error?.code ?? e.pipelineRun?.error?.code ?? e.error?.code ?? e.type,
        custom_details: { ...Object.fromEntries(factsOf(e)), stderrTail: e.stderrTail, eventId: e.id, grouped: e.grouped },
      },
    };
  }
  return undefined;
}
