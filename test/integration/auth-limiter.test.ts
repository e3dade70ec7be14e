// Wrong tokens, sign-ins and hook secrets are limited per client address (429 + Retry-After,
// counted in /metrics), and Event Grid's batches up to 1 MiB are taken while larger bodies stay refused.
import * as http from 'node:http';
import type { Daemon } from '../../src/runtime/daemon';
import { AzureMlServer, azureOptions } from '../support/azureml-server';
import { startDaemon, testConfig } from '../support/daemon';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';

const TOKEN = 'guessing-test-token-0123456789abcdefghij';
const HOOK_SECRET = 'event-grid-secret-0123456789';
const redis = testRedis();
const prefix = uniquePrefix('guess');
const azureml = new AzureMlServer();
let daemon: Daemon;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request from a chosen loopback address (127.0.0.2, 127.0.0.3 ...): each is another client to the limiter. */
function request(from: string, path: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${daemon.apiUrl}${path}`, { method: o.method ?? 'GET', headers: o.headers, localAddress: from }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  await azureml.start();
  daemon = await startDaemon(
    testConfig({
      prefix,
      dataDir: tempDir('guess'),
      extra: {
        providers: { local: { type: 'local' }, aml: azureOptions(azureml, { timeoutMs: 5000 }) },
        api: { listen: '127.0.0.1:0', token: TOKEN, eventGrid: { provider: 'aml', secret: HOOK_SECRET } },
      },
    }),
  );
});

afterAll(async () => {
  await daemon.stop();
  await azureml.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('failed credentials are limited per client address', () => {
  it('the 11th wrong bearer token within a minute is answered 429 with Retry-After; the right one then waits too; other clients are not affected', async () => {
    for (let i = 0; i < 10; i++) expect((await request('127.0.0.2', '/tracks', { headers: bearer(`wrong-${i}`) })).status).toBe(401);
    const limited = await request('127.0.0.2', '/tracks', { headers: bearer('wrong-10') });
    expect(limited.status).toBe(429);
    expect(JSON.parse(limited.body).error.code).toBe('SRW_TOO_MANY_FAILURES');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    // While limited, even the right token gets no answer about itself: guessing learns nothing.
    expect((await request('127.0.0.2', '/tracks', { headers: bearer(TOKEN) })).status).toBe(429);
    expect((await request('127.0.0.3', '/tracks', { headers: bearer(TOKEN) })).status).toBe(200);
    // Health stays open to everyone (probes must not be locked out).
    expect((await request('127.0.0.2', '/healthz')).status).toBe(200);
  });

  it('the sign-in form: wrong tokens are sent back to the form, then 429', async () => {
    const form = (token: string) =>
      request('127.0.0.4', '/ui/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: daemon.apiUrl! },
        body: new URLSearchParams({ token, next: '/ui/' }).toString(),
      });
    for (let i = 0; i < 10; i++) {
      const r = await form(`wrong-${i}`);
      expect(r.status).toBe(303);
      expect(r.headers.location).toContain('failed=1');
    }
    const limited = await form(TOKEN);
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
  });

  it('the Event Grid hook secret is limited the same way', async () => {
    for (let i = 0; i < 10; i++)
      expect(
        (await request('127.0.0.5', `/hooks/eventgrid?secret=wrong-${i}`, { method: 'POST', body: '[]', headers: { 'content-type': 'application/json' } }))
          .status,
      ).toBe(401);
    expect(
      (await request('127.0.0.5', `/hooks/eventgrid?secret=${HOOK_SECRET}`, { method: 'POST', body: '[]', headers: { 'content-type': 'application/json' } }))
        .status,
    ).toBe(429);
  });

  it('/metrics counts refused credentials and limited requests', async () => {
    const text = (await request('127.0.0.6', '/metrics', { headers: bearer(TOKEN) })).body;
    const count = (outcome: string) => Number(new RegExp(`^srw_api_auth_failures_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    expect(count('refused')).toBeGreaterThanOrEqual(30);
    expect(count('limited')).toBeGreaterThanOrEqual(3);
  });
});

describe('POST /hooks/eventgrid takes what Event Grid sends', () => {
  /** A batch of RunStatusChanged events padded to about `bytes`. */
  function batch(bytes: number): string {
    const event = (i: number, pad: string) => ({
      id: `e${i}`,
      eventType: 'Microsoft.MachineLearningServices.RunStatusChanged',
      subject: `experiments/x/runs/r${i}`,
      eventTime: '2026-12-05T00:00:00Z',
      dataVersion: '2',
      data: { experimentName: 'big', runId: `r${i}`, runStatus: 'Running', runTags: { 'azureml.pipelinerunid': 'p1' }, padding: pad },
    });
    const events = [];
    for (let i = 0; JSON.stringify(events).length < bytes - 2000; i++) events.push(event(i, 'x'.repeat(1500)));
    return JSON.stringify(events);
  }

  it('a 1,000,000-byte batch is accepted (it was refused over 64 KiB); a body over 1 MiB is 413', async () => {
    const body = batch(1_000_000);
    expect(Buffer.byteLength(body)).toBeGreaterThan(990_000);
    const ok = await request('127.0.0.7', `/hooks/eventgrid?secret=${HOOK_SECRET}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).runs).toBeGreaterThan(0);
    const over = await request('127.0.0.7', `/hooks/eventgrid?secret=${HOOK_SECRET}`, {
      method: 'POST',
      body: batch(1_100_000),
      headers: { 'content-type': 'application/json' },
    });
    expect(over.status).toBe(413);
  });
});
