// A harvest resumes from the bytes on disk. A 256 MB blob on Azurite, harvested by the daemon in 8 MiB
// ranges over a slowed link; SIGKILL at about half; the next daemon takes the delivery over and fetches only the
// ranges that were missing, checks the whole file against its Content-MD5, and writes the manifest with it.
import { createHash, randomFillSync } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { stringify as stringifyYaml } from 'yaml';
import { azureOptions, AzureMlServer, fixture } from '../support/azureml-server';
import { Azurite, DEV_ACCOUNT, DEV_KEY } from '../support/azurite';
import { ProcessGroup, sigkill } from '../support/cli';
import { CountingProxy } from '../support/counting-proxy';
import { dropPrefix, REDIS_URL, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';
import { waitFor } from '../support/wait-for';

jest.setTimeout(180_000);

const MiB = 1024 * 1024;
const SIZE = 256 * MiB;
const RUN = 'pipe_big_1';
const STEP = `${RUN}_train`;
const redis = testRedis();
const prefix = uniquePrefix('harvestkill');
const dir = tempDir('harvestkill');
const harvest = path.join(dir, 'harvest');
const azurite = new Azurite();
const server = new AzureMlServer();
const processes = new ProcessGroup();
let proxy: CountingProxy;
let md5: Buffer;
let env: NodeJS.ProcessEnv;

/** The range state of the interrupted file, once the daemon has written one. */
async function rangesDone(): Promise<number> {
  const partials = await fs.readdir(path.join(harvest, '.partial')).catch(() => [] as string[]);
  for (const p of partials) {
    const state = await fs.readFile(path.join(harvest, '.partial', p, 'weights.bin.partial.json'), 'utf8').catch(() => undefined);
    if (state) return (JSON.parse(state) as { done: number[] }).done.length;
  }
  return 0;
}

async function md5OfFile(file: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

beforeAll(async () => {
  await Promise.all([azurite.start(), server.start()]);
  proxy = new CountingProxy(azurite.port);
  await proxy.start();
  server.storage = { account: DEV_ACCOUNT, key: DEV_KEY, container: 'azureml-blobstore', endpoint: '', protocol: 'http' };
  server.addRun({ ...fixture('pipeline-run'), runId: RUN, status: 'Completed', endTimeUtc: new Date().toISOString() });
  server.addRun({
    ...fixture('step-reused'),
    runId: STEP,
    parentRunId: RUN,
    displayName: 'train',
    properties: {},
    tags: { 'azureml.pipeline': RUN },
    outputs: { model: { assetId: 'azureml://datastores/workspaceblobstore/paths/azureml/big/model/', type: 'UriFolder' } },
  });
  const data = randomFillSync(Buffer.allocUnsafe(SIZE));
  md5 = createHash('md5').update(data).digest();
  const container = new BlobServiceClient(azurite.blobUrl, new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY)).getContainerClient('azureml-blobstore');
  await container.create();
  await container
    .getBlockBlobClient('azureml/big/model/weights.bin')
    .uploadData(data, { blockSize: 8 * MiB, concurrency: 4, blobHTTPHeaders: { blobContentMD5: md5 } });
  const config = {
    redis: { url: REDIS_URL, prefix },
    providers: { prod: azureOptions(server, { blobUrlTemplate: `http://127.0.0.1:${proxy.port}/{account}`, timeoutMs: 30_000 }) },
    poll: { tick: '* * * * * *', minIntervalSeconds: 0.5, maxIntervalSeconds: 1 },
    workers: { lockDurationMs: 2000, reclaimIdleMs: 1000 },
    stuck: { enabled: false },
    notifiers: { harvest: { type: 'download', dir: harvest } },
    routes: [{ match: { type: 'steprun.finished' }, notify: ['harvest'] }],
    tracks: [{ provider: 'prod', pipelineRun: RUN, experiment: 'churn' }],
    api: { enabled: false },
  };
  await fs.writeFile(path.join(dir, 'config.yaml'), stringifyYaml(config));
  env = { SRW_CONFIG: path.join(dir, 'config.yaml'), SRW_DATA_DIR: path.join(dir, 'data') };
});

afterAll(async () => {
  await processes.killAll();
  await Promise.all([azurite.stop(), server.close(), proxy.close()]);
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

it('SIGKILL at about half of a 256 MB harvest: the next daemon fetches only the missing ranges, verified by Content-MD5', async () => {
  proxy.throttle(48 * MiB); // ~5 s for the file: time to stop it halfway
  const first = processes.start(['daemon'], { env });
  await waitFor(async () => (await rangesDone()) >= 16, { timeoutMs: 60_000, intervalMs: 20, what: 'half of the 32 ranges on disk' });
  await sigkill(first);
  const firstBytes = proxy.bytesOf('/weights.bin');
  const kept = await rangesDone();
  expect(kept).toBeLessThan(32);

  proxy.requests.length = 0;
  proxy.throttle(0);
  processes.start(['daemon'], { env });
  const target = path.join(harvest, 'churn', RUN, 'train', 'model');
  const manifest = await waitFor(
    async () => {
      const text = await fs.readFile(path.join(target, 'manifest.json'), 'utf8').catch(() => undefined);
      return text === undefined ? undefined : (JSON.parse(text) as { files: { path: string; md5?: string }[] });
    },
    { timeoutMs: 120_000, what: 'the harvest finished by the second daemon' },
  );
  const secondBytes = proxy.bytesOf('/weights.bin');
  expect(manifest.files).toEqual([expect.objectContaining({ path: 'weights.bin', md5: md5.toString('hex') })]);
  expect(await md5OfFile(path.join(target, 'weights.bin'))).toBe(md5.toString('hex'));
  // Only what was missing came again: the ranges not recorded as done (and nothing from zero).
  expect(secondBytes).toBeLessThanOrEqual((32 - kept) * 8 * MiB);
  expect(secondBytes).toBeLessThan(SIZE * 0.6);
  expect(firstBytes + secondBytes).toBeLessThan(SIZE * 1.25);
  expect(await fs.readdir(path.join(harvest, '.partial'))).toEqual([]);
});
