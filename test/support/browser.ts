// Headless Chromium driven by playwright-core, for the dashboard's browser tests. Only 127.0.0.1 is reachable from the
// page (anything else is aborted and reported), and every console error is collected for the test to check.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';

export const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts/dashboard');
const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/** Where the browser comes from, said once in the test output. */
export interface FoundBrowser {
  executablePath: string;
  args: string[];
  source: string;
}

/**
 * The browser, in this order: `CHROMIUM_PATH`; Debian's `/usr/bin/chromium`; else the Chromium that the
 * `@sparticuz/chromium` dev dependency ships inside itself (inflated to a temp folder, ~2 s), so `npm ci && npm test`
 * needs nothing installed. The package is ES-module only, so a child `node` asks it for its path and flags.
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env, debianPath = DEBIAN_CHROMIUM): FoundBrowser {
  const given = env.CHROMIUM_PATH;
  if (given) {
    if (!existsSync(given)) throw new Error(`CHROMIUM_PATH=${given} does not exist: unset it to use Debian's ${DEBIAN_CHROMIUM} or @sparticuz/chromium`);
    return { executablePath: given, args: [], source: `CHROMIUM_PATH (${given})` };
  }
  if (existsSync(debianPath) && starts(debianPath)) return { executablePath: debianPath, args: [], source: `Debian's ${debianPath}` };
  let shipped: { path: string; args: string[] };
  try {
    const script =
      "const m = await import('@sparticuz/chromium'); console.log(JSON.stringify({ path: await m.default.executablePath(), args: m.default.args }));";
    shipped = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: path.resolve(__dirname, '../..'), encoding: 'utf8' }));
  } catch (err) {
    throw new Error(
      `no browser for the dashboard tests: ${DEBIAN_CHROMIUM} is absent and @sparticuz/chromium did not give one (${(err as Error).message.split('\n')[0]}). ` +
        'Run `npm ci` (it installs @sparticuz/chromium), or apt-get install -y chromium, or set CHROMIUM_PATH.',
    );
  }
  // Its flags are made for AWS Lambda; those that turn the browser's own defences off are left out, so the pages are
  // tested under the same-origin policy a user's browser applies.
  const args = shipped.args.filter((a) => !['--disable-web-security', '--allow-running-insecure-content'].includes(a));
  return { executablePath: shipped.path, args, source: `@sparticuz/chromium (inflated to ${shipped.path})` };
}

/** The binary is executable and answers `--version` (a path that exists may still not run: no exec bit, missing libraries). */
function starts(binary: string): boolean {
  try {
    accessSync(binary, constants.X_OK);
    execFileSync(binary, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 15_000 });
    return true;
  } catch {
    process.stderr.write(`${binary} is there but does not run: using the Chromium @sparticuz/chromium ships\n`);
    return false;
  }
}

let said = false;

export async function launchChromium(): Promise<Browser> {
  const found = findChromium();
  if (!said) process.stderr.write(`browser tests use ${found.source}\n`);
  said = true;
  // --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: found.executablePath, headless: true, args: [...new Set([...found.args, '--no-sandbox'])] });
}

/** A context whose pages reach 127.0.0.1 only; `blocked` lists what was refused. */
export async function localContext(browser: Browser): Promise<{ context: BrowserContext; blocked: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const blocked: string[] = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || url.hostname === '127.0.0.1') return route.continue();
    blocked.push(url.href);
    return route.abort('blockedbyclient');
  });
  return { context, blocked };
}

/** A new page that records console errors and uncaught exceptions. */
export async function watchedPage(context: BrowserContext): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  return { page, errors };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** The computed SVG fill of an element (the tests' tsconfig has no DOM types: the browser's own function, typed here). */
export function computedFill(locator: Locator): Promise<string> {
  return locator.evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { fill: string } }).getComputedStyle(el).fill);
}
