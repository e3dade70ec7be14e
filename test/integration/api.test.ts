// The HTTP API over real HTTP: every route, with 400/401/404; /metrics moves when events flow; /readyz follows Redis.
import * as path from 'node:path';
import type { Daemon } from '../../src/runtime/daemon';
import type { WatchEvent } from '../../src/store/events';
import { LocalProvider } from '../../src/providers/local/provider';
import { startDaemon, testConfig } from '../support/daemon';
import { execStep } from '../support/local-runs';
import { parsePrometheus, sumOf } from '../support/prometheus';
import { dropPrefix, freePort, PrivateRedis, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';
import { waitFor } from '../support/wait-for';
import { WebhookReceiver } from '../support/webhook-receiver';

const TOKEN = 'api-token-for-tests';
const redis = testRedis();
const prefix = uniquePrefix('api');
const dataDir = tempDir('api');
const receiver = new WebhookReceiver();
const local = new LocalProvider({ root: path.join(dataDir, 'runs') });
let daemon: Daemon;
let base: string;

async function call(
  method: string,
  route: string,
  o: { body?: unknown; token?: string | null; raw?: string } = {},
): Promise<{ status: number; json: any; text: string }> {
  const token = o.token === undefined ? TOKEN : o.token;
  const res = await fetch(`${base}${route}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
    body: o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body)),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

beforeAll(async () => {
  const hook = await receiver.start();
  receiver.fallback = { status: 404 };
  const config = testConfig({
    prefix,
    dataDir,
    extra: {
      api: { listen: '127.0.0.1:0', token: TOKEN },
      notifiers: { console: { type: 'console' }, hook: { type: 'webhook', url: hook } },
      routes: [
        { match: {}, notify: ['console'] },
        { match: { type: 'steprun.failed' }, notify: ['hook'] },
      ],
    },
  });
  daemon = await startDaemon(config);
  base = daemon.apiUrl!;
});

afterAll(async () => {
  await daemon.stop();
  await receiver.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('HTTP API', () => {
  it('binds to localhost by default', async () => {
    expect(new URL(base).hostname).toBe('127.0.0.1');
  });

  it('healthz and readyz answer without a token; everything else needs it (401)', async () => {
    expect(await call('GET', '/healthz', { token: null })).toMatchObject({ status: 200, json: { status: 'ok' } });
    expect(await call('GET', '/readyz', { token: null })).toMatchObject({ status: 200, json: { status: 'ready' } });
    for (const [method, route] of [
      ['GET', '/tracks'],
      ['POST', '/tracks'],
      ['GET', '/events'],
      ['GET', '/deliveries'],
      ['GET', '/metrics'],
      ['DELETE', '/tracks/x'],
      ['POST', '/deliveries/x/retry'],
    ]) {
      expect((await call(method!, route!, { token: null })).status).toBe(401);
      expect((await call(method!, route!, { token: 'wrong' })).status).toBe(401);
    }
  });

  it('POST /tracks validates the body like the CLI, naming the bad field (400)', async () => {
    expect(await call('POST', '/tracks', { body: { provider: 'local' } })).toMatchObject({
      status: 400,
      json: { error: { code: 'SRW_INVALID_INPUT', message: expect.stringContaining('a track needs one of experiment, pipelineRun or stepRun') } },
    });
    expect(await call('POST', '/tracks', { body: { experiment: 'e', labels: { a: 1 } } })).toMatchObject({
      status: 400,
      json: { error: { message: expect.stringContaining('labels.a') } },
    });
    expect(await call('POST', '/tracks', { body: { experiment: 'e', colour: 'red' } })).toMatchObject({
      status: 400,
      json: { error: { message: expect.stringContaining('colour') } },
    });
    expect(await call('POST', '/tracks', { body: { provider: 'prod', experiment: 'e' } })).toMatchObject({
      status: 400,
      json: { error: { message: expect.stringContaining('unknown provider "prod"') } },
    });
    expect(await call('POST', '/tracks', { raw: '{not json' })).toMatchObject({ status: 400, json: { error: { message: 'request body is not valid JSON' } } });
    expect(await call('POST', '/tracks', { body: { pipelineRun: 'no_such_run' } })).toMatchObject({
      status: 404,
      json: { error: { code: 'SRW_RUN_NOT_FOUND' } },
    });
  });

  it('POST, GET, GET by id and DELETE /tracks', async () => {
    const created = await call('POST', '/tracks', { body: { experiment: 'apix', labels: { team: 'ml' } } });
    expect(created).toMatchObject({
      status: 201,
      json: { added: true, track: { kind: 'experiment', experiment: 'apix', labels: { team: 'ml' }, source: 'api' } },
    });
    const id = created.json.track.id as string;
    expect(await call('POST', '/tracks', { body: { experiment: 'apix' } })).toMatchObject({ status: 200, json: { added: false, track: { id } } });
    expect((await call('GET', '/tracks')).json.tracks.map((t: { id: string }) => t.id)).toContain(id);
    expect(await call('GET', `/tracks/${id}`)).toMatchObject({ status: 200, json: { track: { id } } });
    expect(await call('DELETE', `/tracks/${id}`)).toMatchObject({ status: 204 });
    expect(await call('GET', `/tracks/${id}`)).toMatchObject({ status: 404, json: { error: { code: 'SRW_TRACK_NOT_FOUND' } } });
    expect(await call('DELETE', `/tracks/${id}`)).toMatchObject({ status: 404 });
  });

  it('unknown routes are 404, wrong methods 405', async () => {
    expect(await call('GET', '/nope')).toMatchObject({ status: 404 });
    expect(await call('PUT', '/tracks')).toMatchObject({ status: 405 });
  });

  it('events flow: GET /events?after pages, the SSE stream pushes, deliveries list and retry, metrics move', async () => {
    const before = parsePrometheus((await call('GET', '/metrics')).text);
    const sse = new AbortController();
    const streamed: string[] = [];
    const stream = fetch(`${base}/events/stream`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: sse.signal })
      .then(async (res) => {
        expect(res.headers.get('content-type')).toBe('text/event-stream');
        const decoder = new TextDecoder();
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) streamed.push(decoder.decode(chunk));
      })
      .catch(() => undefined);

    const r = await execStep(local.store, { experiment: 'apiev', step: 'bad', script: 'exit 5', cwd: dataDir });
    expect(await call('POST', '/tracks', { body: { pipelineRun: r.pipelineRunId } })).toMatchObject({ status: 201 });
    await waitFor(async () => (await call('GET', '/deliveries?status=failed')).json.deliveries.length === 1, { timeoutMs: 20000, what: 'a dead letter' });

    const page1 = await call('GET', '/events?limit=1');
    expect(page1.json.events).toHaveLength(1);
    const page2 = await call('GET', `/events?after=${page1.json.cursor}&limit=100`);
    const types = [...page1.json.events, ...page2.json.events].map((e: { event: { type: string } }) => e.event.type);
    expect(types).toEqual(['steprun.failed', 'pipelinerun.failed']);
    expect(await call('GET', '/events?after=bogus')).toMatchObject({ status: 400 });
    expect(await call('GET', '/events?limit=0')).toMatchObject({ status: 400, json: { error: { message: expect.stringContaining('limit') } } });

    await waitFor(() => streamed.join('').includes('event: pipelinerun.failed'), { what: 'SSE events' });
    expect(streamed.join('')).toMatch(/id: \d+-\d+\nevent: steprun\.failed\ndata: \{/);
    sse.abort();
    await stream;

    const dead = (await call('GET', '/deliveries?status=failed')).json.deliveries[0];
    expect(dead).toMatchObject({ notifier: 'hook', status: 'failed', lastError: expect.stringContaining('HTTP 404') });
    expect(await call('GET', '/deliveries?status=weird')).toMatchObject({ status: 400 });
    expect((await call('GET', '/deliveries')).json.deliveries.length).toBeGreaterThanOrEqual(3);
    receiver.fallback = { status: 200 };
    expect(await call('POST', `/deliveries/${dead.id}/retry`)).toMatchObject({ status: 202 });
    await waitFor(async () => (await call('GET', '/deliveries?status=failed')).json.deliveries.length === 0, { what: 'retried' });
    // Who sent it again is on the record (here the shared bootstrap token).
    const retried = ((await call('GET', '/deliveries')).json.deliveries as { id: string }[]).find((x) => x.id === dead.id);
    expect(retried).toMatchObject({ retries: 1, retriedBy: 'api-token' });
    expect(await call('POST', '/deliveries/nope/retry')).toMatchObject({ status: 404, json: { error: { code: 'SRW_DELIVERY_NOT_FOUND' } } });
    expect(await call('POST', `/deliveries/${dead.id}/retry`)).toMatchObject({ status: 400 });

    const after = parsePrometheus((await call('GET', '/metrics')).text);
    expect(sumOf(after, 'srw_transitions_total', { type: 'steprun.failed' }) - sumOf(before, 'srw_transitions_total', { type: 'steprun.failed' })).toBe(1);
    expect(sumOf(after, 'srw_provider_calls_total') - sumOf(before, 'srw_provider_calls_total')).toBeGreaterThanOrEqual(2);
    expect(sumOf(after, 'srw_deliveries_total', { notifier: 'hook', outcome: 'dead' })).toBe(1);
    expect(sumOf(after, 'srw_deliveries_total', { notifier: 'hook', outcome: 'delivered' })).toBe(1);
    expect(sumOf(after, 'srw_detection_to_delivery_seconds_count', { notifier: 'console' })).toBeGreaterThanOrEqual(2);
    expect(sumOf(after, 'srw_provider_call_duration_seconds_count', { provider: 'local' })).toBeGreaterThan(0);
    expect(after.some((s) => s.name === 'srw_queue_jobs' && s.labels.queue === 'deliver')).toBe(true);
    expect(sumOf(after, 'srw_dead_letters')).toBe(0);
    expect(sumOf(after, 'srw_events_retained')).toBe(2);
  });

  it('a track that cannot be polled shows as failing in srw_tracked_targets', async () => {
    await call('POST', '/tracks', { body: { pipelineRun: 'vanished_run', verify: false } });
    const failing = await waitFor(
      async () => {
        const n = sumOf(parsePrometheus((await call('GET', '/metrics')).text), 'srw_tracked_targets', { provider: 'local', state: 'failing' });
        return n > 0 ? n : undefined;
      },
      { timeoutMs: 20000, what: 'failing gauge' },
    );
    expect(failing).toBe(1);
  });

  // Last: it adds a track.error and its resolve to the outbox the tests above read.
  it('DELETE /tracks of a track in error resolves its alert, saying it was untracked (it could never recover)', async () => {
    const created = await call('POST', '/tracks', { body: { pipelineRun: 'never_there', verify: false } });
    const id = created.json.track.id as string;
    const key = `track/${id}`;
    await waitFor(async () => ((await call('GET', '/alerts')).json.alerts as { key: string }[]).some((a) => a.key === key), { what: 'the track.error alert' });
    expect(await call('DELETE', `/tracks/${id}`)).toMatchObject({ status: 204 });
    expect(((await call('GET', '/alerts')).json.alerts as { key: string }[]).map((a) => a.key)).not.toContain(key);
    const entries = (await call('GET', '/events?limit=1000')).json.events as { event: WatchEvent }[];
    const resolves = entries.map((x) => x.event).filter((e) => e.type === 'alert.resolved' && e.alertKey === key);
    expect(resolves.map((e) => e.alert?.resolvedByHuman)).toEqual([expect.stringContaining('untracked')]);
  });
});

describe('/readyz', () => {
  it('turns 503 when Redis is stopped and 200 when it is back', async () => {
    const own = new PrivateRedis(await freePort(), tempDir('ready-redis'));
    await own.start();
    const d = await startDaemon(testConfig({ prefix: uniquePrefix('ready'), dataDir: tempDir('ready'), redisUrl: own.url }));
    try {
      const ready = async () => (await fetch(`${d.apiUrl}/readyz`)).status;
      expect(await ready()).toBe(200);
      await own.stop();
      await waitFor(async () => (await ready()) === 503, { what: '503' });
      expect((await fetch(`${d.apiUrl}/healthz`)).status).toBe(200);
      await own.start();
      await waitFor(async () => (await ready()) === 200, { timeoutMs: 20000, what: '200 again' });
    } finally {
      await d.stop();
      await own.stop();
    }
  });
});
