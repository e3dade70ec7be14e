// Datastores as enterprises use them, and downloads worth trusting. Against the Azure ML contract server and
// Azurite: lookups cached per datastore, ADLS Gen2 through the Blob endpoint, Azure Files refused with what to do,
// every file checked against its Content-MD5 before it is put in place, large blobs in parallel ranges that resume,
// and identity-based datastores read with the provider's own token over HTTPS (trusted through NODE_EXTRA_CA_CERTS).
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { stringify } from 'yaml';
import { parseAzureMlOptions } from '../../../src/providers/azureml/options';
import { AzureMlProvider } from '../../../src/providers/azureml/provider';
import type { OutputRef } from '../../../src/model/provider';
import { Azurite, DEV_ACCOUNT, DEV_KEY } from '../../support/azurite';
import { azureOptions, AzureMlServer, fixture } from '../../support/azureml-server';
import { cli } from '../../support/cli';
import { CountingProxy } from '../../support/counting-proxy';
import { REDIS_URL } from '../../support/redis';
import { entraToken, makeTestCa } from '../../support/test-ca';
import { tempDir } from '../../support/tmp';

const MiB = 1024 * 1024;
const server = new AzureMlServer();
const dir = tempDir('datastores');
const md5hex = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
const sha256hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A step run whose one output lives on `datastore` under `folder`. */
function stepWithOutput(runId: string, datastore: string, folder: string): Record<string, unknown> {
  return { ...fixture('step-reused'), runId, outputs: { out: { assetId: `azureml://datastores/${datastore}/paths/${folder}/`, type: 'UriFolder' } } };
}

function output(datastore: string, folder: string): OutputRef {
  return { stepRunId: 's', pipelineRunId: 'p', experiment: 'e', name: 'out', datastore, pathOnDatastore: `${folder}/` };
}

async function upload(container: ContainerClient, name: string, data: Buffer | string): Promise<void> {
  await container.getBlockBlobClient(name).upload(data, Buffer.byteLength(data));
}

beforeAll(async () => {
  await server.start();
});
afterAll(async () => {
  await server.close();
});

