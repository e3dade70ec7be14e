// Harvest into a blob container. From an Azure ML datastore the storage service copies the bytes (Put Blob
// From URL, or an asynchronous Copy Blob for large blobs) and none pass through the daemon — counted on a proxy in
// front of Azurite; from local runs the output is uploaded. The same layout and manifest (written last), and a
// re-delivery copies nothing again.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { Status } from '../../../src/model/status';
import { parseAzureMlOptions } from '../../../src/providers/azureml/options';
import { AzureMlProvider } from '../../../src/providers/azureml/provider';
import { LocalProvider } from '../../../src/providers/local/provider';
import type { RunProvider } from '../../../src/model/provider';
import { stepEvent } from '../../../src/store/event-builders';
import { trackFromRequest } from '../../../src/store/tracks';
import { Azurite, DEV_ACCOUNT, DEV_KEY } from '../../support/azurite';
import { azureOptions, AzureMlServer, fixture } from '../../support/azureml-server';
import { CountingProxy } from '../../support/counting-proxy';
import { execStep } from '../../support/local-runs';
import { buildNotifier, deliveryContext } from '../../support/notifiers';
import { tempDir } from '../../support/tmp';

const server = new AzureMlServer();
const azurite = new Azurite();
const dataDir = tempDir('harvestblob');
let proxy: CountingProxy;
let harvested: ContainerClient;
let source: ContainerClient;
const md5hex = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

async function text(container: ContainerClient, name: string): Promise<string> {
  return (await container.getBlobClient(name).downloadToBuffer()).toString('utf8');
}

beforeAll(async () => {
  await Promise.all([azurite.start(), server.start()]);
  proxy = new CountingProxy(azurite.port);
  await proxy.start();
  server.storage = { account: DEV_ACCOUNT, key: DEV_KEY, container: 'azureml-blobstore', endpoint: '', protocol: 'http' };
  server.addRun({ ...fixture('pipeline-run'), runId: 'pipe_1' });
  server.addRun({
    ...fixture('step-reused'),
    runId: 'step_train_1',
    parentRunId: 'pipe_1',
    displayName: 'train',
    properties: {},
    outputs: { model: { assetId: 'azureml://datastores/workspaceblobstore/paths/azureml/step_train_1/model/', type: 'UriFolder' } },
  });
  const service = new BlobServiceClient(azurite.blobUrl, new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY));
  source = service.getContainerClient('azureml-blobstore');
  harvested = service.getContainerClient('harvested');
  await Promise.all([source.create(), harvested.create()]);
  await source.getBlockBlobClient('azureml/step_train_1/model/weights.bin').upload('w'.repeat(5000), 5000);
  await source.getBlockBlobClient('azureml/step_train_1/model/conf/params.json').upload('{"lr":0.1}', 10);
});

afterAll(async () => {
  await Promise.all([proxy.close(), azurite.stop(), server.close()]);
});

async function azureEvent(provider: RunProvider) {
  const track = trackFromRequest({ provider: 'prod', pipelineRun: 'pipe_1', experiment: 'churn' }, 'cli', 0);
  const snapshot = await provider.getStepRun({ stepRunId: 'step_train_1' });
  return { ...stepEvent(track, snapshot, Status.Running, 2, Date.now()), experiment: 'churn' };
}

