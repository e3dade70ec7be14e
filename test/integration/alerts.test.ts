// Alerts that behave like on-call alerts — one page per failure, resolved by the next good run, silences.
import * as path from 'node:path';
import type { Daemon } from '../../src/runtime/daemon';
import { LocalProvider } from '../../src/providers/local/provider';
import { parsePipelineText } from '../../src/providers/local/pipeline-file';
import { runPipeline } from '../../src/providers/local/pipeline-runner';
import { AlertStore } from '../../src/alerts/alert-store';
import { SilenceStore } from '../../src/alerts/silences';
import { DeliveryStore } from '../../src/store/deliveries';
import { TrackStore, trackFromRequest } from '../../src/store/tracks';
import { systemClock } from '../../src/util/clock';
import { startDaemon, testConfig } from '../support/daemon';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';
import { untilQuiet } from '../support/quiet';
import { waitFor } from '../support/wait-for';
import { WebhookReceiver } from '../support/webhook-receiver';

const redis = testRedis();
const prefix = uniquePrefix('alerts');
const dataDir = tempDir('alerts');
const local = new LocalProvider({ root: path.join(dataDir, 'runs') });
const pd = new WebhookReceiver();
const slack = new WebhookReceiver();
let daemon: Daemon;

const PIPE = `
experiment: nightly
steps:
  - { name: prep, run: 'echo ok' }
  - { name: train, run: 'if [ -n "$FAIL" ]; then echo "CUDA out of memory" >&2; exit 3; fi', needs: [prep] }
`;

async function runNightly(env: Record<string, string>) {
  const pipeline = parsePipelineText(PIPE);
  for (const step of pipeline.steps) step.env = { ...step.env, ...env };
  return runPipeline({ store: local.store, pipeline, baseDir: path.join(dataDir, 'work'), name: 'nightly-train' });
}

/** Waits until `n` bodies arrived and the daemon has nothing left to deliver: a duplicate would have come by then. */
async function settle(receiver: WebhookReceiver, n: number): Promise<void> {
  await waitFor(async () => receiver.received.length >= n, { timeoutMs: 30_000, what: `${n} webhook(s)` });
  await untilQuiet(redis, prefix);
}

beforeAll(async () => {
  const [pdUrl, slackUrl] = [await pd.start(), await slack.start()];
  daemon = await startDaemon(
    testConfig({
      prefix,
      dataDir,
      extra: {
        notifiers: {
          console: { type: 'console' },
          pd: { type: 'webhook', format: 'pagerduty', url: pdUrl, routingKey: 'R0UT1NG' },
          slack: { type: 'webhook', format: 'slack', url: slackUrl },
        },
        routes: [
          { match: {}, notify: ['console'] },
          { match: { type: ['steprun.failed', 'pipelinerun.failed'] }, notify: ['pd', 'slack'], group: { by: ['pipelineRunId'], wait: '1s', interval: '1s' } },
        ],
      },
    }),
  );
  await new TrackStore(redis, daemon.keys, systemClock).add(trackFromRequest({ provider: 'local', experiment: 'nightly' }, 'cli', Date.now() - 1000));
});

