// Webhook bodies: CloudEvents 1.0, Slack incoming webhooks, Teams adaptive cards, PagerDuty Events API v2.
import type { WatchEvent } from '../../../store/events';
import { factsOf, isFailure, nextStepsOf, stepRowsOf, stillFailingLine, subjectOf } from './describe';
import { alertActionsBlock } from './slack-actions';
import { cutLine, cutTail, fitLines, jsonBytes, slackCodeBlock, slackEscape } from './render';
import { renderTemplate, type MessageTemplate } from './template';

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

/** Slack caps a section's text at 3,000 characters and a message at 50 blocks. */
const MAX_SLACK_TEXT = 2900;

/** Slack incoming webhook: `text` (notification fallback) and Block Kit `blocks` (https://api.slack.com/messaging/webhooks). */
export function slackMessage(e: WatchEvent, template: MessageTemplate = {}): Record<string, unknown> {
  const short = stillFailingLine(e);
  if (short)
    return {
      text: slackEscape(cutLine(short, 300)),
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: slackEscape(cutLine(short, MAX_SLACK_TEXT)) } }],
    };
  const subject = template.subject ? renderTemplate(template.subject, e) : subjectOf(e);
  const facts = template.text ? renderTemplate(template.text, e, slackEscape).split('\n') : factsOf(e).map(([k, v]) => `*${k}:* ${slackEscape(v)}`);
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: cutLine(subject, 150) } },
    { type: 'section', text: { type: 'mrkdwn', text: fitLines(facts, MAX_SLACK_TEXT) } },
  ];
  if (e.stderrTail)
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*stderr (last lines)*\n${slackCodeBlock(e.stderrTail, MAX_SLACK_TEXT - 30)}` } });
  const rows = stepRowsOf(e);
  if (rows.length)
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: fitLines(
          rows.map((r) => slackEscape(`• ${r[0]} ${r[1]} (${r[2]}) ${r[3]}`.trimEnd())),
          MAX_SLACK_TEXT,
          (n) => `+${n} more steps`,
        ),
      },
    });
  // One click from the cause: a button per link (Azure ML studio), up to Slack's 25 per block.
  if (e.links?.length)
    blocks.push({
      type: 'actions',
      elements: e.links.slice(0, 25).map((l) => ({ type: 'button', text: { type: 'plain_text', text: cutLine(l.label, 75) }, url: l.url })),
    });
  // Acting from the message (api.slack): Slack posts the click to /hooks/slack; the value names the alert only.
  if (e.alertActions) blocks.push(alertActionsBlock(e.alertActions.alertId));
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: cutLine(
          nextStepsOf(e)
            .map((c) => `\`${slackEscape(c).replace(/`/g, "'")}\``)
            .join('  '),
          MAX_SLACK_TEXT,
        ),
      },
    ],
  });
  // `text` is mrkdwn too (the notification preview): escaped like the rest.
  return { text: slackEscape(cutLine(subject, 300)), blocks };
}

/** Teams refuses a message over 28 KB: the card is built, measured, and its long parts cut until it fits. */
const MAX_TEAMS_BYTES = 27 * 1024;

/** Teams (Workflows / incoming webhook): a message carrying an Adaptive Card 1.4, always under 28 KB. */
export function teamsMessage(e: WatchEvent, template: MessageTemplate = {}): Record<string, unknown> {
  for (const budget of [16_000, 8_000, 4_000, 2_000, 1_000, 400]) {
    const message = teamsCard(e, budget, template);
    if (jsonBytes(message) <= MAX_TEAMS_BYTES) return message;
  }
  return teamsCard(e, 100, template);
}

function teamsCard(e: WatchEvent, budget: number, template: MessageTemplate): Record<string, unknown> {
  const subject = template.subject ? renderTemplate(template.subject, e) : subjectOf(e);
  const short = stillFailingLine(e);
  const body: Record<string, unknown>[] = short
    ? [{ type: 'TextBlock', wrap: true, text: cutLine(short, 600), color: 'Attention' }]
    : teamsBody(e, subject, budget, template);
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
          ...(e.links?.length ? { actions: e.links.map((l) => ({ type: 'Action.OpenUrl', title: l.label, url: l.url })) } : {}),
        },
      },
    ],
  };
}

