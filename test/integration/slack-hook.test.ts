// Acting from Slack. The signature checked with Slack's documented example, then clicks on an alert's
// buttons posted as Slack posts them (form-encoded payload, signed), through the daemon: Acknowledge records who and
// answers through response_url; Silence 1h records a silence on the alert's key fields, so the step's next failure
// is silenced; forged, stale and replayed clicks change nothing.
import { createHmac } from 'node:crypto';
import * as path from 'node:path';
import { verifySlackSignature } from '../../src/api/slack-hook';
import { systemClock } from '../../src/util/clock';
import type { Daemon } from '../../src/runtime/daemon';
import { DeliveryStore } from '../../src/store/deliveries';
import { LocalProvider } from '../../src/providers/local/provider';
import { TrackStore, trackFromRequest } from '../../src/store/tracks';
import { startDaemon, testConfig } from '../support/daemon';
import { runPipelineText } from '../support/local-runs';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';
import { timePasses, waitFor } from '../support/wait-for';
import { SlackApiStandIn } from '../support/slack-api';
import { WebhookReceiver } from '../support/webhook-receiver';

const SIGNING_SECRET = 'slack-signing-secret-0123456789abcdef';
const redis = testRedis();
const prefix = uniquePrefix('slackhook');
const dataDir = tempDir('slackhook');
const local = new LocalProvider({ root: path.join(dataDir, 'runs') });
const chat = new WebhookReceiver();
const slackApi = new SlackApiStandIn();
let chatUrl = '';
let daemon: Daemon;

