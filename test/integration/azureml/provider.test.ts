// The azureml provider against a local server that speaks Azure ML's documented REST API, and Azurite for blobs.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { stringify } from 'yaml';
import { systemClock } from '../../../src/util/clock';
import { AzureMlProvider } from '../../../src/providers/azureml/provider';
import { parseAzureMlOptions } from '../../../src/providers/azureml/options';
import type { WatchEvent } from '../../../src/store/events';
import { Keys } from '../../../src/store/keys';
import { pollTrack } from '../../../src/watch/poll';
import { TrackStore, trackFromRequest } from '../../../src/store/tracks';
import { azureOptions, AzureMlServer, fixture, TOKEN } from '../../support/azureml-server';
import { pollDeps } from '../../support/poll';
import { Azurite, DEV_ACCOUNT, DEV_KEY } from '../../support/azurite';
import { cli } from '../../support/cli';
import { dropPrefix, REDIS_URL, testRedis, uniquePrefix } from '../../support/redis';
import { tempDir } from '../../support/tmp';
import { outboxEvents } from '../../support/outbox';

const server = new AzureMlServer();
const azurite = new Azurite();
const redis = testRedis();
const prefix = uniquePrefix('azml');
const keys = new Keys(prefix);
const dir = tempDir('azml');
let options: Record<string, unknown>;
let provider: AzureMlProvider;

function resetRuns(): void {
  server.runs.clear();
  server.logs.clear();
  server.faults.length = 0;
  server.pageSize = 2;
  server.addRun(fixture('pipeline-run'));
  for (const name of ['step-reused', 'step-failed', 'step-running']) server.addRun(fixture(name));
  server.logs.set('step_train_2/user_logs/std_log.txt', 'loading data\nepoch 1\nTraceback (most recent call last):\nValueError: bad shape\n');
  server.logs.set('step_train_2/logs/azureml/executionlogs.txt', '[2026-11-25 02:01:00Z] Starting\n[2026-11-25 02:04:00Z] Failed\n');
  server.logs.set('step_eval_2/user_logs/std_log.txt', '');
}

beforeAll(async () => {
  await server.start();
  await azurite.start();
  server.storage = { account: DEV_ACCOUNT, key: DEV_KEY, container: 'azureml-blobstore', endpoint: '', protocol: 'http' };
  options = azureOptions(server, { blobUrlTemplate: `http://127.0.0.1:${azurite.port}/{account}`, timeoutMs: 5000 });
  provider = new AzureMlProvider(parseAzureMlOptions(options, 'prod'));
  const blobs = new BlobServiceClient(azurite.blobUrl, new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY));
  const container = blobs.getContainerClient('azureml-blobstore');
  await container.create();
  for (const [name, text] of [
    ['azureml/step_prepare_1/prepared/data.csv', 'a,b\n1,2\n'],
    ['azureml/step_prepare_1/prepared/sub/part-0.csv', 'x\n'],
    ['azureml/step_eval_2/report/report.txt', 'auc 0.91\n'],
  ]) {
    await container.getBlockBlobClient(name!).upload(text!, text!.length);
  }
});

