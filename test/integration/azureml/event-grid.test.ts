// Azure Event Grid pushes Azure ML run events to POST /hooks/eventgrid: the documented bodies make a poll
// happen now, both handshakes are answered as documented, forged requests are refused, and chaotic hints (repeated,
// dropped, reordered) neither lose nor duplicate an alert.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { systemClock } from '../../../src/util/clock';
import type { Daemon } from '../../../src/runtime/daemon';
import { readEventGridDelivery } from '../../../src/providers/azureml/event-grid';
import { TrackStore, trackFromRequest } from '../../../src/store/tracks';
import { azureOptions, AzureMlServer, fixture } from '../../support/azureml-server';
import { startDaemon, testConfig } from '../../support/daemon';
import { dropPrefix, testRedis, uniquePrefix } from '../../support/redis';
import { tempDir } from '../../support/tmp';
import { waitFor } from '../../support/wait-for';
import { WebhookReceiver } from '../../support/webhook-receiver';

const SAMPLES = path.join(__dirname, '../../fixtures/eventgrid');
const sample = (name: string): unknown => JSON.parse(readFileSync(path.join(SAMPLES, name), 'utf8'));
/** The run the documented samples name. */
const RUN = 'AutoML_ad912b2d-6467-4f32-a616-dbe4af6dd8fc_5';
const SECRET = 'a-long-enough-hook-secret-0123456789';

const server = new AzureMlServer();
const receiver = new WebhookReceiver();
const redis = testRedis();
let hookUrl: string;

/** The sample's run as a pipeline run with two steps in the fake Azure ML, both Running. */
function addSampleRun(): void {
  server.runs.clear();
  server.addRun({ ...fixture('pipeline-run'), runId: RUN, rootRunId: RUN, name: RUN });
  for (const [i, name] of ['step-failed', 'step-running'].entries()) {
    const started = new Date().toISOString(); // the recorded start is a day old: a steprun.stuck would follow
    server.addRun({
      ...fixture(name),
      runId: `${RUN}_step${i}`,
      parentRunId: RUN,
      status: 'Running',
      startTimeUtc: started,
      endTimeUtc: null,
      tags: { 'azureml.pipeline': RUN },
    });
  }
}

function setStatus(runId: string, status: string): void {
  server.runs.set(runId, { ...server.runs.get(runId)!, status, endTimeUtc: status === 'Running' ? null : new Date().toISOString() });
}

/** Step statuses the webhook received for one step run, in arrival order, and every event id (to count duplicates). */
function received(stepRunId: string): string[] {
  return receiver.received
    .map((r) => r.json as { data?: { stepRun?: { stepRunId?: string; status?: string } } })
    .filter((e) => e.data?.stepRun?.stepRunId === stepRunId)
    .map((e) => e.data!.stepRun!.status!);
}