it("Slack's documented example signature verifies; a wrong secret, a changed body and an old timestamp do not", () => {
  // https://api.slack.com/authentication/verifying-requests-from-slack
  const body = [
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar',
    'user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=',
    'response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN',
    'trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  ].join('&');
  const signature = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
  const at = 1531420618 * 1000 + 30_000;
  expect(verifySlackSignature(body, '1531420618', signature, '8f742231b10e8888abcd99yyyzzz85a5', at)).toBe('ok');
  expect(verifySlackSignature(body, '1531420618', signature, '8f742231b10e8888abcd99yyyzzz85a6', at)).toBe('bad');
  expect(verifySlackSignature(`${body}&x=1`, '1531420618', signature, '8f742231b10e8888abcd99yyyzzz85a5', at)).toBe('bad');
  expect(verifySlackSignature(body, '1531420618', signature, '8f742231b10e8888abcd99yyyzzz85a5', at + 10 * 60_000)).toBe('stale');
  expect(verifySlackSignature(body, undefined, signature, '8f742231b10e8888abcd99yyyzzz85a5', at)).toBe('bad');
});

describe('clicks on an alert’s buttons', () => {
  beforeAll(async () => {
    chatUrl = await chat.start();
    const slackApiUrl = await slackApi.start();
    daemon = await startDaemon(
      testConfig({
        prefix,
        dataDir,
        extra: {
          // The test's chat server stands in for hooks.slack.com, where response_url must point.
          api: { listen: '127.0.0.1:0', slack: { signingSecret: SIGNING_SECRET, responseUrlPrefixes: [`${chatUrl}/`] } },
          notifiers: {
            chat: { type: 'webhook', format: 'slack', url: `${chatUrl}/incoming` },
            live: { type: 'slack', token: 'xoxb-test-token', channel: '#ml-runs', slackApiUrl },
          },
          routes: [{ match: { type: 'steprun.failed' }, notify: ['chat', 'live'], renotify: 'always' }],
        },
      }),
    );
    await new TrackStore(redis, daemon.keys, systemClock).add(trackFromRequest({ provider: 'local', experiment: 'slk' }, 'cli', Date.now() - 1000));
  });
  afterAll(async () => {
    await daemon.stop();
    await chat.close();
    await slackApi.close();
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  const FAILING = 'experiment: slk\nsteps:\n  - { name: train, run: "echo boom >&2; exit 3" }\n';
  const incoming = () =>
    chat.received.filter((r) => r.headers.host && (r.json as { blocks?: unknown }).blocks && !(r.json as { replace_original?: boolean }).replace_original);
  const responses = () => chat.received.filter((r) => (r.json as { replace_original?: boolean }).replace_original !== undefined);

  /** A click as Slack posts it: `payload=` form-encoded, signed with the app's signing secret. */
  function click(message: Record<string, unknown>, actionId: string, o: { at?: number; secret?: string; responseUrl?: string; user?: string } = {}) {
    const actions = (message.blocks as { block_id?: string; elements?: { action_id: string; value: string }[] }[]).find(
      (b) => b.block_id === 'srw_alert_actions',
    )!;
    const button = actions.elements!.find((e) => e.action_id === actionId)!;
    const payload = {
      type: 'block_actions',
      user: { id: 'U2CERLKJA', username: o.user ?? 'jane', name: o.user ?? 'jane' },
      actions: [{ action_id: actionId, block_id: 'srw_alert_actions', value: button.value, type: 'button' }],
      response_url: o.responseUrl ?? `${chatUrl}/respond`,
      message,
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const ts = String(Math.floor((o.at ?? Date.now()) / 1000));
    const signature = `v0=${createHmac('sha256', o.secret ?? SIGNING_SECRET)
      .update(`v0:${ts}:${body}`)
      .digest('hex')}`;
    return () =>
      fetch(`${daemon.apiUrl}/hooks/slack`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': signature },
        body,
      }).then((r) => r.status);
  }

  it('Acknowledge: recorded with the Slack user, the message updated; forged, stale and replayed clicks change nothing', async () => {
    await runPipelineText(local.store, FAILING, path.join(dataDir, 'w1'));
    const message = (await waitFor(() => incoming()[0], { timeoutMs: 30_000, what: 'the failure message' })).json as Record<string, unknown>;
    const buttons = JSON.stringify(message.blocks);
    expect(buttons).toContain('"action_id":"srw_ack"');
    expect(buttons).toContain('"action_id":"srw_silence_1h"');
    expect(buttons).toContain('"action_id":"srw_silence_4h"');

    expect(await click(message, 'srw_ack', { secret: 'a-forged-secret-0123456789abcdef' })()).toBe(401);
    expect(await click(message, 'srw_ack', { at: Date.now() - 6 * 60_000 })()).toBe(400);
    const ackAlert = async () =>
      ((await (await fetch(`${daemon.apiUrl}/alerts`)).json()) as { alerts: { key: string; acked?: { by: string } }[] }).alerts.find(
        (a) => a.key === 'local/slk/step/train',
      );
    expect((await ackAlert())!.acked).toBeUndefined();

    const send = click(message, 'srw_ack');
    expect(await send()).toBe(200);
    await waitFor(() => responses().length > 0, { what: 'the answer through response_url' });
    const answered = responses()[0]!.json as { replace_original: boolean; blocks: { type: string; block_id?: string; elements?: { text?: string }[] }[] };
    expect(answered.replace_original).toBe(true);
    // The buttons are replaced by one: Unacknowledge (issue 36).
    const offered = JSON.stringify(answered.blocks.filter((b) => b.block_id === 'srw_alert_actions'));
    expect([offered.includes('"action_id":"srw_unack"'), offered.includes('"action_id":"srw_ack"')]).toEqual([true, false]);
    expect(answered.blocks.at(-1)!.elements![0]!.text).toBe('Acknowledged by @jane');
    expect((await ackAlert())!.acked).toMatchObject({ by: '@jane (Slack)' });
    expect(await send()).toBe(400); // the same signed request again: a replay

    // Unacknowledge: taken back, the message offers Acknowledge again, and says who took it back (once, not stacked).
    expect(await click(answered as unknown as Record<string, unknown>, 'srw_unack')()).toBe(200);
    await waitFor(() => responses().length > 1, { what: 'the answer to Unacknowledge' });
    const back = responses()[1]!.json as { blocks: { block_id?: string; elements?: { text?: string }[] }[] };
    expect(JSON.stringify(back.blocks.filter((b) => b.block_id === 'srw_alert_actions'))).toContain('"action_id":"srw_ack"');
    expect(back.blocks.filter((b) => b.block_id === 'srw_alert_said').map((b) => b.elements![0]!.text)).toEqual(['Acknowledgement taken back by @jane']);
    expect((await ackAlert())!.acked).toBeUndefined();
  });

  it('Silence 1h: a silence on the alert’s key fields; the step’s next failure is silenced', async () => {
    const message = incoming()[0]!.json as Record<string, unknown>;
    expect(await click(message, 'srw_silence_1h')()).toBe(200);
    const silences = await waitFor(
      async () => {
        const list = (
          (await (await fetch(`${daemon.apiUrl}/silences`)).json()) as {
            silences: { matchers: { name: string; op: string; value: string }[]; createdBy?: string }[];
          }
        ).silences;
        return list.length ? list : undefined;
      },
      { what: 'the silence' },
    );
    expect(silences[0]).toMatchObject({
      matchers: [
        { name: 'provider', op: '=', value: 'local' },
        { name: 'experiment', op: '=', value: 'slk' },
        { name: 'step', op: '=', value: 'train' },
      ],
      createdBy: '@jane',
    });
    const before = incoming().length;
    await runPipelineText(local.store, FAILING, path.join(dataDir, 'w2'));
    const deliveries = new DeliveryStore(redis, daemon.keys);
    await waitFor(async () => (await deliveries.list({ limit: 50 })).some((d) => d.status === 'silenced'), {
      timeoutMs: 30_000,
      what: 'the next failure silenced',
    });
    expect(incoming()).toHaveLength(before);
  });

  it('the live message: a failure’s reply in its thread carries the same buttons, and Acknowledge from it is recorded', async () => {
    const failing = 'experiment: slk\nsteps:\n  - { name: evaluate, run: "echo worse >&2; exit 4" }\n';
    await runPipelineText(local.store, failing, path.join(dataDir, 'w3'));
    const reply = await waitFor(
      () => slackApi.calls.find((c) => c.method === 'chat.postMessage' && c.args.thread_ts && JSON.stringify(c.args.blocks ?? '').includes('evaluate')),
      { timeoutMs: 30_000, what: 'the failure’s reply in the live message’s thread' },
    );
    const blocks = reply.args.blocks as { type: string; block_id?: string; text?: { text: string } }[];
    expect(blocks[0]!.text!.text).toContain('worse');
    expect(blocks.map((b) => b.block_id)).toContain('srw_alert_actions');
    const answeredBefore = responses().length;
    expect(await click({ text: reply.args.text, blocks }, 'srw_ack')()).toBe(200);
    await waitFor(() => responses().length > answeredBefore, { what: 'the reply updated through response_url' });
    const answered = responses().at(-1)!.json as { blocks: { block_id?: string; text?: { text: string }; elements?: { text?: string }[] }[] };
    expect(answered.blocks[0]!.text!.text).toContain('worse');
    expect(JSON.stringify(answered.blocks.filter((b) => b.block_id === 'srw_alert_actions'))).not.toContain('"action_id":"srw_ack"');
    expect(answered.blocks.at(-1)!.elements![0]!.text).toBe('Acknowledged by @jane');
    const alerts = ((await (await fetch(`${daemon.apiUrl}/alerts`)).json()) as { alerts: { key: string; acked?: { by: string } }[] }).alerts;
    expect(alerts.find((a) => a.key === 'local/slk/step/evaluate')!.acked).toMatchObject({ by: '@jane (Slack)' });
  });

  // Issue 38, items 4 and 7: a signed click's response_url was followed to any host (127.0.0.1, 169.254.169.254,
  // Redis's port), and the clicking user's name went unescaped into the reply's mrkdwn.
  it('a response_url that is not Slack’s is not followed; the user’s name is escaped in the reply', async () => {
    const elsewhere = new WebhookReceiver();
    const elsewhereUrl = await elsewhere.start();
    try {
      const message = incoming()[0]!.json as Record<string, unknown>;
      const answered = responses().length;
      expect(await click(message, 'srw_silence_4h', { responseUrl: `${elsewhereUrl}/respond` })()).toBe(200);
      await timePasses(800, 'the daemon would have posted to the response_url by now');
      expect(elsewhere.received).toEqual([]);
      expect(await click(message, 'srw_silence_4h', { user: '<!channel> *x*' })()).toBe(200);
      await waitFor(() => responses().length > answered, { what: 'the answer with the escaped name' });
      expect(JSON.stringify(responses().at(-1)!.json)).toContain('@&lt;!channel&gt; *x*');
      expect(JSON.stringify(responses().at(-1)!.json)).not.toContain('<!channel>');
    } finally {
      await elsewhere.close();
    }
  });
});
