// Harvest throughput beside a bare @azure/storage-blob download of the same blobs, in the same run: 1 GB in 200
// blobs on Azurite, harvested by the download notifier from an Azure ML step's output (the contract server resolves
// it to the datastore), 4 blobs at a time each way. Then the same output harvested into a blob container: the bytes
// the daemon itself read are counted on a proxy in front of Azurite (a server-side copy reads none).
// Usage: npm run bench:harvest [-- --blobs 200 --mib 5 --rounds 3]
import { mkdirSync, promises as fs, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { createLogger } from '../src/util/logger';
import { Status } from '../src/model/status';
import { builtinNotifiers } from '../src/notify/builtin';
import type { Notifier } from '../src/notify/notifier';
import { parseAzureMlOptions } from '../src/providers/azureml/options';
import { AzureMlProvider } from '../src/providers/azureml/provider';
import { stepEvent } from '../src/store/event-builders';
import { trackFromRequest } from '../src/store/tracks';
import { azureOptions, AzureMlServer, fixture } from '../test/support/azureml-server';
import { Azurite, DEV_ACCOUNT, DEV_KEY } from '../test/support/azurite';
import { CountingProxy } from '../test/support/counting-proxy';
import { arg, round } from './support';

const BLOBS = arg('blobs', 200);
const MIB = arg('mib', 5);
const ROUNDS = arg('rounds', 3);
const PREFIX = 'azureml/step_big_1/model/';

/** The bare baseline: list, then download each blob to a file with the SDK, 4 at a time. */
async function bareDownload(container: ContainerClient, dir: string): Promise<void> {
  const names: string[] = [];
  for await (const b of container.listBlobsFlat({ prefix: PREFIX })) names.push(b.name);
  await fs.mkdir(dir, { recursive: true });
  const queue = [...names];
  const worker = async () => {
    for (let n = queue.shift(); n; n = queue.shift()) await container.getBlobClient(n).downloadToFile(path.join(dir, path.basename(n)));
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function main(): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'srw-bench-harvest-'));
  const azurite = new Azurite();
  const server = new AzureMlServer();
  await Promise.all([azurite.start(), server.start()]);
  const proxy = new CountingProxy(azurite.port);
  await proxy.start();
  try {
    server.storage = { account: DEV_ACCOUNT, key: DEV_KEY, container: 'azureml-blobstore', endpoint: '', protocol: 'http' };
    server.addRun({ ...fixture('pipeline-run'), runId: 'pipe_big_1' });
    server.addRun({
      ...fixture('step-reused'),
      runId: 'step_big_1',
      parentRunId: 'pipe_big_1',
      displayName: 'train',
      properties: {},
      outputs: { model: { assetId: `azureml://datastores/workspaceblobstore/paths/${PREFIX}`, type: 'UriFolder' } },
    });
    const service = new BlobServiceClient(azurite.blobUrl, new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY));
    const source = service.getContainerClient('azureml-blobstore');
    await Promise.all([source.create(), service.getContainerClient('harvested').create()]);
    const blob = Buffer.alloc(MIB * 1024 * 1024);
    for (let i = 0; i < BLOBS; i += 8)
      await Promise.all(
        Array.from({ length: Math.min(8, BLOBS - i) }, (_, k) => {
          blob.writeUInt32LE(i + k, 0); // each blob its own bytes (and MD5)
          return source.getBlockBlobClient(`${PREFIX}part-${String(i + k).padStart(4, '0')}.bin`).uploadData(Buffer.from(blob));
        }),
      );
    const totalBytes = BLOBS * MIB * 1024 * 1024;

    const provider = new AzureMlProvider(parseAzureMlOptions(azureOptions(server, { blobUrlTemplate: `http://127.0.0.1:${proxy.port}/{account}` }), 'prod'));
    const providers = new Map([['prod', provider]]);
    const snapshot = await provider.getStepRun({ stepRunId: 'step_big_1' });
    const track = trackFromRequest({ provider: 'prod', pipelineRun: 'pipe_big_1', experiment: 'churn' }, 'cli', 0);
    const event = { ...stepEvent(track, snapshot, Status.Running, 2, Date.now()), experiment: 'churn' };
    const logger = createLogger({ level: 'warn', pretty: false });
    const notifier = (options: Record<string, unknown>): Promise<Notifier> =>
      builtinNotifiers().create({ type: 'download', ...options }, { name: 'harvest', dataDir: work, baseDir: work, logger, providers, services: {} });
    const deliver = (n: Notifier, id: string) => n.deliver(event, { deliveryId: id, attempt: 1, logger, signal: new AbortController().signal });
    const bareContainer = new BlobServiceClient(
      `http://127.0.0.1:${proxy.port}/${DEV_ACCOUNT}`,
      new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY),
    ).getContainerClient('azureml-blobstore');

    const rounds: { bareSeconds: number; harvestSeconds: number; ratio: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const bareSeconds = await timed(() => bareDownload(bareContainer, path.join(work, `bare-${r}`)));
      const harvest = await notifier({ dir: path.join(work, `harvest-${r}`) });
      const harvestSeconds = await timed(() => deliver(harvest, `round-${r}`));
      rounds.push({ bareSeconds: round(bareSeconds), harvestSeconds: round(harvestSeconds), ratio: round(bareSeconds / harvestSeconds) });
      await fs.rm(path.join(work, `bare-${r}`), { recursive: true });
      await fs.rm(path.join(work, `harvest-${r}`), { recursive: true });
    }

    proxy.requests.length = 0;
    const toBlobs = await notifier({ to: `http://127.0.0.1:${proxy.port}/${DEV_ACCOUNT}/harvested/bench`, accountKey: DEV_KEY });
    const copySeconds = await timed(() => deliver(toBlobs, 'copy'));
    const daemonReadBytes = proxy.requests
      .filter((q) => q.userAgent?.includes('azsdk-js') && q.method === 'GET' && q.path.includes('/azureml-blobstore/'))
      .reduce((n, q) => n + q.bytes, 0);

    const best = rounds.reduce((a, b) => (b.ratio > a.ratio ? b : a));
    const results = {
      machine: `${os.cpus().length} cores, node ${process.version}`,
      blobs: BLOBS,
      blobMiB: MIB,
      totalMiB: round(totalBytes / 1024 / 1024),
      rounds,
      medianRatio: [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)]!.ratio,
      bestRatio: best.ratio,
      harvestMiBPerSecond: round(totalBytes / 1024 / 1024 / best.harvestSeconds),
      serverSideCopy: { seconds: round(copySeconds), bytesReadByDaemon: daemonReadBytes, ofTotal: round(daemonReadBytes / totalBytes) },
    };
    process.stdout.write(JSON.stringify(results, null, 2) + '\n');
    mkdirSync(path.join(__dirname, '../../bench/results'), { recursive: true });
    writeFileSync(path.join(__dirname, '../../bench/results/harvest.json'), JSON.stringify(results, null, 2) + '\n');
  } finally {
    await Promise.all([proxy.close(), azurite.stop(), server.close()]);
    await fs.rm(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