afterAll(async () => {
  await daemon.stop();
  await pd.close();
  await slack.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('alert lifecycle across runs', () => {
  it('run 1 fails at train: one trigger with key K (the pipeline failure inhibited by it); run 2 finishes: one resolve with K', async () => {
    const first = await runNightly({ FAIL: '1' });
    expect(first.status).toBe('Failed');
    await settle(pd, 1);
    expect(pd.received).toHaveLength(1);
    const trigger = pd.received[0]!.json as { event_action: string; dedup_key: string; payload: { custom_details: { firingCount?: number } } };
    expect(trigger.event_action).toBe('trigger');
    // One incident per group (issue 36): the key is the group's, stable for its life.
    expect(trigger.dedup_key).toMatch(/^steprun-watch\/g[0-9a-f]{20}$/);
    // The pipeline's failure is inhibited by the step's open, paged alert: not a second page, not in this one.
    expect(trigger.payload.custom_details).toMatchObject({ firingCount: 1 });
    const inhibited = (await new DeliveryStore(redis, daemon.keys).list({ limit: 50 })).filter(
      (d) => d.eventType === 'pipelinerun.failed' && d.notifier === 'pd',
    );
    expect(inhibited.map((d) => [d.status, d.reason])).toEqual([['inhibited', 'inhibited by local/nightly/step/train (already paged)']]);
    await settle(slack, 1);
    expect(slack.received).toHaveLength(1);

    const alerts = await new AlertStore(redis, daemon.keys).list();
    expect(alerts.map((a) => [a.key, a.notifiers])).toEqual(
      expect.arrayContaining([
        ['local/nightly/step/train', ['console', 'pd', 'slack']],
        // Inhibited on the pager (train's alert paged it there); console and slack (in train's group) were sent it.
        ['local/nightly/pipeline/nightly-train', ['console', 'slack']],
      ]),
    );

    const second = await runNightly({});
    expect(second.status).toBe('Finished');
    await settle(pd, 2);
    expect(pd.received).toHaveLength(2);
    expect(pd.received[1]!.json).toEqual({ routing_key: 'R0UT1NG', event_action: 'resolve', dedup_key: trigger.dedup_key });
    // Slack was sent both alerts (the pipeline's rode in train's group): both resolves ride in that group's next
    // message, as Alertmanager sends a group's resolved alerts — one message, not one per alert.
    await settle(slack, 2);
    expect(slack.received).toHaveLength(2);
    const resolved = JSON.stringify(slack.received[1]!.json);
    expect(resolved.match(/Resolved/g)?.length).toBeGreaterThanOrEqual(2);
    expect(resolved).toContain('local/nightly/step/train');
    expect(resolved).toContain(second.pipelineRunId);
    expect(await new AlertStore(redis, daemon.keys).list()).toEqual([]);
  });

  it('a silence suppresses what it matches (its pipeline failure inhibited), shown in deliveries, and the alerts resolve silently', async () => {
    const silences = new SilenceStore(redis, daemon.keys);
    const s = await silences.add(
      { matchers: { experiment: 'nightly', type: 'steprun.failed' }, durationMs: 3_600_000, comment: 'known quota issue' },
      Date.now(),
    );
    const before = { pd: pd.received.length, slack: slack.received.length };
    const run = await runNightly({ FAIL: '1' });
    const deliveries = new DeliveryStore(redis, daemon.keys);
    await waitFor(async () => (await deliveries.list({ limit: 200 })).some((d) => d.status === 'silenced' && d.notifier === 'pd'), {
      what: 'a silenced delivery',
    });
    // The pipeline's failure is not silenced (type differs), but inhibited: its only failed step is silenced.
    await waitFor(async () => (await deliveries.list({ limit: 200 })).some((d) => d.status === 'inhibited' && d.eventType === 'pipelinerun.failed'), {
      what: 'an inhibited pipeline failure',
    });
    await untilQuiet(redis, prefix);
    expect(pd.received).toHaveLength(before.pd);
    expect(slack.received).toHaveLength(before.slack);
    const silenced = (await deliveries.list({ limit: 200 })).filter((d) => d.status === 'silenced');
    expect(silenced.every((d) => d.silencedBy === s.id)).toBe(true);
    expect(silenced.map((d) => d.notifier).sort()).toEqual(['console', 'pd', 'slack']);
    expect(run.status).toBe('Failed');
    await silences.expire(s.id, Date.now());
    // The next good run resolves both alerts, silently: neither was sent to anyone.
    await runNightly({});
    await waitFor(async () => (await new AlertStore(redis, daemon.keys).list()).length === 0, { what: 'both alerts resolved' });
    await untilQuiet(redis, prefix);
    expect(pd.received).toHaveLength(before.pd);
  });
});

describe('over HTTP', () => {
  async function call(method: string, route: string, body?: unknown) {
    const res = await fetch(`${daemon.apiUrl}${route}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as any };
  }

  it('GET /alerts, silences added, listed and expired, POST /routes/test for an event of the stream', async () => {
    const alerts = await call('GET', '/alerts');
    expect(alerts.status).toBe(200);
    expect(Array.isArray(alerts.json.alerts)).toBe(true);
    const added = await call('POST', '/silences', { match: 'experiment=nightly,step=train', for: '30m', comment: 'deploy' });
    expect(added.status).toBe(201);
    const id = added.json.silence.id as string;
    expect((await call('GET', '/silences')).json.silences.map((s: { id: string }) => s.id)).toContain(id);
    expect((await call('POST', '/silences', { match: 'colour=red', for: '30m' })).status).toBe(400);
    expect((await call('POST', '/silences', { match: 'experiment=x', for: 'soon' })).status).toBe(400);

    const [, fields] = (await redis.xrevrange(daemon.keys.events, '+', '-', 'COUNT', 1))[0]!;
    const eventId = JSON.parse(fields[1]!).id as string;
    const explained = await call('POST', '/routes/test', { eventId });
    expect(explained.status).toBe(200);
    expect(explained.json.event.id).toBe(eventId);
    expect(explained.json.routes).toHaveLength(2);
    expect((await call('POST', '/routes/test', { eventId: 'enope' })).status).toBe(404);

    const expired = await call('DELETE', `/silences/${id}`);
    expect(expired.status).toBe(200);
    expect(expired.json.silence.endsAt).toBeLessThanOrEqual(Date.now());
    expect((await call('DELETE', '/silences/snope')).status).toBe(404);
  });
});