function teamsBody(e: WatchEvent, subject: string, budget: number, template: MessageTemplate): Record<string, unknown>[] {
  const body: Record<string, unknown>[] = [
    { type: 'TextBlock', size: 'Medium', weight: 'Bolder', wrap: true, text: cutLine(subject, 300), color: isFailure(e) ? 'Attention' : 'Good' },
    template.text
      ? { type: 'TextBlock', text: cutTail(renderTemplate(template.text, e), budget), wrap: true }
      : { type: 'FactSet', facts: factsOf(e).map(([title, value]) => ({ title, value: cutTail(value, budget / 4) })) },
  ];
  if (e.stderrTail)
    body.push(
      { type: 'TextBlock', text: 'stderr (last lines)', weight: 'Bolder' },
      { type: 'TextBlock', text: cutTail(e.stderrTail, budget), fontType: 'Monospace', wrap: true },
    );
  const rows = stepRowsOf(e);
  if (rows.length) {
    // One TextBlock of lines rather than a FactSet of thousands: cut to the budget with "+N more steps".
    const lines = rows.map((r) => `${r[0]}: ${r[1]} (${r[2]}) ${r[3]}`.trimEnd());
    body.push({ type: 'TextBlock', text: fitLines(lines, budget, (n) => `+${n} more steps`), wrap: true });
  }
  body.push({ type: 'TextBlock', text: nextStepsOf(e).join('\n'), fontType: 'Monospace', wrap: true, isSubtle: true });
  return body;
}

/**
 * An incident group's notification (alerts/incident.ts): one incident per group, its dedup_key the group's for its
 * whole life; `trigger` opens or updates it (the summary names the oldest failure and how many more fail),
 * `acknowledge` and `resolve` carry only the key, as the Events API v2 asks.
 */
function pagerDutyIncident(e: WatchEvent, routingKey: string, template: MessageTemplate): Record<string, unknown> {
  const i = e.incident!;
  if (i.action !== 'trigger') return { routing_key: routingKey, event_action: i.action, dedup_key: i.key };
  const lead = template.subject && e.type !== 'alert.resolved' ? renderTemplate(template.subject, e) : undefined;
  const summary = lead ? `${lead}${i.firingCount > 1 ? ` (+${i.firingCount - 1} more failing)` : ''}` : i.title;
  return pagerDutyTrigger(e, routingKey, i.key, summary, {
    firing: i.firing,
    firingCount: i.firingCount,
    ...(i.firingCount > i.firing.length ? { notListed: i.firingCount - i.firing.length } : {}),
    ...(i.resolved.length ? { resolved: i.resolved } : {}),
    ...(i.since ? { failingSince: i.since, failures: i.failures } : {}),
  });
}

/** A PagerDuty trigger about `e` under `dedupKey`: the payload's fields from the event, `details` first in custom_details. */
function pagerDutyTrigger(e: WatchEvent, routingKey: string, dedupKey: string, summary: string, details: Record<string, unknown>): Record<string, unknown> {
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: cutLine(summary, 1024),
      source: `steprun-watch/${e.provider}/${e.experiment}`,
      severity: e.severity ?? (e.type === 'steprun.stuck' || e.type === 'steprun.substate' || e.type === 'experiment.missing' ? 'warning' : 'error'),
      timestamp: e.time,
      component: e.stepRun?.name ?? 'pipeline',
      group: e.experiment,
      class: e.stepRun?.error?.code ?? e.pipelineRun?.error?.code ?? e.error?.code ?? e.type,
      custom_details: { ...details, ...Object.fromEntries(factsOf(e)), stderrTail: e.stderrTail, eventId: e.id },
    },
    // PagerDuty's "View in steprun-watch" button on the incident.
    ...(e.dashboardUrl ? { client: 'steprun-watch', client_url: e.dashboardUrl } : {}),
    ...(e.links?.length ? { links: e.links.map((l) => ({ href: l.url, text: l.label })) } : {}),
  };
}

/**
 * PagerDuty Events API v2 (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/):
 * trigger on a failure with dedup_key = its alert key (the same across runs: `local/churn/step/train`),
 * resolve with the same key when that alert resolves (alert.resolved). Other events are not PagerDuty's
 * business: undefined = do not send.
 */
export function pagerDutyEvent(e: WatchEvent, routingKey: string, template: MessageTemplate = {}): Record<string, unknown> | undefined {
  if (e.incident) return pagerDutyIncident(e, routingKey, template);
  const dedupKey = `steprun-watch/${e.alertKey ?? e.alert?.key ?? `${e.provider}/${e.pipelineRunId ?? e.trackId}`}`;
  if (e.type === 'alert.resolved') return { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey };
  if (isFailure(e))
    return pagerDutyTrigger(e, routingKey, dedupKey, template.subject ? renderTemplate(template.subject, e) : subjectOf(e), { grouped: e.grouped });
  return undefined;
}
