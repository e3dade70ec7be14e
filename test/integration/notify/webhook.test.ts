// The webhook notifier against a real HTTP receiver; signatures checked with an independent implementation of Standard Webhooks.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { failedStepEvent, pipelineFailedEvent, stepEventWith } from '../../support/events';
import { buildNotifier, deliveryContext } from '../../support/notifiers';
import { WebhookReceiver, type Received } from '../../support/webhook-receiver';

/** Standard Webhooks verification, written from the spec (https://www.standardwebhooks.com), not from our signer. */
function verifyStandardWebhook(r: Received, secret: string, toleranceSeconds = 300): boolean {
  const id = String(r.headers['webhook-id']);
  const timestamp = String(r.headers['webhook-timestamp']);
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.split('_')[1]!, 'base64') : Buffer.from(secret);
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${r.body}`).digest();
  return String(r.headers['webhook-signature'])
    .split(' ')
    .some((part) => {
      const [version, sig] = part.split(',');
      const given = Buffer.from(sig ?? '', 'base64');
      return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
    });
}

describe('webhook notifier', () => {
  const receiver = new WebhookReceiver();
  let url: string;

  beforeAll(async () => {
    url = await receiver.start();
  });
  afterAll(() => receiver.close());
  beforeEach(() => {
    receiver.received.length = 0;
    receiver.script.length = 0;
  });

  it('posts a signed CloudEvents 1.0 event', async () => {
    const hook = await buildNotifier({ type: 'webhook', url: `${url}/hook`, secret: 'plain-secret' });
    const event = failedStepEvent();
    await hook.deliver(event, deliveryContext('dlv-1'));
    const r = receiver.received[0]!;
    expect(verifyStandardWebhook(r, 'plain-secret')).toBe(true);
    expect(verifyStandardWebhook(r, 'other-secret')).toBe(false);
    expect(r.headers['webhook-id']).toBe('dlv-1');
    expect(r.headers['content-type']).toBe('application/cloudevents+json');
    expect(r.json).toEqual({
      specversion: '1.0',
      id: event.id,
      source: '/steprun-watch/local/experiments/churn',
      type: 'io.steprun-watch.steprun.failed',
      subject: 's_train1',
      time: event.time,
      datacontenttype: 'application/json',
      data: JSON.parse(JSON.stringify(event)),
    });
  });

  it('decodes a whsec_ secret as base64', async () => {
    const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
    const hook = await buildNotifier({ type: 'webhook', url, secret });
    await hook.deliver(failedStepEvent(), deliveryContext());
    expect(verifyStandardWebhook(receiver.received[0]!, secret)).toBe(true);
  });

  it('slack: text plus Block Kit blocks with the error and stderr', async () => {
    const hook = await buildNotifier({ type: 'webhook', url, format: 'slack' });
    await hook.deliver(failedStepEvent(), deliveryContext());
    const body = receiver.received[0]!.json as { text: string; blocks: { type: string; text?: { type: string; text: string } }[] };
    expect(body.text).toBe('[Failed] train · pipeline 1234 · experiment churn');
    expect(body.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: body.text } });
    expect(body.blocks.every((b) => ['header', 'section', 'context'].includes(b.type))).toBe(true);
    const sections = body.blocks.filter((b) => b.type === 'section').map((b) => b.text!);
    expect(sections.every((t) => t.type === 'mrkdwn' && t.text.length <= 3000)).toBe(true);
    expect(sections.map((t) => t.text).join('\n')).toContain('CUDA error: out of memory');
  });

  it('teams: a message with an Adaptive Card attachment', async () => {
    const hook = await buildNotifier({ type: 'webhook', url, format: 'teams' });
    await hook.deliver(pipelineFailedEvent(), deliveryContext());
    const body = receiver.received[0]!.json as {
      type: string;
      attachments: { contentType: string; content: { type: string; version: string; body: { type: string }[] } }[];
    };
    expect(body.type).toBe('message');
    expect(body.attachments[0]!.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(body.attachments[0]!.content).toMatchObject({ type: 'AdaptiveCard', version: '1.4' });
    expect(body.attachments[0]!.content.body.map((b) => b.type)).toEqual(['TextBlock', 'FactSet', 'TextBlock', 'TextBlock']);
  });

  it('pagerduty: trigger on failure with its alert key as dedup_key, resolve on alert.resolved with the same key, nothing for the rest', async () => {
    const hook = await buildNotifier({ type: 'webhook', url, format: 'pagerduty', routingKey: 'R0UT1NGKEY' });
    await hook.deliver({ ...failedStepEvent(), alertKey: 'local/churn/step/train' }, deliveryContext());
    const trigger = receiver.received[0]!.json as Record<string, unknown> & { payload: Record<string, unknown> };
    expect(trigger).toMatchObject({ routing_key: 'R0UT1NGKEY', event_action: 'trigger', dedup_key: 'steprun-watch/local/churn/step/train' });
    expect(trigger.payload).toMatchObject({
      summary: '[Failed] train · pipeline 1234 · experiment churn',
      severity: 'error',
      source: 'steprun-watch/local/churn',
      component: 'train',
      class: 'ExitCode3',
    });
    expect(Date.parse(String(trigger.payload.timestamp))).not.toBeNaN();
    const skipped = await hook.deliver(stepEventWith('Running', 'Queued'), deliveryContext());
    expect(skipped?.detail).toMatch(/skipped/);
    // A pipeline that finishes is not a resolve by itself: only its alert's alert.resolved is.
    const finished = await hook.deliver({ ...pipelineFailedEvent(), type: 'pipelinerun.finished' }, deliveryContext());
    expect(finished?.detail).toMatch(/skipped/);
    await hook.deliver(
      {
        ...pipelineFailedEvent(),
        type: 'alert.resolved',
        pipelineRun: undefined,
        alertKey: 'local/churn/step/train',
        alert: {
          key: 'local/churn/step/train',
          openedAt: new Date().toISOString(),
          openedBy: 'e1',
          openedType: 'steprun.failed',
          openedSummary: '[Failed] train',
          resolvedBy: 'e2',
          durationMs: 1000,
          notifiers: ['pd'],
        },
      },
      deliveryContext(),
    );
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1]!.json).toEqual({ routing_key: 'R0UT1NGKEY', event_action: 'resolve', dedup_key: 'steprun-watch/local/churn/step/train' });
  });

  it('classifies answers: 5xx/408/429 and timeouts retry (with Retry-After), other 4xx fail at once', async () => {
    const hook = await buildNotifier({ type: 'webhook', url, timeoutMs: 300 });
    receiver.script.push({ status: 503 }, { status: 429, headers: { 'retry-after': '7' } }, { status: 404 }, { status: 200, delayMs: 800 });
    await expect(hook.deliver(failedStepEvent(), deliveryContext())).rejects.toMatchObject({ retryable: true, message: expect.stringContaining('HTTP 503') });
    await expect(hook.deliver(failedStepEvent(), deliveryContext())).rejects.toMatchObject({ retryable: true, retryAfterMs: 7000 });
    await expect(hook.deliver(failedStepEvent(), deliveryContext())).rejects.toMatchObject({ retryable: false, message: expect.stringContaining('HTTP 404') });
    await expect(hook.deliver(failedStepEvent(), deliveryContext())).rejects.toMatchObject({
      retryable: true,
      message: expect.stringContaining('timed out after 300 ms'),
    });
  });

  it("the job's abort ends a POST in flight (a retryable failure), and leaves no listener behind", async () => {
    const hook = await buildNotifier({ type: 'webhook', url, timeoutMs: 10_000 });
    receiver.script.push({ status: 200, delayMs: 5000 }, { status: 200 });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 200);
    await expect(hook.deliver(failedStepEvent(), { ...deliveryContext(), signal: controller.signal })).rejects.toMatchObject({
      retryable: true,
      message: expect.stringContaining('ABORT_ERR'),
    });
    expect(Date.now() - started).toBeLessThan(4000);
    // An already aborted signal sends nothing; a finished POST takes its listener with it.
    await expect(hook.deliver(failedStepEvent(), { ...deliveryContext(), signal: controller.signal })).rejects.toMatchObject({ retryable: true });
    const live = new AbortController();
    await hook.deliver(failedStepEvent(), { ...deliveryContext(), signal: live.signal });
    expect(getEventListeners(live.signal, 'abort')).toHaveLength(0);
  });

  it('times a POST from when it is sent: deliveries waiting for a connection do not time out while the receiver answers each in time', async () => {
    // 700 at once, more than twice the 256 connections kept per receiver: three waves, each answered in 300 ms. The
    // third is sent ~600 ms after it was asked for; its answer, 300 ms later, is in time (800 ms) for what was sent.
    const hook = await buildNotifier({ type: 'webhook', url, timeoutMs: 800 });
    receiver.fallback = { status: 200, delayMs: 300 };
    try {
      const results = await Promise.allSettled(Array.from({ length: 700 }, (_, i) => hook.deliver(failedStepEvent(), deliveryContext(`dlv-wave-${i}`))));
      const failed = results.filter((r) => r.status === 'rejected');
      expect(failed.map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
      // (An earlier test's held request may be answered meanwhile: only this test's count.)
      expect(receiver.received.filter((r) => String(r.headers['webhook-id']).startsWith('dlv-wave-'))).toHaveLength(700);
    } finally {
      receiver.fallback = { status: 200 };
    }
  });

  it('never shows a token of the URL in its messages', async () => {
    const hook = await buildNotifier({ type: 'webhook', url: `${url}/services/T000/B000/SECRETPATHTOKEN?token=QUERYSECRET` });
    receiver.script.push({ status: 500 });
    const err = await hook.deliver(failedStepEvent(), deliveryContext()).catch((e: Error) => e);
    expect(String((err as Error).message)).not.toMatch(/SECRETPATHTOKEN|QUERYSECRET/);
  });

  it('refuses an invalid config, naming the field', async () => {
    await expect(buildNotifier({ type: 'webhook', url: 'not a url' }, { name: 'hook' })).rejects.toMatchObject({
      code: 'SRW_CONFIG_INVALID',
      message: expect.stringContaining('notifiers.hook.url'),
    });
    await expect(buildNotifier({ type: 'webhook', format: 'pagerduty' }, { name: 'pd' })).rejects.toMatchObject({
      message: expect.stringContaining('notifiers.pd.routingKey'),
    });
  });
});
