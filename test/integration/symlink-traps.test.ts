// Symbolic links put in the way of harvests, retention and downloads: nothing outside written or deleted (issue 38).
// nothing outside the named folders is written or deleted by a harvest,
// its retention, or a download, whatever symbolic links are put in the way. Each trap is a link inside the folder
// the daemon writes to, pointing at a folder outside it; after each attempt the outside folder is unchanged.
// On the code before: retention deleted three folders outside the harvest folder through a linked experiment
// folder (and the harvest was written there), and an Azure blob download wrote through a linked subfolder.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { Status } from '../../src/model/status';
import { downloadBlobs } from '../../src/providers/azureml/blob-download';
import { LocalProvider } from '../../src/providers/local/provider';
import { stepEvent } from '../../src/store/event-builders';
import { trackFromRequest } from '../../src/store/tracks';
import { Azurite, DEV_ACCOUNT, DEV_KEY } from '../support/azurite';
import { execStep } from '../support/local-runs';
import { buildNotifier, deliveryContext } from '../support/notifiers';
import { tempDir } from '../support/tmp';

const dataDir = tempDir('traps');
const local = new LocalProvider({ root: path.join(dataDir, 'runs') });
const providers = new Map([['local', local]]);

/** Every file and folder under `dir`, with file contents: what "unchanged" is compared on. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, full)] = entry.isFile() ? await fs.readFile(full, 'utf8') : '<dir>';
  }
  return out;
}

/** A folder outside everything the daemon was told about, with three old "run" folders in it. */
async function outsideFolder(name: string): Promise<string> {
  const dir = path.join(dataDir, 'outside', name);
  for (const d of ['d1', 'd2', 'd3']) {
    await fs.mkdir(path.join(dir, d), { recursive: true });
    await fs.writeFile(path.join(dir, d, 'keep.txt'), `${d} must stay`);
  }
  return dir;
}

async function finishedStep(experiment: string) {
  const work = path.join(dataDir, 'work', experiment);
  await fs.mkdir(work, { recursive: true });
  const r = await execStep(local.store, { experiment, step: 'train', cwd: work, outputs: { model: 'model.txt' }, script: 'printf weights > model.txt' });
  const track = trackFromRequest({ provider: 'local', experiment }, 'cli', 0);
  return stepEvent(track, await local.getStepRun({ stepRunId: r.stepRunId }), Status.Running, 2, Date.now());
}

describe('harvest and retention', () => {
  for (const trap of ['experiment', 'run', 'step', '.partial'] as const) {
    it(`a link in place of the ${trap} folder: the harvest is refused, nothing outside written or deleted`, async () => {
      const event = await finishedStep(`trap-${trap.replace('.', '')}`);
      const harvestDir = path.join(dataDir, `harvest-${trap}`);
      const outside = await outsideFolder(trap);
      const before = await snapshot(outside);
      const link = {
        experiment: [event.experiment],
        run: [event.experiment, event.pipelineRunId!],
        step: [event.experiment, event.pipelineRunId!, 'train'],
        '.partial': ['.partial'],
      }[trap];
      await fs.mkdir(path.join(harvestDir, ...link.slice(0, -1)), { recursive: true });
      await fs.symlink(outside, path.join(harvestDir, ...link));
      const harvest = await buildNotifier({ type: 'download', dir: harvestDir, keep: { runs: 1 } }, { dataDir, providers });
      await expect(harvest.deliver(event, deliveryContext(`trap-${trap}`))).rejects.toThrow(/symbolic link/);
      expect(await snapshot(outside)).toEqual(before);
    });
  }
});

describe('Azure blob download', () => {
  const azurite = new Azurite('blob');
  beforeAll(() => azurite.start());
  afterAll(() => azurite.stop());

  it('a linked destination or subfolder is refused (as the local provider refuses it); nothing is written outside', async () => {
    const blobs = new BlobServiceClient(azurite.blobUrl, new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY));
    const container = blobs.getContainerClient('traps');
    await container.createIfNotExists();
    for (const name of ['out/a.txt', 'out/sub/b.txt']) await container.getBlockBlobClient(name).upload('data', 4);

    const outside = await outsideFolder('blob');
    const before = await snapshot(outside);
    const dest = path.join(dataDir, 'blob-dest');
    await fs.mkdir(dest, { recursive: true });
    await fs.symlink(outside, path.join(dest, 'sub'));
    await expect(downloadBlobs(container, 'out', dest)).rejects.toMatchObject({ code: 'SRW_UNSAFE_PATH' });
    const linkedDest = path.join(dataDir, 'blob-linked-dest');
    await fs.symlink(outside, linkedDest);
    await expect(downloadBlobs(container, 'out', linkedDest)).rejects.toMatchObject({ code: 'SRW_UNSAFE_PATH' });
    expect(await snapshot(outside)).toEqual(before);
  });
});
