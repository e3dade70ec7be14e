// A storm of 1,000 failing steps through the whole daemon: one incident at the pager (issue 36, end to end).
// 1,000 failing steps in one pipeline run, through the whole daemon (the local provider's records
// polled, committed, dispatched, flushed) to a receiver that keeps incidents as PagerDuty does: at most two
// notifications in the first minute (the page and one update), one resolve after the passing run, nothing left open.
import * as path from 'node:path';
import { systemClock } from '../../src/util/clock';
import type { Daemon } from '../../src/runtime/daemon';
import { LocalProvider } from '../../src/providers/local/provider';
import { newPipelineRunId, newStepRunId, nodeIdFor } from '../../src/providers/local/store';
import { TrackStore, trackFromRequest } from '../../src/store/tracks';
import { startDaemon, testConfig } from '../support/daemon';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';
import { untilQuiet } from '../support/quiet';
import { waitFor } from '../support/wait-for';
import { WebhookReceiver } from '../support/webhook-receiver';

jest.setTimeout(180_000);

const STEPS = 1000;
const redis = testRedis();
const prefix = uniquePrefix('storm');
const dataDir = tempDir('storm');
const local = new LocalProvider({ root: path.join(dataDir, 'runs') });
const pd = new WebhookReceiver();
let daemon: Daemon;

/** A finished pipeline run of STEPS steps, each with `status`, written as `run` writes its records. */
async function writeRun(status: 'Failed' | 'Finished'): Promise<string> {
  const now = new Date().toISOString();
  const pipelineRunId = newPipelineRunId('storm', new Date());
  const names = Array.from({ length: STEPS }, (_, i) => `s${String(i).padStart(4, '0')}`);
  await local.store.createPipeline({
    schema: 1,
    pipelineRunId,
    experiment: 'storm',
    createdTime: now,
    status: 'Running',
    source: 'run',
    name: 'nightly',
    steps: names,
  });
  for (const name of names) {
    await local.store.writeStep({
      ...{ schema: 1, stepRunId: newStepRunId(), pipelineRunId, experiment: 'storm', nodeId: nodeIdFor('storm', name), name, command: 'train' },
      ...{ status, rawStatus: status, createdTime: now, startTime: now, endTime: now, isReused: false, outputs: {} },
      ...(status === 'Failed' ? { exitCode: 3, error: { code: 'ExitCode3', message: `${name} exited with code 3` } } : { exitCode: 0 }),
    });
  }
  const pipeline = await local.store.readPipeline(pipelineRunId);
  await local.store.writePipeline({ ...pipeline, status, endTime: now });
  return pipelineRunId;
}

const actions = () => pd.received.filter((r) => r.status < 300).map((r) => r.json as { event_action: string; dedup_key: string });

beforeAll(async () => {
  const url = await pd.start();
  daemon = await startDaemon(
    testConfig({
      prefix,
      dataDir,
      extra: {
        notifiers: { pd: { type: 'webhook', format: 'pagerduty', url, routingKey: 'R0UT1NG' } },
        routes: [{ match: { type: ['steprun.failed', 'pipelinerun.failed'] }, notify: ['pd'], group: { by: ['experiment'], wait: '3s', interval: '5s' } }],
      },
    }),
  );
  await new TrackStore(redis, daemon.keys, systemClock).add(trackFromRequest({ provider: 'local', experiment: 'storm' }, 'cli', Date.now() - 1000));
});

afterAll(async () => {
  await daemon.stop();
  await pd.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

it('1,000 failing steps in one run: one incident, at most two notifications in the first minute, one resolve after the passing run', async () => {
  const started = Date.now();
  await writeRun('Failed');
  await waitFor(() => actions().length >= 1, { timeoutMs: 60_000, what: 'the page' });
  await untilQuiet(redis, prefix, { timeoutMs: 60_000 });
  const inFirstMinute = pd.received.filter((r) => r.at - started <= 60_000);
  expect(inFirstMinute.length).toBeGreaterThanOrEqual(1);
  expect(inFirstMinute.length).toBeLessThanOrEqual(2);
  const keys = new Set(actions().map((a) => a.dedup_key));
  expect(keys.size).toBe(1);
  const last = actions().at(-1) as unknown as { event_action: string; payload: { custom_details: { firingCount: number } } };
  expect(last.event_action).toBe('trigger');
  expect(last.payload.custom_details.firingCount).toBe(STEPS);

  const before = actions().length;
  await writeRun('Finished');
  await waitFor(() => actions().at(-1)?.event_action === 'resolve', { timeoutMs: 60_000, what: 'the resolve' });
  await untilQuiet(redis, prefix, { timeoutMs: 60_000 });
  expect(
    actions()
      .slice(before)
      .map((a) => a.event_action),
  ).toEqual(['resolve']);
  expect(new Set(actions().map((a) => a.dedup_key)).size).toBe(1);
  expect(await redis.zcard(daemon.keys.incidentsDue)).toBe(0); // the group is over: nothing open, nothing scheduled
});