/** Polls done by the daemon so far (its /metrics). */
async function pollCount(daemon: Daemon): Promise<number> {
  const text = await (await fetch(`${daemon.apiUrl}/metrics`)).text();
  return [...text.matchAll(/^srw_polls_total\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

async function post(body: unknown, o: { query?: string; contentType?: string } = {}): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${hookUrl}${o.query ?? `?secret=${SECRET}`}`, {
    method: 'POST',
    headers: { 'content-type': o.contentType ?? 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

/** A daemon watching the sample's run on the fake Azure ML, with Event Grid's hook on; polling every `intervalS`. */
async function daemonWith(intervalS: number): Promise<{ daemon: Daemon; prefix: string }> {
  const prefix = uniquePrefix('eventgrid');
  const config = testConfig({
    prefix,
    dataDir: tempDir('eventgrid'),
    extra: {
      providers: { prod: azureOptions(server, { timeoutMs: 5000 }) },
      poll: { tick: '* * * * * *', minIntervalSeconds: intervalS, maxIntervalSeconds: intervalS, hints: { debounceMs: 20, minGapMs: 0 } },
      notifiers: { hook: { type: 'webhook', url: await receiverUrl } },
      routes: [{ match: { type: 'steprun.*' }, notify: ['hook'] }],
      api: { listen: '127.0.0.1:0', eventGrid: { provider: 'prod', secret: SECRET } },
    },
  });
  receiver.received.length = 0;
  const daemon = await startDaemon(config);
  hookUrl = `${daemon.apiUrl}/hooks/eventgrid`;
  await new TrackStore(redis, daemon.keys, systemClock).add(
    trackFromRequest({ provider: 'prod', pipelineRun: RUN, experiment: 'automl-local-regression' }, 'cli', Date.now()),
  );
  await waitFor(() => received(`${RUN}_step0`).length > 0 && received(`${RUN}_step1`).length > 0, { what: 'the first poll' });
  return { daemon, prefix };
}

let receiverUrl: Promise<string>;
beforeAll(async () => {
  await server.start();
  receiverUrl = receiver.start();
  await receiverUrl;
});
afterAll(async () => {
  await server.close();
  await receiver.close();
  redis.disconnect();
});

describe('reading Event Grid deliveries', () => {
  it('reads the documented samples (PascalCase keys) and camelCase bodies alike; a step run leads to its pipeline run by its tags', () => {
    expect(readEventGridDelivery(sample('run-status-changed.json')).runs).toEqual([
      { experiment: 'automl-local-regression', pipelineRunId: RUN, stepRunId: RUN },
    ]);
    expect(readEventGridDelivery(sample('run-completed.json')).runs).toHaveLength(1);
    const camel = {
      specversion: '1.0',
      type: 'Microsoft.MachineLearningServices.RunStatusChanged',
      source: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws',
      subject: 'experiments/e1/runs/step_9',
      id: 'x',
      data: { experimentName: 'churn', runId: 'step_9', runTags: { 'azureml.pipelinerunid': 'pipe_1' }, runStatus: 'Completed' },
    };
    expect(readEventGridDelivery([camel]).runs).toEqual([{ experiment: 'churn', pipelineRunId: 'pipe_1', stepRunId: 'step_9' }]);
    expect(readEventGridDelivery({ eventType: 'Microsoft.MachineLearningServices.ModelRegistered', data: { ModelName: 'm' } }).runs).toEqual([]);
    expect(readEventGridDelivery(sample('subscription-validation.json')).validationCode).toBe('512d38b6-c7b8-40c8-89fe-f46f9e9622b6');
  });
});

describe('POST /hooks/eventgrid', () => {
  let daemon: Daemon | undefined;
  let prefix = '';
  afterEach(async () => {
    await daemon?.stop();
    daemon = undefined;
    await dropPrefix(redis, prefix);
  });

  it('answers both handshakes as documented, and refuses a forged or unsigned request', async () => {
    addSampleRun();
    ({ daemon, prefix } = await daemonWith(3600));
    expect(await post(sample('subscription-validation.json'))).toEqual({ status: 200, json: { validationResponse: '512d38b6-c7b8-40c8-89fe-f46f9e9622b6' } });
    const options = await fetch(`${hookUrl}?secret=${SECRET}`, { method: 'OPTIONS', headers: { 'WebHook-Request-Origin': 'eventgrid.azure.net' } });
    expect(options.status).toBe(200);
    expect(options.headers.get('webhook-allowed-origin')).toBe('eventgrid.azure.net');

    setStatus(`${RUN}_step0`, 'Failed');
    expect((await post(sample('run-status-changed.json'), { query: '' })).status).toBe(401);
    expect((await post(sample('run-status-changed.json'), { query: '?secret=not-the-secret-at-all-0123456789' })).status).toBe(401);
    expect((await fetch(hookUrl, { method: 'OPTIONS', headers: { 'WebHook-Request-Origin': 'evil.example' } })).status).toBe(401);
    expect((await post(sample('subscription-validation.json'), { query: '?code=wrong' })).status).toBe(401);
    // Nothing was polled on a refused request: the Failed step is not seen (polling is an hour away).
    const metrics = await (await fetch(`${daemon.apiUrl}/metrics`)).text();
    expect(metrics).not.toMatch(/srw_hints_total\{[^}]*outcome="polled"/);
    expect(received(`${RUN}_step0`)).toEqual(['Running']);
  });

  it('the documented RunStatusChanged sample makes the poll happen now (polling alone would wait an hour)', async () => {
    addSampleRun();
    ({ daemon, prefix } = await daemonWith(3600));
    setStatus(`${RUN}_step0`, 'Failed');
    expect(await post(sample('run-status-changed.json'))).toEqual({ status: 200, json: { runs: 1, polled: 1 } });
    await waitFor(() => received(`${RUN}_step0`).includes('Failed'), { what: 'the hinted poll' });
    // CloudEvents schema, as a batch: the same data in a CloudEvents envelope.
    setStatus(`${RUN}_step1`, 'Completed');
    const [event] = sample('run-completed.json') as { eventType: string; subject: string; id: string; eventTime: string; data: unknown }[];
    const cloudEvent = {
      specversion: '1.0',
      type: event!.eventType,
      source: '/subscriptions/s',
      subject: event!.subject,
      id: 'ce-1',
      time: event!.eventTime,
      data: event!.data,
    };
    expect((await post([cloudEvent], { contentType: 'application/cloudevents-batch+json; charset=utf-8' })).status).toBe(200);
    await waitFor(() => received(`${RUN}_step1`).includes('Finished'), { what: 'the CloudEvents-hinted poll' });
  });

  it('repeated, dropped and reordered hints neither lose nor duplicate an alert', async () => {
    addSampleRun();
    ({ daemon, prefix } = await daemonWith(2));
    const hint = sample('run-status-changed.json') as object[];
    setStatus(`${RUN}_step0`, 'Completed');
    // The same hint three times at once, and a batch that repeats it.
    await Promise.all([post(hint), post(hint), post([...hint, ...hint])]);
    setStatus(`${RUN}_step1`, 'Failed');
    // This change's hint is dropped: only polling can see it. Then an old hint arrives late (reordered).
    await waitFor(() => received(`${RUN}_step1`).includes('Failed'), { what: 'the change whose hint was dropped, seen by polling' });
    await post(hint);
    await waitFor(() => received(`${RUN}_step0`).includes('Finished'), { what: 'the hinted change' });
    // Two more poll rounds: anything duplicated would have arrived by then.
    const polls = await pollCount(daemon);
    await waitFor(async () => (await pollCount(daemon!)) >= polls + 2, { what: 'two more polls' });
    expect(received(`${RUN}_step0`)).toEqual(['Running', 'Finished']);
    expect(received(`${RUN}_step1`)).toEqual(['Running', 'Failed']);
    const ids = receiver.received.map((r) => (r.json as { id?: string }).id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
