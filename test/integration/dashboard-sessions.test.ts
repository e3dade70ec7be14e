// Dashboard sessions: kept by the server, ended at sign-out and after 12 hours; the Origin check's ports (issue 38, item 6).
// dashboard sessions never ended — the cookie was an HMAC of the token, so signing out revoked
// nothing (a copied cookie kept working) and the server kept no expiry; and the Origin check compared host names but
// not ports (a page on another port of the same host signed the user out).
import type { Daemon } from '../../src/runtime/daemon';
import { startDaemon, testConfig } from '../support/daemon';
import { dropPrefix, freePort, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';

const TOKEN = 'session-test-token-0123456789abcdefghij';
const redis = testRedis();
const prefix = uniquePrefix('sessions');
let daemon: Daemon;

beforeAll(async () => {
  daemon = await startDaemon(testConfig({ prefix, dataDir: tempDir('sessions'), extra: { api: { listen: '127.0.0.1:0', token: TOKEN } } }));
});
afterAll(async () => {
  await daemon.stop();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

/** Signs in through the form as a browser does; returns the session cookie (`srw_session=…`). */
async function signIn(): Promise<string> {
  const res = await fetch(`${daemon.apiUrl}/ui/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: daemon.apiUrl! },
    body: new URLSearchParams({ token: TOKEN, next: '/ui/alerts' }).toString(),
  });
  expect(res.status).toBe(303);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

const page = async (cookie: string) => (await fetch(`${daemon.apiUrl}/ui/alerts`, { redirect: 'manual', headers: { cookie } })).status;
const signOut = (cookie: string, origin = daemon.apiUrl!) =>
  fetch(`${daemon.apiUrl}/ui/logout`, { method: 'POST', redirect: 'manual', headers: { cookie, origin, 'content-type': 'application/x-www-form-urlencoded' } });

it('signing out ends the session on the server: the same cookie, copied, opens nothing after', async () => {
  const cookie = await signIn();
  expect(await page(cookie)).toBe(200);
  expect((await signOut(cookie)).status).toBe(303);
  expect(await page(cookie)).not.toBe(200);
});

it('a session the server let expire opens nothing, whatever the browser kept', async () => {
  const cookie = await signIn();
  expect(await page(cookie)).toBe(200);
  const [key] = await redis.keys(`{${prefix}}:session:*`);
  // Idle for an hour (api.sessions.idle), counted by the server.
  expect(await redis.ttl(key!)).toBeGreaterThan(3500);
  expect(await redis.ttl(key!)).toBeLessThanOrEqual(3600);
  await redis.pexpire(key!, 1);
  await new Promise((r) => setTimeout(r, 20));
  expect(await page(cookie)).not.toBe(200);
});

it('a page on another port of the same host is another origin: it cannot sign the user out', async () => {
  const cookie = await signIn();
  const otherPort = `http://127.0.0.1:${await freePort()}`;
  expect((await signOut(cookie, otherPort)).status).toBe(403);
  expect(await page(cookie)).toBe(200);
});
