// What the OpenID Connect sign-in refuses, against a provider that says what the test tells it (rogue-op.ts): a wrong
// `state`, `nonce`, issuer or audience, a callback from another browser, a replayed one; the provider down at sign-in
// (a clear page; sessions already open keep working); a provider that cannot be discovered at start (a config error
// naming the field); a role list that names nobody (a warning at start); a session past its absolute lifetime.
import { Writable } from 'node:stream';
import { SessionStore } from '../../src/api/auth/sessions';
import { validateConfig } from '../../src/config/load';
import { Keys } from '../../src/store/keys';
import { Daemon } from '../../src/runtime/daemon';
import { ManualClock } from '../../src/util/clock';
import { createLogger } from '../../src/util/logger';
import { startDaemon, testConfig } from '../support/daemon';
import { dropPrefix, freePort, testRedis, uniquePrefix } from '../support/redis';
import { RogueOpenIdProvider } from '../support/rogue-op';
import { tempDir } from '../support/tmp';

const CLIENT_ID = 'steprun-watch';
const redis = testRedis();
const prefix = uniquePrefix('oidcchk');
const rogue = new RogueOpenIdProvider(CLIENT_ID);
let daemon: Daemon;
let base: string;

function oidcConfig(issuer: string, roles: Record<string, string[]> = { viewer: ['*'] }, p = prefix, port = 0) {
  return testConfig({
    prefix: p,
    dataDir: tempDir('oidcchk'),
    extra: { api: { listen: `127.0.0.1:${port}`, oidc: { issuer, clientId: CLIENT_ID, clientSecret: 'rogue-test-secret-0123456789', roles } } },
  });
}

beforeAll(async () => {
  await rogue.start();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  daemon = await startDaemon(oidcConfig(rogue.issuer, { viewer: ['*'] }, prefix, port));
});
afterAll(async () => {
  await daemon?.stop();
  await rogue.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

/** Starts a sign-in at the daemon: the provider's address it sends the browser to, with its state and nonce, and the cookie. */
async function start(): Promise<{ state: string; nonce: string; cookie: string; status: number }> {
  const res = await fetch(`${base}/ui/oidc/start?next=/ui/alerts`, { redirect: 'manual' });
  const location = new URL(res.headers.get('location') ?? 'http://x/');
  return {
    status: res.status,
    state: location.searchParams.get('state') ?? '',
    nonce: location.searchParams.get('nonce') ?? '',
    cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]!,
  };
}

/** The browser back at the daemon with the provider's code. */
async function callback(o: { state: string; cookie?: string }): Promise<{ status: number; text: string; session?: string }> {
  const res = await fetch(`${base}/ui/oidc/callback?code=rogue-code&state=${encodeURIComponent(o.state)}`, {
    redirect: 'manual',
    headers: o.cookie ? { cookie: o.cookie } : {},
  });
  const session = /srw_session=([0-9a-f]{64})/.exec(res.headers.get('set-cookie') ?? '')?.[0];
  return { status: res.status, text: await res.text(), session };
}

const pageStatus = async (session: string) => (await fetch(`${base}/ui/alerts`, { redirect: 'manual', headers: { cookie: session } })).status;

it('signs in when all is right (PKCE, state, nonce, issuer, audience): the session opens the dashboard', async () => {
  const s = await start();
  expect(s.status).toBe(302);
  rogue.claims = { nonce: s.nonce };
  const done = await callback(s);
  expect(done.status).toBe(200);
  expect(await pageStatus(done.session!)).toBe(200);
});

it.each([
  ['a wrong state', (s: { state: string; nonce: string }) => ({ claims: { nonce: s.nonce }, state: 'forged-state' })],
  ['a wrong nonce', (s: { state: string; nonce: string }) => ({ claims: { nonce: 'replayed-nonce' }, state: s.state })],
  ['a missing nonce', (s: { state: string }) => ({ claims: {}, state: s.state })],
  ['a wrong issuer', (s: { state: string; nonce: string }) => ({ claims: { nonce: s.nonce, iss: 'http://127.0.0.1:1/evil' }, state: s.state })],
  ['a wrong audience', (s: { state: string; nonce: string }) => ({ claims: { nonce: s.nonce, aud: 'another-app' }, state: s.state })],
])('refuses %s: no session, the reason on the page', async (_what, wrong) => {
  const s = await start();
  const w = wrong(s);
  rogue.claims = w.claims;
  const done = await callback({ state: w.state, cookie: s.cookie });
  expect(done.status).toBe(401);
  expect(done.session).toBeUndefined();
  expect(done.text).toContain('sign-in refused');
});

it('refuses an ID token signed by a key the provider does not publish (a forgery), whatever its claims', async () => {
  const s = await start();
  rogue.claims = { nonce: s.nonce };
  rogue.forge = true;
  try {
    const done = await callback(s);
    expect(done.status).toBe(401);
    expect(done.session).toBeUndefined();
  } finally {
    rogue.forge = false;
  }
});

it('refuses a callback from another browser (no sign-in cookie), and the same callback twice', async () => {
  const s = await start();
  rogue.claims = { nonce: s.nonce };
  expect((await callback({ state: s.state })).status).toBe(401);
  expect((await callback(s)).status).toBe(200);
  const again = await callback(s);
  expect(again.status).toBe(401);
  expect(again.text).toContain('not started in this browser');
});

it('the provider down at sign-in shows a clear page; sessions already open keep working', async () => {
  const s = await start();
  rogue.claims = { nonce: s.nonce };
  const { session } = await callback(s);
  const midway = await start();
  await rogue.close();
  try {
    const res = await fetch(`${base}/ui/oidc/start`, { redirect: 'manual' });
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('does not answer');
    const back = await callback(midway);
    expect(back.status).toBe(503);
    expect(back.text).toContain('did not answer');
    expect(await pageStatus(session!)).toBe(200);
  } finally {
    await rogue.start(rogue.port);
  }
});

it('a provider that cannot be discovered at start is a config error naming the field', async () => {
  const closed = `http://127.0.0.1:${await freePort()}`;
  const other = uniquePrefix('oidcbad');
  const d = await Daemon.create({ config: oidcConfig(closed, { viewer: ['*'] }, other), logger: createLogger({ level: 'fatal', pretty: false }) });
  await expect(d.start()).rejects.toMatchObject({ code: 'SRW_CONFIG_INVALID', message: expect.stringContaining('api.oidc.issuer: cannot discover') });
  await d.stop().catch(() => undefined);
  await dropPrefix(redis, other);
});

it('a role list that names nobody is warned about at start', async () => {
  const lines: string[] = [];
  const destination = new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) });
  const other = uniquePrefix('oidcwarn');
  const d = await Daemon.create({
    config: oidcConfig(rogue.issuer, { viewer: ['*'], operator: [], admin: ['sub:root'] }, other),
    logger: createLogger({ level: 'warn', pretty: false, destination }),
  });
  await d.start();
  await d.stop();
  await dropPrefix(redis, other);
  expect(lines.join('')).toContain('api.oidc.roles.operator names nobody');
  expect(lines.join('')).not.toContain('api.oidc.roles.admin names nobody');
});

