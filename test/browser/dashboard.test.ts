// The dashboard in a real browser (headless Chromium via playwright-core: Debian's, or the one @sparticuz/chromium ships), against an in-process daemon on
// a real Redis, a real webhook receiver and real pipeline runs. Only 127.0.0.1 is reachable from the pages.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { systemClock } from '../../src/util/clock';
import type { Daemon } from '../../src/runtime/daemon';
import { DeliveryStore } from '../../src/store/deliveries';
import { loadPipelineFile } from '../../src/providers/local/pipeline-file';
import { runPipeline } from '../../src/providers/local/pipeline-runner';
import { LocalProvider } from '../../src/providers/local/provider';
import { Keys } from '../../src/store/keys';
import { parseEntry } from '../../src/store/outbox';
import { TrackStore, trackFromRequest } from '../../src/store/tracks';
import { computedFill, launchChromium, localContext, screenshot, watchedPage } from '../support/browser';
import { startDaemon, testConfig } from '../support/daemon';
import { runPipelineText } from '../support/local-runs';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';
import { waitFor } from '../support/wait-for';
import { WebhookReceiver } from '../support/webhook-receiver';
import { azureOptions, AzureMlServer, fixture } from '../support/azureml-server';

const TOKEN = 'dashboard-test-token-0123456789abcdef';
const FAILED_RED = 'rgb(179, 38, 30)';
const redis = testRedis();
const prefix = uniquePrefix('dash');
const keys = new Keys(prefix);
const dataDir = tempDir('dash');
const store = new LocalProvider({ root: path.join(dataDir, 'runs') }).store;
const tracks = new TrackStore(redis, keys, systemClock);
const receiver = new WebhookReceiver();
const azureml = new AzureMlServer();
let daemon: Daemon;
let base: string;
let browser: Browser;
let context: BrowserContext;
let blocked: string[];

async function track(experiment: string): Promise<void> {
  await tracks.add(trackFromRequest({ provider: 'local', experiment }, 'cli', Date.now()));
}

/** The pipeline run id of the first event matching `test`, once the daemon has recorded one. */
function eventSeen(test: (e: NonNullable<ReturnType<typeof parseEntry>>) => boolean, what: string): Promise<string> {
  return waitFor(
    async () => {
      const entries = await redis.xrange(keys.events, '-', '+');
      const hit = entries.map(([, f]) => parseEntry(f)).find((e) => e && test(e));
      return hit?.pipelineRunId;
    },
    { timeoutMs: 30_000, what },
  );
}

async function open(page: Page, pathname: string): Promise<void> {
  await page.goto(base + pathname);
  await page.waitForSelector('main#main');
}

