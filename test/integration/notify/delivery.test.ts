// Deliveries through the daemon: retries with one webhook-id, immediate failure on 404, dead letters and `deliveries retry`.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import type { Daemon } from '../../../src/runtime/daemon';
import { LocalProvider } from '../../../src/providers/local/provider';
import { TrackStore, trackFromRequest } from '../../../src/store/tracks';
import { systemClock } from '../../../src/util/clock';
import { cli } from '../../support/cli';
import { startDaemon, testConfig } from '../../support/daemon';
import { execStep } from '../../support/local-runs';
import { dropPrefix, REDIS_URL, testRedis, uniquePrefix } from '../../support/redis';
import { tempDir } from '../../support/tmp';
import { waitFor } from '../../support/wait-for';
import { WebhookReceiver } from '../../support/webhook-receiver';

const redis = testRedis();
const receiver = new WebhookReceiver();
const prefix = uniquePrefix('delivery');
const dataDir = tempDir('delivery');
let daemon: Daemon;
let configFile: string;

beforeAll(async () => {
  const url = await receiver.start();
  const overrides = {
    notifiers: { hook: { type: 'webhook', url: `${url}/hook`, secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=' } },
    routes: [{ match: { type: 'steprun.finished' }, notify: ['hook'] }],
    delivery: { attempts: 5, backoffMs: 100 },
  };
  const config = testConfig({ prefix, dataDir, extra: overrides });
  configFile = path.join(dataDir, 'config.yaml');
  await fs.writeFile(configFile, stringify({ redis: { url: REDIS_URL, prefix }, ...overrides }));
  daemon = await startDaemon(config);
});

afterAll(async () => {
  await daemon.stop();
  await receiver.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

/** Makes a real step run that finishes, and tracks its pipeline run: one steprun.finished event follows. */
async function finishedStep(): Promise<string> {
  const local = new LocalProvider({ root: path.join(dataDir, 'runs') });
  const r = await execStep(local.store, { experiment: 'dl', step: 's', script: 'exit 0', cwd: dataDir });
  await new TrackStore(redis, daemon.keys, systemClock).add(trackFromRequest({ provider: 'local', pipelineRun: r.pipelineRunId }, 'cli', Date.now()));
  return r.stepRunId;
}

const env = () => ({ SRW_CONFIG: configFile, SRW_DATA_DIR: dataDir });

describe('delivery through the daemon', () => {
  it('500 three times, then 200: delivered once, with the same webhook-id on every try', async () => {
    receiver.received.length = 0;
    receiver.script.push({ status: 500 }, { status: 500 }, { status: 500 }, { status: 200 });
    const stepRunId = await finishedStep();
    await waitFor(() => receiver.received.length >= 4, { timeoutMs: 20000, what: 'four tries' });
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.received).toHaveLength(4);
    const ids = new Set(receiver.received.map((r) => r.headers['webhook-id']));
    expect(ids.size).toBe(1);
    expect((receiver.received[3]!.json as { data: { stepRun: { stepRunId: string } } }).data.stepRun.stepRunId).toBe(stepRunId);
    const list = JSON.parse((await cli(['deliveries', '--json'], { env: env() })).stdout) as { id: string; status: string; attempts: number }[];
    expect(list.find((d) => d.id === [...ids][0])).toMatchObject({ status: 'delivered', attempts: 4 });
  });

  it('404: failed at once, listed by `deliveries --failed`; `deliveries retry` then delivers it', async () => {
    receiver.received.length = 0;
    receiver.script.push({ status: 404 });
    await finishedStep();
    await waitFor(async () => JSON.parse((await cli(['deliveries', '--failed', '--json'], { env: env() })).stdout).length === 1, {
      timeoutMs: 20000,
      what: 'a dead letter',
    });
    expect(receiver.received).toHaveLength(1);
    const [dead] = JSON.parse((await cli(['deliveries', '--failed', '--json'], { env: env() })).stdout) as {
      id: string;
      status: string;
      attempts: number;
      lastError: string;
    }[];
    expect(dead).toMatchObject({ status: 'failed', attempts: 1, lastError: expect.stringContaining('HTTP 404') });
    const text = await cli(['deliveries', '--failed'], { env: env() });
    expect(text.stdout).toMatch(/failed\s+1\s+/);
    const retried = await cli(['deliveries', 'retry', dead!.id], { env: env() });
    expect(retried.code).toBe(0);
    await waitFor(() => receiver.received.length === 2, { timeoutMs: 20000, what: 'the retried delivery' });
    expect(receiver.received[1]!.headers['webhook-id']).toBe(dead!.id);
    await waitFor(async () => JSON.parse((await cli(['deliveries', '--failed', '--json'], { env: env() })).stdout).length === 0, {
      what: 'dead letter cleared',
    });
    const again = await cli(['deliveries', 'retry', dead!.id], { env: env() });
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/is delivered, not failed/);
    const unknown = await cli(['deliveries', 'retry', 'nope'], { env: env() });
    expect(unknown.code).toBe(3);
  });

  it('deliveries retry --all-failed sends every dead letter again', async () => {
    receiver.received.length = 0;
    receiver.script.push({ status: 410 }, { status: 410 });
    await finishedStep();
    await finishedStep();
    await waitFor(async () => JSON.parse((await cli(['deliveries', '--failed', '--json'], { env: env() })).stdout).length === 2, {
      timeoutMs: 20000,
      what: 'two dead letters',
    });
    expect(JSON.parse((await cli(['deliveries', 'retry', '--all-failed', '--json'], { env: env() })).stdout)).toEqual({ retried: 2 });
    await waitFor(() => receiver.received.length === 4, { timeoutMs: 20000, what: 'both delivered' });
  });
});
