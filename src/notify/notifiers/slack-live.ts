// The `slack` notifier (a bot token): ONE message per pipeline run, edited as its steps move (chat.postMessage, then
// chat.update), with each failure's details as a reply in its thread. Incoming-webhook Slack is the webhook notifier.
import { WebClient } from '@slack/web-api';
import { z } from 'zod';
import { DeliveryError } from '../../model/errors';
import type { StepStatus } from '../../model/status';
import type { WatchEvent } from '../../store/events';
import { formatDuration, stillFailingLine, subjectOf } from './formats/describe';
import { alertActionsBlock } from './formats/slack-actions';
import { cutLine, fitLines, slackCodeBlock, slackEscape } from './formats/render';
import type { LiveMessageStore } from './live-messages';
import type { Notifier, NotifierFactory } from '../notifier';
import { parseOptions } from '../options';

const optionsSchema = z.strictObject({
  type: z.literal('slack'),
  /** A bot token (`xoxb-…`), from the environment: `token: ${SLACK_BOT_TOKEN}`. */
  token: z.string().min(1),
  /** Channel id or name the messages go to. */
  channel: z.string().min(1),
  /** The Web API's base URL (tests point it at a local stand-in). */
  slackApiUrl: z.string().url().optional(),
});

/** What the daemon gives this notifier: where message ids and rows live (Redis). */
export type LiveMessagesFactory = (notifier: string) => LiveMessageStore;

const MARK: Record<StepStatus, string> = {
  NotStarted: '◻️',
  Queued: '⏳',
  Running: '🔄',
  Finished: '✅',
  Failed: '❌',
  Canceled: '⛔',
};

/** A row of the step table; `rank` keeps a late, older event from overwriting a newer status. */
interface Row {
  name: string;
  status: StepStatus;
  durationMs?: number;
  reused?: boolean;
  /** When it started (ISO): the table is in running order. */
  start?: string;
  rank: number;
}

const RANK: Record<StepStatus, number> = { NotStarted: 0, Queued: 1, Running: 2, Finished: 3, Failed: 3, Canceled: 3 };

export const slackLiveNotifierFactory: NotifierFactory = (raw, ctx): Notifier => {
  const o = parseOptions(optionsSchema, raw, ctx.name);
  // Outside the daemon (`ping` checks the options) there is no Redis to keep messages in: delivering then is an error.
  const store = (ctx.services?.liveMessages as LiveMessagesFactory | undefined)?.(ctx.name);
  const client = new WebClient(o.token, {
    ...(o.slackApiUrl ? { slackApiUrl: o.slackApiUrl } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  });

  async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const e = err as { code?: string; data?: { error?: string }; message: string };
      // Slack's own refusals (channel_not_found, invalid_auth) will not change on retry; network trouble and rate limits may.
      const platform = e.code === 'slack_webapi_platform_error';
      throw new DeliveryError(`slack ${what}: ${e.data?.error ?? e.message}`, { retryable: !platform, cause: err });
    }
  }

  return {
    type: 'slack',
    name: ctx.name,
    async deliver(event) {
      if (!store) throw new DeliveryError(`notifier ${ctx.name}: the slack notifier runs in the daemon (it keeps its messages in Redis)`, { retryable: false });
      const run = event.pipelineRunId;
      if (!run || !(event.stepRun || event.pipelineRun)) return { detail: `skipped: ${event.type} has no pipeline run message` };
      const row = rowOf(event);
      await store.putRow(run, rowIdOf(event), JSON.stringify(row), row.rank);
      let claim = await store.claim(run, Date.now());
      for (let i = 0; i < 20 && 'wait' in claim; i++) {
        await new Promise((r) => setTimeout(r, 250));
        claim = await store.claim(run, Date.now());
      }
      if ('wait' in claim) throw new DeliveryError('slack: another process is posting this pipeline run’s message', { retryable: true });
      // The table is read under the edit lock, right before it is sent: an edit never goes out older than one before it.
      const { ts, channel } = await store.whileEditing(run, async () => {
        const rows = (await store.rows(run))
          .map((r) => JSON.parse(r) as Row)
          .sort((a, b) => (a.start ?? '~').localeCompare(b.start ?? '~') || a.name.localeCompare(b.name));
        const message = { text: slackEscape(cutLine(headline(event, rows), 300)), blocks: table(event, rows) };
        if ('post' in claim) {
          const posted = await call('chat.postMessage', () => client.chat.postMessage({ channel: o.channel, ...message }));
          // Stored at once: a restarted daemon edits this message instead of posting another.
          await store.posted(run, posted.ts!, posted.channel!);
          return { ts: posted.ts!, channel: posted.channel! };
        }
        await call('chat.update', () => client.chat.update({ channel: claim.channel, ts: claim.ts, ...message }));
        return claim;
      });
      const reply = threadReply(event);
      if (reply) await call('chat.postMessage (thread)', () => client.chat.postMessage({ channel, thread_ts: ts, ...reply }));
      return { detail: `message ${ts} in ${channel}` };
    },
  };
};

