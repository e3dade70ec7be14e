// Signing in with OpenID Connect, in headless Chromium, against a certified OpenID Provider run locally (oidc-provider)
// with test users in groups and app roles, as Entra ID gives them: a viewer sees no Acknowledge button and is refused
// (403) if they try; an operator acknowledges and the alert shows their name; signing out ends the session on the
// server (the copied cookie opens nothing); a session the server let expire is refused.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { AlertStore } from '../../src/alerts/alert-store';
import type { Daemon } from '../../src/runtime/daemon';
import { launchChromium, localContext, screenshot, watchedPage } from '../support/browser';
import { startDaemon, testConfig } from '../support/daemon';
import { LocalOpenIdProvider } from '../support/oidc-provider';
import { dropPrefix, freePort, testRedis, uniquePrefix } from '../support/redis';
import { stepEvent } from '../support/rig-events';
import { tempDir } from '../support/tmp';

const redis = testRedis();
const prefix = uniquePrefix('signin');
const CLIENT = { clientId: 'steprun-watch', clientSecret: 'sign-in-test-client-secret-0123' };
let op: LocalOpenIdProvider;
let daemon: Daemon;
let base: string;
let browser: Browser;
let context: BrowserContext;
let alertId: string;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  op = new LocalOpenIdProvider({
    ...CLIENT,
    redirectUri: `${base}/ui/oidc/callback`,
    users: {
      vera: { email: 'vera@example.com', name: 'Vera Viewer', groups: ['readers'] },
      otto: { email: 'otto@example.com', name: 'Otto Operator', groups: ['grp-oncall', 'readers'] },
      ada: { email: 'ada@example.com', name: 'Ada Admin', roles: ['SteprunWatch.Admin'] },
      mallory: { email: 'mallory@example.com', name: 'Mallory', groups: ['elsewhere'] },
    },
  });
  const issuer = await op.start();
  const config = testConfig({
    prefix,
    dataDir: tempDir('signin'),
    extra: {
      api: {
        listen: `127.0.0.1:${port}`,
        oidc: {
          issuer,
          ...CLIENT,
          scopes: ['openid', 'email', 'profile', 'groups'],
          roles: { viewer: ['group:readers'], operator: ['group:grp-oncall'], admin: ['role:SteprunWatch.Admin'] },
        },
      },
    },
  });
  daemon = await startDaemon(config);
  const alerts = new AlertStore(redis, daemon.keys);
  await alerts.open('local/E/step/train', stepEvent('steprun.failed', 'train', 'run1'), { told: {}, pending: {} }, Date.now());
  alertId = (await alerts.get('local/E/step/train'))!.id;
  browser = await launchChromium();
  ({ context } = await localContext(browser));
});

afterAll(async () => {
  await browser?.close();
  await daemon?.stop();
  await op?.stop();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

/**
 * Signs `login` in through the provider's own pages, as a browser with no cookie yet; the page is on the alerts. One
 * context, its cookies cleared for each user: the Chromium that @sparticuz/chromium ships runs as a single process,
 * where a second context shares the first one's cookies with its pages' own requests (and a closed one can take the
 * browser down).
 */
async function signIn(login: string): Promise<{ page: Page; errors: string[]; cookie: () => Promise<string> }> {
  await context.clearCookies();
  const { page, errors } = await watchedPage(context);
  await page.goto(`${base}/ui/alerts`);
  expect(new URL(page.url()).pathname).toBe('/ui/login');
  await page.locator('[data-sign-in="oidc"]').click();
  // The provider's pages: its login form (any password), then its consent.
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.locator('button[type="submit"]').click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(`${base}/ui/alerts`);
  // From here on our pages only (the provider's own page asks for web fonts, refused here).
  errors.splice(0);
  const cookie = async () => {
    const c = (await context.cookies(base)).find((k) => k.name === 'srw_session')!;
    return `${c.name}=${c.value}`;
  };
  return { page, errors, cookie };
}

const alertsStatus = async (cookie: string) => (await fetch(`${base}/ui/alerts`, { redirect: 'manual', headers: { cookie } })).status;

it('a viewer signs in, sees the alert without an Acknowledge button, and is refused (403) when trying anyway', async () => {
  const { page, errors } = await signIn('vera');
  expect(await page.locator('[data-signed-in-as]').getAttribute('data-signed-in-as')).toBe('Vera Viewer');
  expect(await page.locator('[data-signed-in-as]').getAttribute('data-role')).toBe('viewer');
  await page.waitForSelector('tr[data-alert="local/E/step/train"]');
  expect(await page.locator('[data-ack-alert]').count()).toBe(0);
  expect(await page.locator('#silence-form').count()).toBe(0);
  const status = await page.evaluate(
    async (id) => (await fetch(`/alerts/${id}/ack`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status,
    alertId,
  );
  expect(status).toBe(403);
  await screenshot(page, 'signed-in-viewer');
  expect(errors).toEqual(['Failed to load resource: the server responded with a status of 403 (Forbidden)']);
  await page.close();
});

it('an operator acknowledges; the alert shows their signed-in name, not what the page could claim', async () => {
  const { page, errors } = await signIn('otto');
  expect(await page.locator('[data-signed-in-as]').getAttribute('data-role')).toBe('operator');
  await page.locator(`[data-ack-alert="${alertId}"]`).click();
  await page.waitForSelector('[data-acked-by]');
  expect(await page.locator('[data-acked-by]').getAttribute('data-acked-by')).toBe('Otto Operator');
  const alert = await new AlertStore(redis, daemon.keys).byId(alertId);
  expect(alert?.acked?.by).toBe('Otto Operator');
  await page.goto(`${base}/ui/audit`);
  expect(await page.locator('tr[data-audit] [data-actor]').allTextContents()).toContain('Otto Operator');
  expect(errors).toEqual([]);
  await page.close();
});

it('signing out revokes the session on the server: the cookie, copied before, opens nothing', async () => {
  const { page, cookie } = await signIn('ada');
  const copied = await cookie();
  expect(await alertsStatus(copied)).toBe(200);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${base}/ui/login`);
  expect(await alertsStatus(copied)).toBe(303);
  await page.close();
});

it('a session the server let expire is refused; a user no role names is not let in', async () => {
  const { page, cookie } = await signIn('vera');
  const kept = await cookie();
  // The page closed first: its live refreshes are uses, and a use restarts the idle clock.
  await page.close();
  for (const key of await redis.keys(`{${prefix}}:session:*`)) await redis.pexpire(key, 1);
  await new Promise((r) => setTimeout(r, 20));
  expect(await alertsStatus(kept)).toBe(303);

  await context.clearCookies();
  const { page: other } = await watchedPage(context);
  await other.goto(`${base}/ui/oidc/start?next=/ui/alerts`);
  await other.locator('input[name="login"]').fill('mallory');
  await other.locator('input[name="password"]').fill('any password');
  await other.locator('button[type="submit"]').click();
  await other.getByRole('button', { name: 'Continue' }).click();
  await other.waitForSelector('[role="alert"]');
  expect(await other.locator('[role="alert"]').textContent()).toContain('no role in api.oidc.roles names them');
  expect((await context.cookies(base)).some((c) => c.name === 'srw_session')).toBe(false);
  await other.close();
});
