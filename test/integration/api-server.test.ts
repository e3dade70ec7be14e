// The daemon's HTTP surface under faults and hostile input. Real Redis, real HTTP.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateConfig } from '../../src/config/load';
import type { Daemon } from '../../src/runtime/daemon';
import { postJson } from '../../src/notify/notifiers/http';
import { startDaemon, testConfig } from '../support/daemon';
import { dropPrefix, freePort, PrivateRedis, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';
import { waitFor } from '../support/wait-for';

const redis = testRedis();
const prefixes: string[] = [];
function prefix(label: string): string {
  const p = uniquePrefix(label);
  prefixes.push(p);
  return p;
}

afterAll(async () => {
  for (const p of prefixes) await dropPrefix(redis, p);
  redis.disconnect();
});

/** A raw request, so that Host, Origin and content-type are exactly what a browser page would send. */
function request(url: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: o.method ?? 'GET', headers: o.headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

describe('9. the API answers within a bound while Redis is away', () => {
  it('tracks, metrics and events answer 503 SRW_REDIS_UNAVAILABLE; healthz stays 200, readyz 503', async () => {
    const own = new PrivateRedis(await freePort(), tempDir('api-away-redis'));
    await own.start();
    const d = await startDaemon(testConfig({ prefix: prefix('away'), dataDir: tempDir('away'), redisUrl: own.url }));
    try {
      expect((await request(`${d.apiUrl}/tracks`)).status).toBe(200);
      await own.stop();
      for (const route of ['/tracks', '/metrics', '/events', '/deliveries']) {
        const started = Date.now();
        const r = await request(`${d.apiUrl}${route}`);
        expect({ route, status: r.status, code: JSON.parse(r.body).error?.code }).toEqual({ route, status: 503, code: 'SRW_REDIS_UNAVAILABLE' });
        expect(Date.now() - started).toBeLessThan(10_000); // a bound, not a benchmark: before the fix this hung until Redis came back
      }
      const post = await request(`${d.apiUrl}/tracks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"experiment":"x"}' });
      expect(post.status).toBe(503);
      expect((await request(`${d.apiUrl}/healthz`)).status).toBe(200);
      expect((await request(`${d.apiUrl}/readyz`)).status).toBe(503);
    } finally {
      await own.start();
      await d.stop();
      await own.stop();
    }
  });
});

describe('10. SSE clients share one Redis reader', () => {
  it('60 clients on a Redis with maxclients 40: all served up to the cap, 429 beyond it, the daemon unharmed', async () => {
    const own = new PrivateRedis(await freePort(), tempDir('sse-redis'), ['--maxclients', '40']);
    await own.start();
    const d = await startDaemon(
      testConfig({ prefix: prefix('sse'), dataDir: tempDir('sse'), redisUrl: own.url, extra: { api: { listen: '127.0.0.1:0', maxStreamClients: 50 } } }),
    );
    const clients: http.ClientRequest[] = [];
    try {
      const statuses: number[] = [];
      const received: string[] = [];
      await Promise.all(
        Array.from(
          { length: 60 },
          () =>
            new Promise<void>((resolve) => {
              const req = http.get(`${d.apiUrl}/events/stream`, (res) => {
                statuses.push(res.statusCode ?? 0);
                res.on('data', (c: Buffer) => received.push(c.toString()));
                resolve();
              });
              req.on('error', () => resolve());
              clients.push(req);
            }),
        ),
      );
      expect(statuses.filter((s) => s === 200)).toHaveLength(50);
      expect(statuses.filter((s) => s === 429)).toHaveLength(10);
      // The daemon still reaches Redis, and an event appended now reaches the clients.
      expect((await request(`${d.apiUrl}/tracks`)).status).toBe(200);
      await d.connection.xadd(
        d.keys.events,
        '*',
        'event',
        JSON.stringify({ id: 'e1', type: 'steprun.failed', trackId: 't', provider: 'local', experiment: 'x', labels: {} }),
      );
      await waitFor(async () => received.filter((t) => t.includes('"id":"e1"')).length === 50, { what: 'the event at all 50 clients' });
      const connections = (await d.connection.client('LIST')) as string;
      expect(connections.trim().split('\n').length).toBeLessThan(20);
    } finally {
      clients.forEach((c) => c.destroy());
      await d.stop();
      await own.stop();
    }
  });
});

describe('11. webhook responses are read only as far as an error message needs', () => {
  let server: http.Server;
  let base: string;
  let written = 0;
  let closed: Promise<void>;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      if (req.url === '/busy') {
        res.writeHead(429, { 'retry-after': '1.5' });
        return void res.end('slow down');
      }
      if (req.url === '/redirect') {
        res.writeHead(302, { location: 'https://elsewhere.example/hook' });
        return void res.end();
      }
      // 500 with an endless body: only a reader that stops early gets out.
      res.writeHead(500, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      closed = new Promise((resolve) => res.on('close', () => resolve()));
      const pump = (): void => {
        while (!res.destroyed && written < 200 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());

  it('a 500 with a huge body: the delivery fails (retryable) after reading a few KB', async () => {
    await expect(postJson({ url: `${base}/big`, body: '{}', headers: {}, timeoutMs: 30_000 })).rejects.toMatchObject({ retryable: true, message: /HTTP 500/ });
    await closed;
    expect(written).toBeLessThan(16 * 1024 * 1024);
  });

  it('a 429 with "Retry-After: 1.5" waits 1.5 s (seconds, not a date)', async () => {
    await expect(postJson({ url: `${base}/busy`, body: '{}', headers: {}, timeoutMs: 5000 })).rejects.toMatchObject({ retryable: true, retryAfterMs: 1500 });
  });

  it('a 3xx is not retried: it fails at once, naming the Location', async () => {
    await expect(postJson({ url: `${base}/redirect`, body: '{}', headers: {}, timeoutMs: 5000 })).rejects.toMatchObject({
      retryable: false,
      message: expect.stringContaining('https://elsewhere.example/hook'),
    });
  });
});

describe('12. not reachable from a browser page without a token', () => {
  let d: Daemon;
  let host: string;
  beforeAll(async () => {
    d = await startDaemon(testConfig({ prefix: prefix('browser'), dataDir: tempDir('browser') }));
    host = new URL(d.apiUrl!).host;
  });
  afterAll(async () => d.stop());

  const track = JSON.stringify({ experiment: 'from-a-page' });

  it('a write without application/json is refused (415)', async () => {
    const r = await request(`${d.apiUrl}/tracks`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: track });
    expect(r.status).toBe(415);
  });

  it('a cross-origin write is refused (403)', async () => {
    const r = await request(`${d.apiUrl}/tracks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://evil.example' },
      body: track,
    });
    expect(r.status).toBe(403);
  });

  it('a foreign Host (DNS rebinding) is refused, for reads too (421)', async () => {
    expect((await request(`${d.apiUrl}/tracks`, { headers: { host: 'evil.example:8787' } })).status).toBe(421);
    expect(
      (await request(`${d.apiUrl}/tracks`, { method: 'POST', headers: { host: 'evil.example', 'content-type': 'application/json' }, body: track })).status,
    ).toBe(421);
  });

  it('the same request from its own origin and host goes through', async () => {
    const r = await request(`${d.apiUrl}/tracks`, { method: 'POST', headers: { 'content-type': 'application/json', origin: `http://${host}` }, body: track });
    expect(r.status).toBe(201);
    expect((await request(`${d.apiUrl}/tracks`, { headers: { host: `localhost:${new URL(d.apiUrl!).port}` } })).status).toBe(200);
  });

  it('server timeouts are set', () => {
    const server = (d as unknown as { api: { server: http.Server } }).api.server;
    expect(server.headersTimeout).toBeGreaterThan(0);
    expect(server.headersTimeout).toBeLessThanOrEqual(60_000);
    expect(server.requestTimeout).toBeGreaterThan(0);
    expect(server.requestTimeout).toBeLessThanOrEqual(120_000);
  });

  it('a non-loopback listen without a token, or an empty token, is a config error', () => {
    const base = { providers: { local: { type: 'local' } } };
    expect(() => validateConfig({ ...base, api: { listen: '0.0.0.0:8787' } }, { env: {} })).toThrow(/api.token/);
    expect(() => validateConfig({ ...base, api: { listen: '0.0.0.0:8787', token: '' } }, { env: {} })).toThrow(/api.token/);
    expect(() => validateConfig({ ...base, api: { listen: '127.0.0.1:8787', token: '' } }, { env: {} })).toThrow(/api.token/);
    // Beyond loopback the token must not be guessable: 32 characters at least (issue 23).
    expect(() => validateConfig({ ...base, api: { listen: '0.0.0.0:8787', token: 'an-18-chars-secret' } }, { env: {} })).toThrow(/at least 32/);
    expect(() => validateConfig({ ...base, api: { listen: '0.0.0.0:8787', token: 'a-long-enough-secret-0123456789ab' } }, { env: {} })).not.toThrow();
  });

  it('beyond loopback, sign-in (api.oidc) guards the API without a token; a worker-only listen still needs one', () => {
    const base = { providers: { local: { type: 'local' } } };
    const oidc = { issuer: 'https://login.microsoftonline.com/tenant/v2.0', clientId: 'app', roles: { viewer: ['*'] } };
    expect(() => validateConfig({ ...base, api: { listen: '0.0.0.0:8787', publicUrl: 'https://srw.example.com', oidc } }, { env: {} })).not.toThrow();
    // Where the provider sends the browser back must be an address a browser reaches.
    expect(() => validateConfig({ ...base, api: { listen: '0.0.0.0:8787', oidc } }, { env: {} })).toThrow(/api.oidc.redirectUrl: .*set api.publicUrl/);
    expect(() =>
      validateConfig(
        { ...base, api: { listen: '0.0.0.0:8787', publicUrl: 'https://srw.example.com', oidc }, workers: { listen: '0.0.0.0:8788' } },
        { env: {} },
      ),
    ).toThrow(/api.token: listening beyond loopback \(workers.listen 0.0.0.0:8788\)/);
  });
});

describe('13. small ones', () => {
  it('GET /tracks/%E0%A4%A answers 400, not 500', async () => {
    const d = await startDaemon(testConfig({ prefix: prefix('small'), dataDir: tempDir('small') }));
    try {
      const r = await request(`${d.apiUrl}/tracks/%E0%A4%A`);
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body).error.code).toBe('SRW_INVALID_INPUT');
    } finally {
      await d.stop();
    }
  });
});
