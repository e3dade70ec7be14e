// Issues 21/22: with api.publicUrl, every message links to its run's dashboard page (PagerDuty's client_url too),
// and the link opens that run on the daemon's own dashboard, scrolled to the step.
import * as path from 'node:path';
import { systemClock } from '../../../src/util/clock';
import type { Daemon } from '../../../src/runtime/daemon';
import { LocalProvider } from '../../../src/providers/local/provider';
import { TrackStore, trackFromRequest } from '../../../src/store/tracks';
import { startDaemon, testConfig } from '../../support/daemon';
import { runPipelineText } from '../../support/local-runs';
import { dropPrefix, testRedis, uniquePrefix } from '../../support/redis';
import { SlackApiStandIn } from '../../support/slack-api';
import { MailCatcher } from '../../support/smtp';
import { tempDir } from '../../support/tmp';
import { waitFor } from '../../support/wait-for';
import { WebhookReceiver } from '../../support/webhook-receiver';

const redis = testRedis();
const prefix = uniquePrefix('runlinks');
const dataDir = tempDir('runlinks');
const local = new LocalProvider({ root: path.join(dataDir, 'runs') });
const [pd, chat, ce, mail, slack] = [new WebhookReceiver(), new WebhookReceiver(), new WebhookReceiver(), new MailCatcher(), new SlackApiStandIn()];
const PUBLIC = 'https://srw.example.com/watch';
const TOKEN = 'a-token-for-the-run-links-test-0123456789';
let daemon: Daemon;

beforeAll(async () => {
  const [pdUrl, chatUrl, ceUrl, smtpPort, slackUrl] = [await pd.start(), await chat.start(), await ce.start(), await mail.start(), await slack.start()];
  daemon = await startDaemon(
    testConfig({
      prefix,
      dataDir,
      extra: {
        api: { listen: '127.0.0.1:0', token: TOKEN, publicUrl: PUBLIC },
        notifiers: {
          pd: { type: 'webhook', format: 'pagerduty', url: pdUrl, routingKey: 'R0UT1NG' },
          chat: { type: 'webhook', format: 'slack', url: chatUrl },
          ce: { type: 'webhook', url: ceUrl },
          mail: { type: 'email', to: 'oncall@example.com', smtp: { host: '127.0.0.1', port: smtpPort, secure: false } },
          live: { type: 'slack', token: 'xoxb-test-token', channel: '#ml-runs', slackApiUrl: slackUrl },
        },
        routes: [
          { match: { type: 'steprun.failed' }, notify: ['pd'], group: { wait: '1s' } },
          { match: { type: 'steprun.failed' }, notify: ['chat', 'ce', 'mail'] },
          { match: { type: ['steprun.*', 'pipelinerun.*'] }, notify: ['live'] },
        ],
      },
    }),
  );
  await new TrackStore(redis, daemon.keys, systemClock).add(trackFromRequest({ provider: 'local', experiment: 'linked' }, 'cli', Date.now() - 1000));
});

afterAll(async () => {
  await daemon?.stop();
  await Promise.all([pd.close(), chat.close(), ce.close(), mail.close(), slack.close()]);
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

it(
  'a failed step: PagerDuty client_url, Slack and mail links, CloudEvents dashboardUrl and the live message all open its run page, which shows ' +
    'the step and its alert',
  async () => {
    const run = await runPipelineText(local.store, 'experiment: linked\nsteps:\n  - { name: train, run: "echo boom >&2; exit 3" }\n', path.join(dataDir, 'w'));
    await waitFor(() => pd.received.length > 0 && chat.received.length > 0 && ce.received.length > 0 && mail.mails.length > 0, {
      timeoutMs: 30_000,
      what: 'the failure on every notifier',
    }).catch((err: Error) => {
      throw new Error(`${err.message} (pd ${pd.received.length}, chat ${chat.received.length}, ce ${ce.received.length}, mail ${mail.mails.length})`);
    });
    const step = (ce.received[0]!.json as { data: { stepRun: { stepRunId: string } } }).data.stepRun;
    const url = `${PUBLIC}/ui/runs/local/${encodeURIComponent(run.pipelineRunId)}?experiment=linked#step-${step.stepRunId}`;

    const trigger = pd.received[0]!.json as Record<string, unknown>;
    expect(trigger).toMatchObject({ event_action: 'trigger', client: 'steprun-watch', client_url: url });
    expect(trigger.links).toEqual([{ href: url, text: 'Run in steprun-watch' }]);
    const blocks = JSON.stringify((chat.received[0]!.json as { blocks: unknown[] }).blocks);
    expect(blocks).toContain(JSON.stringify({ type: 'button', text: { type: 'plain_text', text: 'Run in steprun-watch' }, url }));
    expect((ce.received[0]!.json as { data: { dashboardUrl: string } }).data.dashboardUrl).toBe(url);
    expect(mail.mails[0]!.text).toContain(`Run in steprun-watch: ${url}`);
    expect(String(mail.mails[0]!.html)).toContain(`href="${url.replace(/&/g, '&amp;')}"`);
    await waitFor(() => JSON.stringify([...slack.messages.values()]).includes('Open run'), { what: 'the live message button' });
    expect(JSON.stringify([...slack.messages.values()])).toContain(JSON.stringify(url.replace(/#.*$/, '')));

    // The link is the daemon's own page: served here (publicUrl's path prefix is the proxy's), showing the step.
    const page = await fetch(`${daemon.apiUrl}${new URL(url).pathname.replace(/^\/watch/, '')}${new URL(url).search}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain(`id="step-${step.stepRunId}"`);
    // The run page says what the alert is at: open, not acknowledged yet (a button), not silenced.
    expect(text).toMatch(/<tr data-alert="local\/linked\/step\/train">[\s\S]*?data-ack-alert="a[0-9a-f]+"[\s\S]*?<td>\s*no\s*<\/td>/);
  },
);