function rowIdOf(e: WatchEvent): string {
  return e.stepRun ? `step:${e.stepRun.stepRunId}` : '~pipeline';
}

function rowOf(e: WatchEvent): Row {
  if (e.stepRun) {
    const s = e.stepRun;
    return { name: s.name, status: s.status, durationMs: s.durationMs, reused: s.isReused, start: s.startTime, rank: RANK[s.status] };
  }
  return { name: '(pipeline)', status: e.pipelineRun!.status, durationMs: e.pipelineRun!.durationMs, rank: RANK[e.pipelineRun!.status] };
}

/** `[Failed] pipeline <id> · experiment <name>`: the pipeline's status as the rows have it (not this event's). */
function headline(e: WatchEvent, rows: Row[]): string {
  const status = rows.find((r) => r.name === '(pipeline)')?.status;
  return `${status ? `[${status}] ` : ''}pipeline ${e.pipelineRunId} · experiment ${e.experiment}`;
}

/**
 * A failure's details as a reply in the message's thread; another failure of an open alert, one line (renotify). With
 * api.slack, the reply carries the alert's buttons: the message is the run's, the reply is the alert's.
 */
function threadReply(event: WatchEvent): { text: string; blocks?: Record<string, unknown>[] } | undefined {
  if (event.type !== 'steprun.failed' || !event.stepRun) return undefined;
  const short = stillFailingLine(event);
  const details = short ? [slackEscape(short)] : [`*${slackEscape(cutLine(subjectOf(event), 300))}*`];
  if (!short && event.stepRun.error) details.push(slackEscape(cutLine(`${event.stepRun.error.code}: ${event.stepRun.error.message}`, 1000)));
  // A section's text holds 3,000 characters: the stderr tail gets what the lines above leave.
  const used = details.reduce((n, l) => n + l.length + 1, 0);
  if (!short && event.stderrTail) details.push(slackCodeBlock(event.stderrTail, Math.max(200, 2900 - used)));
  const text = details.join('\n');
  if (!event.alertActions) return { text };
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }, alertActionsBlock(event.alertActions.alertId)] };
}

/** A compact table: one line per step with a status mark and its duration; the pipeline's own row last. */
function table(e: WatchEvent, rows: Row[]): Record<string, unknown>[] {
  const steps = rows.filter((r) => r.name !== '(pipeline)');
  const lines = steps.map((r) =>
    slackEscape(
      `${MARK[r.status]} ${r.name}  ${r.status}${r.durationMs !== undefined ? ` · ${formatDuration(r.durationMs)}` : ''}${r.reused ? ' · reused' : ''}`,
    ),
  );
  const head = `*${slackEscape(headline(e, rows))}*`;
  const blocks: Record<string, unknown>[] = [
    { type: 'section', text: { type: 'mrkdwn', text: head } },
    { type: 'section', text: { type: 'mrkdwn', text: fitLines(lines, 2900, (n) => `+${n} more steps`) || '_no steps yet_' } },
  ];
  // The message is the run's, not one step's: its button opens the run page (api.publicUrl) without a step anchor.
  if (e.dashboardUrl)
    blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open run' }, url: e.dashboardUrl.replace(/#.*$/, '') }] });
  return blocks;
}