it('a session ends when the config no longer gives its user a role (the daemon restarted with the new config)', async () => {
  const other = uniquePrefix('oidcrole');
  const port = await freePort();
  const at = `http://127.0.0.1:${port}`;
  let d = await startDaemon(oidcConfig(rogue.issuer, { viewer: ['*'] }, other, port));
  const s = await (await fetch(`${at}/ui/oidc/start`, { redirect: 'manual' })).headers;
  const location = new URL(s.get('location')!);
  rogue.claims = { nonce: location.searchParams.get('nonce') };
  const back = await fetch(`${at}/ui/oidc/callback?code=c&state=${location.searchParams.get('state')}`, {
    redirect: 'manual',
    headers: { cookie: s.get('set-cookie')!.split(';')[0]! },
  });
  const session = /srw_session=[0-9a-f]{64}/.exec(back.headers.get('set-cookie') ?? '')![0];
  const status = async () => (await fetch(`${at}/ui/alerts`, { redirect: 'manual', headers: { cookie: session } })).status;
  expect(await status()).toBe(200);
  await d.stop();
  d = await startDaemon(oidcConfig(rogue.issuer, { viewer: ['someone-else@example.com'] }, other, port));
  try {
    expect(await status()).toBe(303);
  } finally {
    await d.stop();
    await dropPrefix(redis, other);
  }
});

it('a session past its absolute lifetime is refused even while used (its idle clock kept restarting)', async () => {
  const clock = new ManualClock(Date.now());
  const keys = new Keys(prefix);
  const sessions = new SessionStore(redis, keys, { settings: { idleMs: 3_600_000, absoluteMs: 4 * 3_600_000 }, clock, roleOf: () => 'viewer' });
  const cookie = (await sessions.open({ identity: { name: 'ada', role: 'viewer', via: 'oidc' }, claims: { sub: 'ada' } })).split(';')[0]!;
  const req = { headers: { cookie } } as never;
  for (let h = 0; h < 3; h++) {
    clock.advance(3_000_000);
    expect(await sessions.identityOf(req)).toMatchObject({ name: 'ada' });
  }
  clock.advance(4 * 3_600_000 - 9_000_000 + 1);
  expect(await sessions.identityOf(req)).toBeUndefined();
});

it('the config the schema takes: an issuer that is not https or http names the field', () => {
  expect(() => validateConfig({ api: { oidc: { issuer: 'ftp://x', clientId: 'a' } } }, { dataDir: tempDir('oidcchk'), env: {} })).toThrow(/api\.oidc\.issuer/);
});