describe('key and ADLS Gen2 datastores, lookups, integrity, ranges', () => {
  const azurite = new Azurite();
  let proxy: CountingProxy;
  let blobs: BlobServiceClient;
  let provider: (extra?: Record<string, unknown>) => AzureMlProvider;

  beforeAll(async () => {
    await azurite.start();
    proxy = new CountingProxy(azurite.port);
    await proxy.start();
    server.storage = { account: DEV_ACCOUNT, key: DEV_KEY, container: 'azureml-blobstore', endpoint: '', protocol: 'http' };
    const adls = {
      accountName: DEV_ACCOUNT,
      filesystem: 'lakefs',
      endpoint: 'core.windows.net',
      protocol: 'https',
      credentials: { credentialsType: 'AccountKey' },
    };
    server.datastores.set('lake', { properties: { datastoreType: 'AzureDataLakeGen2', ...adls }, secrets: { secretsType: 'AccountKey', key: DEV_KEY } });
    server.datastores.set('share', {
      properties: { datastoreType: 'AzureFile', accountName: DEV_ACCOUNT, fileShareName: 'outputs', credentials: { credentialsType: 'AccountKey' } },
      secrets: { secretsType: 'AccountKey', key: DEV_KEY },
    });
    provider = (extra = {}) =>
      new AzureMlProvider(parseAzureMlOptions(azureOptions(server, { blobUrlTemplate: `http://127.0.0.1:${proxy.port}/{account}`, ...extra }), 'prod'));
    blobs = new BlobServiceClient(azurite.blobUrl, new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY));
    const store = blobs.getContainerClient('azureml-blobstore');
    await store.create();
    for (let i = 0; i < 3; i++) await upload(store, `azureml/many/out/part-${i}.csv`, `row ${i}\n`);
    await blobs.getContainerClient('lakefs').create();
    await upload(blobs.getContainerClient('lakefs'), 'results/metrics/auc.json', '{"auc":0.93}\n');
  });
  afterAll(async () => {
    await proxy.close();
    await azurite.stop();
  });
  beforeEach(() => {
    server.requests.length = 0;
    proxy.requests.length = 0;
  });

  it('50 downloads from one datastore cost one ARM lookup and one listSecrets; the lookup is asked again once it is old', async () => {
    const p = provider();
    for (let i = 0; i < 50; i++) await p.download(output('workspaceblobstore', 'azureml/many/out'), path.join(dir, 'many', String(i)));
    expect(await fs.readFile(path.join(dir, 'many', '49', 'part-2.csv'), 'utf8')).toBe('row 2\n');
    expect(server.count(/\/datastores\/workspaceblobstore$/)).toBe(1);
    expect(server.count(/\/datastores\/workspaceblobstore\/listSecrets$/)).toBe(1);

    const shortLived = provider({ datastoreCacheSeconds: 1 });
    await shortLived.download(output('workspaceblobstore', 'azureml/many/out'), path.join(dir, 'short', '1'));
    await new Promise((r) => setTimeout(r, 1100)); // the cache's own lifetime is what is tested: a time, on purpose
    await shortLived.download(output('workspaceblobstore', 'azureml/many/out'), path.join(dir, 'short', '2'));
    expect(server.count(/\/datastores\/workspaceblobstore$/)).toBe(3);
  });

  it('an ADLS Gen2 datastore is read through the Blob endpoint: its filesystem is the container', async () => {
    server.addRun(stepWithOutput('step_lake', 'lake', 'results'));
    const [out] = await provider().listOutputs({ stepRunId: 'step_lake' });
    expect(out).toMatchObject({ datastore: 'lake', pathOnDatastore: 'results/' });
    const result = await provider().download(out!, path.join(dir, 'lake'));
    expect(result.files).toEqual([{ path: 'metrics/auc.json', size: 13, md5: md5hex('{"auc":0.93}\n'), sha256: sha256hex('{"auc":0.93}\n') }]);
    expect(await fs.readFile(path.join(dir, 'lake', 'metrics/auc.json'), 'utf8')).toBe('{"auc":0.93}\n');
    expect(proxy.requests.some((r) => r.path.startsWith(`/${DEV_ACCOUNT}/lakefs`))).toBe(true);
  });

  it('an Azure Files datastore is refused with a coded error naming its type and what to do', async () => {
    const refused = provider().download(output('share', 'outputs'), path.join(dir, 'share'));
    await expect(refused).rejects.toMatchObject({ code: 'SRW_DATASTORE_UNSUPPORTED' });
    await expect(refused).rejects.toThrow(/datastore share is AzureFile.*blob or ADLS Gen2 datastore.*download-batch/);
    expect(existsSync(path.join(dir, 'share'))).toBe(false);
  });

  it('a blob that does not match its Content-MD5 is fetched 3 times, then SRW_INTEGRITY_FAILED; nothing is put in place', async () => {
    const store = blobs.getContainerClient('azureml-blobstore');
    await upload(store, 'azureml/corrupt/out/good.txt', 'fine\n');
    await upload(store, 'azureml/corrupt/out/bad.bin', 'what arrived\n');
    // The service's checksum says other bytes: what a corrupted transfer looks like from the client.
    await store.getBlobClient('azureml/corrupt/out/bad.bin').setHTTPHeaders({ blobContentMD5: createHash('md5').update('what was written\n').digest() });
    const dest = path.join(dir, 'corrupt');
    const failed = provider().download(output('workspaceblobstore', 'azureml/corrupt/out'), dest);
    await expect(failed).rejects.toMatchObject({ code: 'SRW_INTEGRITY_FAILED', retryable: true });
    await expect(failed).rejects.toThrow(/bad\.bin: the download does not match the service's Content-MD5 .* after 3 tries/);
    expect(proxy.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/bad.bin'))).toHaveLength(3);
    expect(existsSync(path.join(dest, 'bad.bin'))).toBe(false);
    expect(existsSync(path.join(dest, 'bad.bin.partial'))).toBe(false);
  });

  it('a large blob comes in parallel ranges; a download stopped halfway resumes with the ranges it lacks', async () => {
    const data = randomBytes(12 * MiB + 4321);
    const store = blobs.getContainerClient('azureml-blobstore');
    // Uploaded in blocks (as large files are) with the checksum the uploader sets: the whole file's MD5.
    await store.getBlockBlobClient('azureml/big/out/model.bin').uploadData(data, {
      blockSize: 2 * MiB,
      maxSingleShotSize: MiB,
      blobHTTPHeaders: { blobContentMD5: createHash('md5').update(data).digest() },
    });
    const p = provider({ downloadRangeBytes: 256 * 1024 });
    const dest = path.join(dir, 'big');
    const stop = new AbortController();
    const first = p.download(output('workspaceblobstore', 'azureml/big/out'), dest, {
      signal: stop.signal,
      onProgress: (done, total) => done > total! * 0.6 && stop.abort(),
    });
    await expect(first).rejects.toThrow();
    // Stopped means stopped: nothing of the first download goes on writing its state (a second one would race it).
    const stateAtStop = await fs.readFile(path.join(dest, 'model.bin.partial.json'), 'utf8');
    await new Promise((r) => setTimeout(r, 300));
    expect(await fs.readFile(path.join(dest, 'model.bin.partial.json'), 'utf8')).toBe(stateAtStop);
    const firstBytes = proxy.bytesOf('/model.bin');
    const ranges = proxy.requests.filter((r) => r.path.endsWith('/model.bin') && r.range);
    expect(ranges.length).toBeGreaterThan(4);
    expect(existsSync(path.join(dest, 'model.bin'))).toBe(false);
    expect(existsSync(path.join(dest, 'model.bin.partial.json'))).toBe(true);

    proxy.requests.length = 0;
    const result = await p.download(output('workspaceblobstore', 'azureml/big/out'), dest);
    const secondBytes = proxy.bytesOf('/model.bin');
    expect(result.files).toEqual([{ path: 'model.bin', size: data.length, md5: md5hex(data), sha256: sha256hex(data) }]);
    expect(md5hex(await fs.readFile(path.join(dest, 'model.bin')))).toBe(md5hex(data));
    // What was on disk was kept: stopped at 60 % (at most 4 ranges of 256 KiB in flight, lost), the second run
    // fetched well under the whole file, and the two runs together about the file once.
    expect(secondBytes).toBeLessThan(data.length * 0.6);
    expect(firstBytes + secondBytes).toBeLessThan(data.length * 1.5);
    expect(existsSync(path.join(dest, 'model.bin.partial.json'))).toBe(false);
  });
});

describe('identity-based datastores over HTTPS', () => {
  const ca = makeTestCa(dir);
  const azurite = new Azurite('blob', { tls: { cert: ca.cert, key: ca.key }, oauth: true });
  const runDownload = async (token: string, env: Record<string, string>) => {
    server.token = token;
    const options = azureOptions(server, { credential: { token }, blobUrlTemplate: `https://127.0.0.1:${azurite.port}/{account}` });
    const configFile = path.join(dir, `identity-${Math.random()}.yaml`);
    await fs.writeFile(configFile, stringify({ redis: { url: REDIS_URL }, providers: { prod: options } }));
    const dest = path.join(dir, `identity-${Math.random()}`);
    const result = await cli(['download', 'step_secure', 'out', dest, '--provider', 'prod'], { env: { SRW_CONFIG: configFile, SRW_DATA_DIR: dir, ...env } });
    return { ...result, dest };
  };

  beforeAll(async () => {
    await azurite.start();
    // The test seeds the data with the account key (over HTTPS, trusting the test CA in this process only).
    const { Agent } = await import('node:https');
    const blobs = new BlobServiceClient(azurite.blobUrl, new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY), {
      agent: new Agent({ ca: await fs.readFile(ca.caFile) }),
    } as never);
    await blobs.getContainerClient('secure-data').create();
    await upload(blobs.getContainerClient('secure-data'), 'features/train.parquet', 'PAR1 rows\n');
    server.datastores.set('secure', {
      properties: { datastoreType: 'AzureBlob', accountName: DEV_ACCOUNT, containerName: 'secure-data', credentials: { credentialsType: 'None' } },
    });
    server.addRun(stepWithOutput('step_secure', 'secure', 'features'));
  });
  afterAll(async () => {
    await azurite.stop();
  });
  beforeEach(() => (server.requests.length = 0));

  it('credentials None: no listSecrets, the blobs read with the provider’s Entra token for storage', async () => {
    const ok = await runDownload(entraToken('https://storage.azure.com'), { NODE_EXTRA_CA_CERTS: ca.caFile });
    expect(ok.stderr).toMatch(/^downloaded 1 file\(s\), 10 bytes/);
    expect(ok.code).toBe(0);
    expect(await fs.readFile(path.join(ok.dest, 'train.parquet'), 'utf8')).toBe('PAR1 rows\n');
    expect(server.count(/\/datastores\/secure\/listSecrets$/)).toBe(0);
  });

  it('a token for another audience is refused with SRW_PROVIDER_AUTH naming the missing role', async () => {
    const refused = await runDownload(entraToken('https://management.azure.com'), { NODE_EXTRA_CA_CERTS: ca.caFile });
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/refused this provider's identity for datastore secure .*"Storage Blob Data Reader".*\[SRW_PROVIDER_AUTH\]/);
  });

  it('the storage certificate is trusted only through NODE_EXTRA_CA_CERTS: without it the download fails', async () => {
    const untrusted = await runDownload(entraToken('https://storage.azure.com'), { NODE_EXTRA_CA_CERTS: '' });
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.stderr).toMatch(/certificate/i);
  });
});