beforeAll(async () => {
  const url = await receiver.start();
  // Azure ML's REST API, as its contract server speaks it: a failed pipeline run with a reused and a failed step.
  await azureml.start();
  azureml.addRun({ ...fixture('pipeline-run'), status: 'Failed' });
  for (const name of ['step-reused', 'step-failed']) azureml.addRun(fixture(name));
  azureml.logs.set('step_train_2/user_logs/std_log.txt', 'epoch 1\nTraceback (most recent call last):\nValueError: bad shape\n');
  const config = testConfig({
    prefix,
    dataDir,
    extra: {
      providers: { local: { type: 'local' }, aml: azureOptions(azureml, { timeoutMs: 5000 }) },
      notifiers: { hook: { type: 'webhook', url: `${url}/hook` } },
      routes: [{ match: {}, notify: ['hook'] }],
      api: { listen: '127.0.0.1:0', token: TOKEN },
    },
  });
  daemon = await startDaemon(config);
  base = daemon.apiUrl!;
  browser = await launchChromium();
  ({ context, blocked } = await localContext(browser));
  // Signing in through the form: the session cookie then serves every page and the API calls of its buttons.
  const { page, errors } = await watchedPage(context);
  await page.goto(`${base}/ui/`);
  expect(new URL(page.url()).pathname).toBe('/ui/login');
  await page.getByLabel('API token').fill(TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/ui/`);
  expect(errors).toEqual([]);
  await page.close();
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await daemon?.stop();
  await receiver.close();
  await azureml.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

// Only when the browser started: a failed start is its own one message, not one more per test.
afterEach(() => {
  if (context) expect(blocked).toEqual([]);
});

describe('dashboard', () => {
  it('the demo pipeline run twice: both runs listed, the failed step red with its stderr tail, the reused step marked reused', async () => {
    const demoDir = path.join(dataDir, 'demo');
    await fs.cp(path.resolve(__dirname, '../../examples/pipelines'), demoDir, { recursive: true, filter: (src) => !src.includes(`${path.sep}out`) });
    await track('demo');
    const pipeline = await loadPipelineFile(path.join(demoDir, 'demo.yaml'));
    const ids: string[] = [];
    for (const env of [{}, { DEMO_FAIL: '1' }] as Record<string, string>[]) {
      const withEnv = { ...pipeline, steps: pipeline.steps.map((s) => ({ ...s, env: { ...s.env, ...env } })) };
      ids.push((await runPipeline({ store, pipeline: withEnv, baseDir: demoDir })).pipelineRunId);
    }
    for (const id of ids) await eventSeen((e) => e.pipelineRunId === id && e.type.startsWith('pipelinerun.'), `the end of ${id}`);

    const { page, errors } = await watchedPage(context);
    await open(page, '/ui/');
    for (const id of ids) await page.waitForSelector(`tr[data-run="${id}"]`);
    await screenshot(page, 'runs');
    await page.locator(`tr[data-run="${ids[1]}"] a`).click();
    await page.waitForSelector('svg.graph');
    const train = page.locator('svg [data-step="train"]');
    expect(await train.getAttribute('data-status')).toBe('Failed');
    expect(await computedFill(train.locator('rect'))).toBe(FAILED_RED);
    expect(await page.locator('pre[data-stderr="train"]').textContent()).toContain('CUDA error: out of memory');
    expect(await page.locator('svg [data-step="prepare"]').textContent()).toContain('reused');
    expect(await page.locator('tr[data-step="prepare"]').textContent()).toContain('reused from');
    await screenshot(page, 'run');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('an Azure ML pipeline run: its steps, the failed one red with its log tail, the reused one marked, a studio link', async () => {
    const { page, errors } = await watchedPage(context);
    await open(page, '/ui/runs/aml/pipeline_run_1?experiment=churn');
    await page.waitForSelector('svg.graph');
    const failed = page.locator('svg [data-status="Failed"]');
    expect(await failed.count()).toBe(1);
    expect(await computedFill(failed.locator('rect'))).toBe(FAILED_RED);
    expect(await page.locator('pre[data-stderr]').textContent()).toContain('ValueError: bad shape');
    expect(await page.locator('svg .node', { hasText: 'reused' }).count()).toBe(1);
    const studio = await page.locator('.run-head a').first().getAttribute('href');
    expect(studio).toMatch(/^https:\/\/ml\.azure\.com\/runs\/pipeline_run_1\?wsid=/);
    await screenshot(page, 'run-azureml');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a failing pipeline turns red on the open page without a reload (Server-Sent Events)', async () => {
    const dir = path.join(dataDir, 'live');
    await track('live');
    const yaml = `
experiment: live
steps:
  - { name: prep, run: 'echo ready' }
  - { name: train, needs: [prep], run: 'while [ ! -f go ]; do sleep 0.05; done; echo "fatal: disk full" >&2; exit 2' }
`;
    const running = runPipelineText(store, yaml, dir);
    const id = await eventSeen((e) => e.experiment === 'live' && e.type === 'steprun.running' && e.stepRun?.name === 'train', 'train running');
    const { page, errors } = await watchedPage(context);
    await open(page, `/ui/runs/local/${id}?experiment=live`);
    await page.waitForSelector('svg [data-step="train"][data-status="Running"]');
    await page.waitForFunction("document.getElementById('live-badge').textContent.includes('live')");
    await page.evaluate('window.notReloaded = true');

    await fs.writeFile(path.join(dir, 'go'), '');
    await page.waitForSelector('svg [data-step="train"][data-status="Failed"]', { timeout: 30_000 });
    expect(await page.evaluate('window.notReloaded')).toBe(true); // the same document: updated, not reloaded
    expect(await computedFill(page.locator('svg [data-step="train"] rect'))).toBe(FAILED_RED);
    expect(await page.locator('pre[data-stderr="train"]').textContent()).toContain('fatal: disk full');
    expect((await running).status).toBe('Failed');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('retrying a dead letter from the page delivers it', async () => {
    receiver.fallback = { status: 500 };
    await track('dead');
    await runPipelineText(store, `experiment: dead\nsteps:\n  - { name: only, run: 'true' }\n`, path.join(dataDir, 'dead'));
    const deliveries = new DeliveryStore(redis, keys);
    const dead = await waitFor(async () => (await deliveries.list({ failedOnly: true })).find((d) => d.summary.includes('experiment dead')), {
      timeoutMs: 30_000,
      what: 'a dead letter',
    });
    receiver.fallback = { status: 200 };

    const { page, errors } = await watchedPage(context);
    await open(page, '/ui/deliveries?status=failed');
    const retry = page.locator(`tr[data-delivery="${dead.id}"] [data-retry-delivery]`);
    await retry.focus();
    await page.keyboard.press('Enter'); // keyboard, as an operator without a mouse would
    await waitFor(() => receiver.received.some((r) => r.headers['webhook-id'] === dead.id && receiver.fallback.status === 200), {
      what: 'the retried delivery at the receiver',
    });
    await waitFor(async () => (await deliveries.list()).find((d) => d.id === dead.id && d.status === 'delivered'), { what: 'the delivery marked delivered' });
    await open(page, '/ui/deliveries');
    expect(await page.locator(`tr[data-delivery="${dead.id}"]`).getAttribute('data-status')).toBe('delivered');
    await screenshot(page, 'deliveries');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a silence added on the page silences the next matching event, and can be expired there', async () => {
    const { page, errors } = await watchedPage(context);
    await open(page, '/ui/alerts');
    await page.getByLabel('Matches').fill('experiment=quiet');
    await page.getByLabel('For').fill('1h');
    await page.getByLabel('Comment').fill('maintenance window');
    await page.getByRole('button', { name: 'Add silence' }).click();
    const row = page.locator('tr[data-silence][data-state="active"]', { hasText: 'experiment=quiet' });
    await row.waitFor();
    await screenshot(page, 'alerts');

    await track('quiet');
    await runPipelineText(store, `experiment: quiet\nsteps:\n  - { name: hush, run: 'true' }\n`, path.join(dataDir, 'quiet'));
    const id = await eventSeen((e) => e.experiment === 'quiet' && e.type === 'pipelinerun.finished', 'the quiet run finished');
    const deliveries = new DeliveryStore(redis, keys);
    await waitFor(async () => (await deliveries.list({ limit: 1000 })).some((d) => d.summary.includes('experiment quiet') && d.status === 'silenced'), {
      what: 'a silenced delivery',
    });
    expect(receiver.received.filter((r) => r.body.includes(id))).toEqual([]);

    await row.getByRole('button', { name: 'Expire' }).click();
    await page.locator('tr[data-silence][data-state="expired"]', { hasText: 'experiment=quiet' }).waitFor();
    expect(await row.count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('every page loads with no console error, has one h1 and a skip link first in the tab order', async () => {
    const { page, errors } = await watchedPage(context);
    for (const [name, pathname] of [
      ['events', '/ui/events'],
      ['events-failed', '/ui/events?type=steprun.failed'],
      ['dead-letters', '/ui/deliveries?status=failed'],
      ['metrics', '/ui/metrics'],
      ['alerts-page', '/ui/alerts'],
      ['runs-page', '/ui/'],
    ]) {
      await open(page, pathname!);
      expect(await page.locator('h1').count()).toBe(1);
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement.textContent')).toBe('Skip to content');
      await screenshot(page, name!);
    }
    const failed = await page.locator('tr').filter({ hasText: 'steprun.failed' }).count();
    expect(failed).toBe(0); // the last page is the runs page: the filter check is below
    await open(page, '/ui/events?type=steprun.failed');
    const types = await page.locator('tbody tr td:nth-child(2)').allTextContents();
    expect(types.length).toBeGreaterThan(0);
    expect(new Set(types)).toEqual(new Set(['steprun.failed']));
    expect(errors).toEqual([]);
    await page.close();
  });

  it('an unknown run and a provider that does not answer are pages that say so (and the bearer header opens pages too)', async () => {
    const get = (pathname: string) => fetch(base + pathname, { headers: { authorization: `Bearer ${TOKEN}` }, redirect: 'manual' });
    const unknown = await get('/ui/runs/local/no_such_run');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await unknown.text()).toContain('unknown pipeline run &quot;no_such_run&quot;');

    azureml.faults.push({ match: /pipeline_run_1/, status: 503, times: 1000 });
    try {
      const outage = await get('/ui/runs/aml/pipeline_run_1?experiment=churn');
      expect(outage.status).toBe(503);
      expect(await outage.text()).toContain('role="alert"');
    } finally {
      azureml.faults.length = 0;
    }
    expect((await fetch(`${base}/ui/`, { redirect: 'manual' })).status).toBe(303); // no session, no bearer: sign in
  });

  it('without the session a page sends to sign-in; a wrong token is refused', async () => {
    const { context: fresh } = await localContext(browser);
    const { page, errors } = await watchedPage(fresh);
    await page.goto(`${base}/ui/events`);
    expect(new URL(page.url()).pathname).toBe('/ui/login');
    await page.getByLabel('API token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('[role="alert"]');
    expect(new URL(page.url()).pathname).toBe('/ui/login');
    await screenshot(page, 'login');
    expect(errors).toEqual([]);
    await fresh.close();
  });
});