it('from Azure ML: a server-side copy (no byte through the daemon), the manifest last, a re-delivery copies nothing', async () => {
  // The daemon reaches storage only through the proxy: what it fetched would be counted there.
  const provider = new AzureMlProvider(
    parseAzureMlOptions(azureOptions(server, { blobUrlTemplate: `http://127.0.0.1:${proxy.port}/{account}`, syncCopyMaxBytes: 4096 }), 'prod'),
  );
  const to = `http://127.0.0.1:${proxy.port}/${DEV_ACCOUNT}/harvested/ml`;
  const harvest = await buildNotifier({ type: 'download', to, accountKey: DEV_KEY }, { dataDir, providers: new Map([['prod', provider]]) });
  const event = await azureEvent(provider);
  const result = await harvest.deliver(event, deliveryContext('h1'));
  expect((result as { detail: string }).detail).toContain('model (server-side copy)');

  const base = 'ml/churn/pipe_1/train/model/';
  expect(await text(harvested, `${base}weights.bin`)).toBe('w'.repeat(5000));
  expect(await text(harvested, `${base}conf/params.json`)).toBe('{"lr":0.1}');
  const manifest = JSON.parse(await text(harvested, `${base}manifest.json`));
  expect(manifest).toMatchObject({ transfer: 'server-side copy', stepName: 'train', output: 'model', totalBytes: 5010 });
  expect(manifest.destination).toBe(`http://127.0.0.1:${proxy.port}/${DEV_ACCOUNT}/harvested/${base}`);
  expect(manifest.files).toEqual([
    { path: 'conf/params.json', size: 10, md5: md5hex('{"lr":0.1}') },
    { path: 'weights.bin', size: 5000, md5: md5hex('w'.repeat(5000)) },
  ]);
  // weights.bin (5000 bytes) went by the asynchronous copy (over syncCopyMaxBytes), params.json by the synchronous one.
  const copies = proxy.requests.filter((r) => r.method === 'PUT' && r.path.startsWith(`/${DEV_ACCOUNT}/harvested/${base}`));
  const puts = copies.map((r) => [
    r.path.slice(`/${DEV_ACCOUNT}/harvested/${base}`.length),
    r.copySource ? (r.syncCopy ? 'sync copy' : 'async copy') : 'upload',
  ]);
  expect(puts.sort()).toEqual([
    ['conf/params.json', 'sync copy'],
    ['manifest.json', 'upload'],
    ['weights.bin', 'async copy'],
  ]);
  // Azurite checks a copy source by asking it for its metadata (as the storage service, axios): those are not the
  // daemon's. The daemon speaks through the Azure SDK (azsdk-js): none of its requests read the source's bytes.
  const daemonReads = proxy.requests.filter((r) => r.userAgent?.includes('azsdk-js') && r.method === 'GET' && r.path.includes('/azureml-blobstore/azureml/'));
  const throughDaemon = daemonReads.reduce((n, r) => n + r.bytes, 0);
  expect(proxy.requests.filter((r) => r.userAgent?.includes('azsdk-js')).length).toBeGreaterThan(3);
  expect(throughDaemon).toBe(0);

  proxy.requests.length = 0;
  expect(((await harvest.deliver(event, deliveryContext('h1'))) as { detail: string }).detail).toBe('already harvested');
  expect(proxy.requests.filter((r) => r.method === 'PUT')).toEqual([]);
});

it('from local runs: uploaded, with the MD5 of each file set on its blob and in the manifest', async () => {
  const local = new LocalProvider({ root: path.join(dataDir, 'runs') });
  const work = path.join(dataDir, 'work');
  await fs.mkdir(work, { recursive: true });
  const run = await execStep(local.store, {
    experiment: 'hx',
    step: 'train',
    cwd: work,
    outputs: { report: 'report.txt' },
    script: 'printf "auc 0.91" > report.txt',
  });
  const track = trackFromRequest({ provider: 'local', experiment: 'hx' }, 'cli', 0);
  const event = stepEvent(track, await local.getStepRun({ stepRunId: run.stepRunId }), Status.Running, 2, Date.now());
  const to = `http://127.0.0.1:${proxy.port}/${DEV_ACCOUNT}/harvested/local-runs`;
  const harvest = await buildNotifier({ type: 'download', to, accountKey: DEV_KEY }, { dataDir, providers: new Map([['local', local as RunProvider]]) });
  expect(((await harvest.deliver(event, deliveryContext('h2'))) as { detail: string }).detail).toContain('report (upload)');
  const base = `local-runs/hx/${event.pipelineRunId}/train/report/`;
  expect(await text(harvested, `${base}report.txt`)).toBe('auc 0.91');
  const props = await harvested.getBlobClient(`${base}report.txt`).getProperties();
  expect(Buffer.from(props.contentMD5!).toString('hex')).toBe(md5hex('auc 0.91'));
  const manifest = JSON.parse(await text(harvested, `${base}manifest.json`));
  expect(manifest).toMatchObject({ transfer: 'upload', files: [{ path: 'report.txt', size: 8, md5: md5hex('auc 0.91') }] });
  expect(await fs.readdir(path.join(dataDir, 'harvest', '.partial')).catch(() => [])).toEqual([]);
});

it('to and dir together, or keep with to, are refused naming the field', async () => {
  await expect(buildNotifier({ type: 'download', to: 'https://acct.blob.core.windows.net/c', dir: '/x' })).rejects.toThrow(/notifiers\.n\.to: give dir or to/);
  await expect(buildNotifier({ type: 'download', to: 'https://acct.blob.core.windows.net/c', keep: { runs: 2 } })).rejects.toThrow(/notifiers\.n\.keep/);
});