afterAll(async () => {
  await server.close();
  await azurite.stop();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

beforeEach(() => {
  resetRuns();
  server.requests.length = 0;
});

describe('azureml provider', () => {
  it('maps child runs onto step runs: displayName, node id, normalized status, reuse and errors', async () => {
    const { steps } = await provider.listStepRuns({ pipelineRunId: 'pipeline_run_1', experiment: 'churn' });
    expect(steps.map((s) => [s.name, s.nodeId, s.status, s.rawStatus])).toEqual([
      ['prepare', 'a1b2c3d4', 'Finished', 'Completed'],
      ['train', 'b2c3d4e5', 'Failed', 'Failed'],
      ['evaluate', 'c3d4e5f6', 'Running', 'Running'],
    ]);
    expect(steps[0]).toMatchObject({
      stepRunId: 'step_prepare_2',
      pipelineRunId: 'pipeline_run_1',
      experiment: 'churn',
      isReused: true,
      reusedRunId: 'step_prepare_1',
      reusedNodeId: 'a1b2c3d4',
      reusedPipelineRunId: 'pipeline_run_0',
      outputNames: ['prepared'],
    });
    expect(steps[1]).toMatchObject({
      isReused: false,
      error: { code: 'UserError', message: "Execution failed. User process 'python' exited with status code 1." },
    });
    // Two pages of two: the continuation token was followed to the end.
    expect(server.requests.map((r) => r.query.get('$continuationtoken'))).toEqual([null, '2']);
    expect(server.requests.every((r) => r.auth === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('a pipeline run with 50 steps costs one child-runs request per poll (plus paging), never one per step', async () => {
    for (let i = 0; i < 47; i++) server.addRun({ ...fixture('step-running'), runId: `gen_${i}`, displayName: `step${i}`, tags: { 'azureml.nodeid': `n${i}` } });
    server.pageSize = 100;
    const tracks = new TrackStore(redis, keys, systemClock);
    const track = trackFromRequest({ provider: 'prod', pipelineRun: 'pipeline_run_1', experiment: 'churn' }, 'cli', Date.now());
    await tracks.add(track);
    const deps = pollDeps(redis, keys, new Map([['prod', provider]]));
    for (let poll = 0; poll < 3; poll++) await pollTrack(deps, track.id);
    const children = server.count(/\/runs\/pipeline_run_1\/children$/);
    expect(children).toBe(3);
    expect(server.count(/\/runs\/(gen_\d+|step_\w+)$/)).toBe(0);
    // The first poll also read the failed step's log tail for its event; nothing else.
    expect(server.requests.length - children).toBe(2);
    const events = await outboxEvents(redis, keys);
    expect(events).toHaveLength(50);
    expect(events.find((e) => e.type === 'steprun.failed')?.stderrTail).toContain('ValueError: bad shape');
  });

  it('getStepRun, getPipelineRun and locateRun', async () => {
    expect(await provider.getStepRun({ stepRunId: 'step_train_2' })).toMatchObject({ name: 'train', status: 'Failed' });
    expect(await provider.getPipelineRun({ pipelineRunId: 'pipeline_run_1' })).toMatchObject({ status: 'Running', createdTime: '2026-11-25T02:00:00.000Z' });
    expect(await provider.locateRun('step_train_2')).toMatchObject({ kind: 'step', pipelineRunId: 'pipeline_run_1' });
    expect(await provider.locateRun('pipeline_run_1')).toMatchObject({ kind: 'pipeline' });
    await expect(provider.getStepRun({ stepRunId: 'gone' })).rejects.toMatchObject({ code: 'SRW_RUN_NOT_FOUND' });
  });

  it('lists the pipeline runs of an experiment since a time, following paging', async () => {
    server.addRun({ ...fixture('pipeline-run'), runId: 'pipeline_run_old', createdUtc: '2026-11-01T00:00:00.000Z' });
    server.addRun({ ...fixture('pipeline-run'), runId: 'pipeline_run_new', createdUtc: '2026-11-25T03:00:00.000Z' });
    const runs = await provider.listPipelineRuns({ experiment: 'churn' }, { since: new Date('2026-11-20T00:00:00Z') });
    expect(runs.map((r) => r.pipelineRunId)).toEqual(['pipeline_run_1', 'pipeline_run_new']);
    expect(server.count(/runs:query$/)).toBe(2);
  });

  it('reads logs from the SAS links of run details, the tail with a Range request; an empty log (416) is empty', async () => {
    expect(await provider.readLog({ stepRunId: 'step_train_2' }, 'stdout')).toContain('epoch 1');
    expect(await provider.readLog({ stepRunId: 'step_train_2' }, 'stderr', { tailBytes: 30 })).toBe('ValueError: bad shape\n');
    expect(server.requests.find((r) => r.path.startsWith('/blob/') && r.range)?.range).toBe('bytes=-30');
    expect(await provider.readLog({ stepRunId: 'step_train_2' }, 'job')).toContain('Failed');
    expect(await provider.readLog({ stepRunId: 'step_eval_2' }, 'stdout', { tailBytes: 100 })).toBe('');
    expect(await provider.readLog({ stepRunId: 'step_prepare_2' }, 'stdout')).toBe('');
  });

  it('outputs resolve to datastore + path (directly or through the resolver) and download from blob storage, resumably', async () => {
    const outputs = await provider.listOutputs({ stepRunId: 'step_prepare_2' });
    expect(outputs).toEqual([
      {
        stepRunId: 'step_prepare_2',
        pipelineRunId: 'pipeline_run_1',
        experiment: '0d1c2b3a-4f5e-6d7c-8b9a-0f1e2d3c4b5a',
        name: 'prepared',
        datastore: 'workspaceblobstore',
        pathOnDatastore: 'azureml/step_prepare_1/prepared/',
      },
    ]);
    const dest = path.join(dir, 'prepared');
    const progress: number[] = [];
    const result = await provider.download(outputs[0]!, dest, { onProgress: (d) => progress.push(d) });
    // Each file checked against the Content-MD5 Azure keeps for it (set by single-shot uploads).
    const digest = (algorithm: string, text: string) => createHash(algorithm).update(text).digest('hex');
    const digests = (text: string) => ({ md5: digest('md5', text), sha256: digest('sha256', text) });
    expect(result.files).toEqual([
      { path: 'data.csv', size: 8, ...digests('a,b\n1,2\n') },
      { path: 'sub/part-0.csv', size: 2, ...digests('x\n') },
    ]);
    expect(await fs.readFile(path.join(dest, 'sub/part-0.csv'), 'utf8')).toBe('x\n');
    expect(progress.at(-1)).toBe(10);
    const before = (await fs.stat(path.join(dest, 'data.csv'))).mtimeMs;
    await provider.download(outputs[0]!, dest);
    expect((await fs.stat(path.join(dest, 'data.csv'))).mtimeMs).toBe(before); // complete files are skipped
    const [report] = await provider.listOutputs({ stepRunId: 'step_eval_2' });
    expect(report).toMatchObject({ datastore: 'workspaceblobstore', pathOnDatastore: 'azureml/step_eval_2/report/' });
    expect(server.count(/batchGetResolvedUris$/)).toBe(1);
  });

  it('honours 429 Retry-After, retries 5xx, and gives up with a retryable error', async () => {
    server.faults.push({ match: /children$/, status: 429, headers: { 'retry-after': '1' } });
    const started = Date.now();
    await provider.listStepRuns({ pipelineRunId: 'pipeline_run_1' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    server.faults.push({ match: /\/runs\/step_train_2$/, status: 503, times: 10, headers: { 'retry-after-ms': '10' } });
    await expect(provider.getStepRun({ stepRunId: 'step_train_2' })).rejects.toMatchObject({ code: 'SRW_PROVIDER_UNAVAILABLE', retryable: true });
  });

  it('401 and 403 are auth errors that are not retried; 403 names the missing role', async () => {
    server.faults.push({ match: /runs\/pipeline_run_1$/, status: 401 });
    await expect(provider.getPipelineRun({ pipelineRunId: 'pipeline_run_1' })).rejects.toMatchObject({ code: 'SRW_PROVIDER_AUTH' });
    server.faults.push({ match: /runs\/pipeline_run_1$/, status: 403, body: JSON.stringify({ error: { code: 'AuthorizationFailed', message: 'no access' } }) });
    await expect(provider.getPipelineRun({ pipelineRunId: 'pipeline_run_1' })).rejects.toMatchObject({
      code: 'SRW_PROVIDER_AUTH',
      message: expect.stringContaining('needs a role on the workspace'),
    });
    expect(server.count(/runs\/pipeline_run_1$/)).toBe(2);
    const wrongToken = new AzureMlProvider(parseAzureMlOptions({ ...options, credential: { token: 'wrong' } }, 'p'));
    await expect(wrongToken.listStepRuns({ pipelineRunId: 'pipeline_run_1' })).rejects.toMatchObject({ code: 'SRW_PROVIDER_AUTH' });
  });

  it.each([
    ['an HTML error page', '<html><body>502 Bad Gateway</body></html>', /not JSON \(an HTML page/],
    ['truncated JSON', '{"value": [{"runId": "x", "sta', /not JSON/],
    ['a run without a status', JSON.stringify({ value: [{ runId: 'x' }] }), /a run without a valid status/],
    ['an unknown status', JSON.stringify({ value: [{ runId: 'x', status: 'Exploded' }] }), /unknown status "Exploded"/],
    ['a page without value', JSON.stringify({ items: [] }), /a page without a value array/],
  ])('%s is a clear provider error', async (_label, body, message) => {
    server.faults.push({ match: /children$/, status: 200, body });
    await expect(provider.listStepRuns({ pipelineRunId: 'pipeline_run_1' })).rejects.toMatchObject({
      code: 'SRW_PROVIDER_RESPONSE_INVALID',
      message: expect.stringMatching(message),
    });
  });

  it('through the watcher: bad answers, auth errors and a vanished run raise one track.error each, never a crash', async () => {
    const tracks = new TrackStore(redis, keys, systemClock);
    const deps = pollDeps(redis, keys, new Map([['prod', provider]]));
    await redis.del(keys.events);
    const cases: [string, () => void, string][] = [
      ['html', () => server.faults.push({ match: /children$/, status: 200, body: '<html>oops</html>', times: 5 }), 'SRW_PROVIDER_RESPONSE_INVALID'],
      ['auth', () => server.faults.push({ match: /children$/, status: 403, times: 5 }), 'SRW_PROVIDER_AUTH'],
      ['vanished', () => server.runs.delete('pipeline_run_1'), 'SRW_RUN_NOT_FOUND'],
    ];
    for (const [label, inject, code] of cases) {
      resetRuns();
      inject();
      const track = trackFromRequest({ provider: 'prod', pipelineRun: 'pipeline_run_1', labels: { case: label } }, 'cli', Date.now());
      await tracks.remove(track.id);
      await tracks.add(track);
      for (let i = 0; i < 4; i++) expect((await pollTrack(deps, track.id)).kind).toBe('failed');
      const errors = (await redis.xrange(keys.events, '-', '+'))
        .map(([, f]) => JSON.parse(f[1]!) as WatchEvent)
        .filter((e) => e.type === 'track.error' && e.labels.case === label);
      expect(errors.map((e) => e.error?.code)).toEqual([code]);
    }
  });

  it('the CLI read commands take --provider: steps, status, logs, outputs, download', async () => {
    const configFile = path.join(dir, 'azml.yaml');
    await fs.writeFile(configFile, stringify({ redis: { url: REDIS_URL, prefix }, providers: { prod: options } }));
    const env = { SRW_CONFIG: configFile, SRW_DATA_DIR: path.join(dir, 'data') };
    const steps = JSON.parse((await cli(['steps', 'pipeline_run_1', '--provider', 'prod', '--json'], { env })).stdout);
    expect(steps.steps.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([
      ['prepare', 'Finished'],
      ['train', 'Failed'],
      ['evaluate', 'Running'],
    ]);
    expect(steps.steps[0]).toMatchObject({
      stepRunId: 'step_prepare_2',
      nodeId: 'a1b2c3d4',
      isReused: true,
      reusedRunId: 'step_prepare_1',
      reusedNodeId: 'a1b2c3d4',
      reusedPipelineRunId: 'pipeline_run_0',
    });
    expect(steps.steps[1]).toMatchObject({ error: { code: 'UserError' } });
    expect(JSON.parse((await cli(['status', 'step_train_2', '--provider', 'prod', '--json'], { env })).stdout)).toMatchObject({
      stepRunId: 'step_train_2',
      name: 'train',
      status: 'Failed',
      isReused: false,
    });
    expect((await cli(['logs', 'step_train_2', '--provider', 'prod', '--stderr', '--tail', '1'], { env })).stdout).toBe('ValueError: bad shape\n');
    expect(JSON.parse((await cli(['outputs', 'step_prepare_2', '--provider', 'prod', '--json'], { env })).stdout).outputs).toEqual([
      { name: 'prepared', datastore: 'workspaceblobstore', pathOnDatastore: 'azureml/step_prepare_1/prepared/' },
    ]);
    const dl = await cli(['download', 'step_prepare_2', 'prepared', path.join(dir, 'cli-dl'), '--provider', 'prod'], { env });
    expect(dl.code).toBe(0);
    expect(await fs.readFile(path.join(dir, 'cli-dl', 'data.csv'), 'utf8')).toBe('a,b\n1,2\n');
    const missing = await cli(['status', 'nope', '--provider', 'prod'], { env });
    expect(missing).toMatchObject({ code: 3, stderr: 'steprun-watch: run not found: nope [SRW_RUN_NOT_FOUND]\n' });
  });
});

describe('the daemon with an azureml provider', () => {
  it('polls through the shared request budget and records the transitions', async () => {
    const { startDaemon, testConfig } = await import('../../support/daemon');
    const daemonPrefix = uniquePrefix('azd');
    const config = testConfig({
      prefix: daemonPrefix,
      dataDir: tempDir('azd'),
      extra: {
        providers: { local: { type: 'local' }, prod: { ...options, maxRequestsPerMinute: 1000 } },
        // The fixture's step has been running for days: a tick would add its steprun.stuck as a fourth event.
        stuck: { enabled: false },
      },
    });
    const daemon = await startDaemon(config);
    try {
      await new TrackStore(redis, new Keys(daemonPrefix), systemClock).add(
        trackFromRequest({ provider: 'prod', pipelineRun: 'pipeline_run_1', experiment: 'churn' }, 'cli', Date.now()),
      );
      const { waitFor } = await import('../../support/wait-for');
      await waitFor(async () => (await redis.xlen(`{${daemonPrefix}}:events`)) === 3, { what: 'three step events' });
      const budgetKeys = await redis.keys(`{${daemonPrefix}}:budget:prod:*`);
      expect(budgetKeys).toHaveLength(1);
      expect(Number(await redis.get(budgetKeys[0]!))).toBeGreaterThanOrEqual(2);
    } finally {
      await daemon.stop();
      await dropPrefix(redis, daemonPrefix);
    }
  });
});
