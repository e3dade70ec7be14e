// The download notifier: harvests a finished step's outputs into {dir}/{experiment}/{pipelineRunId}/{step}/{output}/ with a manifest.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { applyRetention, markInFlight } from './harvest-retention';
import { assertNotLinked, assertSafeName, realFolderInside, resolveInside } from '../../fs/safe-path';
import { DeliveryError, isSrwError, UnsafePathError } from '../../model/errors';
import { StepRun, type PortDataReference } from '../../model/step-run';
import { Experiment, Workspace } from '../../model/workspace';
import type { WatchEvent } from '../../store/events';
import { harvestToBlobs, openBlobTarget, writeBlobManifest, type BlobHarvestTarget } from './harvest-blob';
import type { DeliveryContext, Notifier, NotifierFactory } from '../notifier';
import { parseOptions } from '../options';
import { globToRegExp } from '../../store/event-fields';

const optionsSchema = z
  .strictObject({
    type: z.literal('download'),
    /** Harvest folder (default <data-dir>/harvest). */
    dir: z.string().optional(),
    /** Harvest into a blob container instead: `https://<account>.blob.core.windows.net/<container>[/<prefix>]`. */
    to: z.string().url().optional(),
    /** The destination account's key (from the environment), for `to`; without it a SAS in `to`, else DefaultAzureCredential. */
    accountKey: z.string().min(1).optional(),
    /** Output names or globs to harvest (default: all). */
    outputs: z.array(z.string().min(1)).optional(),
    /** Harvest reused steps too (their outputs are the earlier run's). */
    reused: z.boolean().default(true),
    /** Log progress for outputs larger than this. */
    progressAboveBytes: z
      .number()
      .int()
      .nonnegative()
      .default(10 * 1024 * 1024),
    /** Retention per experiment, applied after each harvest: the newest `runs` pipeline runs, or those of the last `days`. */
    keep: z
      .strictObject({ runs: z.number().int().positive().optional(), days: z.number().positive().optional() })
      .refine((k) => k.runs !== undefined || k.days !== undefined, { message: 'give runs or days' })
      .optional(),
  })
  .refine((o) => !(o.to && o.dir), { message: 'give dir or to, not both', path: ['to'] })
  .refine((o) => !(o.to && o.keep), { message: 'keep applies to a harvest folder (dir), not to a blob container', path: ['keep'] });

export interface ManifestFile {
  path: string;
  size: number;
  /** Computed from the harvested file (a folder harvest; a server-side copy has no bytes here to hash). */
  sha256?: string;
  /** The service's Content-MD5 (hex) the download was verified against, when it had one. */
  md5?: string;
}

export interface Manifest {
  provider: string;
  experiment: string;
  pipelineRunId: string;
  stepName: string;
  stepRunId: string;
  output: string;
  isReused: boolean;
  /** The run the data comes from: the reused one for a reused step. */
  sourceRunIds: { stepRunId: string; pipelineRunId: string };
  datastore: string;
  pathOnDatastore: string;
  harvestedAt: string;
  totalBytes: number;
  files: ManifestFile[];
  /** A harvest into a blob container: where, and whether the bytes went by server-side copy or through the daemon. */
  destination?: string;
  transfer?: 'server-side copy' | 'upload';
}

export const downloadNotifierFactory: NotifierFactory = (raw, ctx): Notifier => {
  const o = parseOptions(optionsSchema, raw, ctx.name);
  const root = path.resolve(ctx.dataDir, o.dir ?? 'harvest');
  const wanted = o.outputs?.map(globToRegExp);
  // Opened on the first harvest (the Blob SDK loads then); a failure to open is retried with the delivery.
  let blobTarget: Promise<BlobHarvestTarget> | undefined;
  const openTarget = () =>
    openBlobTarget(o.to!, o.accountKey, `notifiers.${ctx.name}.to`).catch((err: Error) => ((blobTarget = undefined), Promise.reject(err)));
  return {
    type: 'download',
    name: ctx.name,
    async deliver(event, delivery) {
      const s = event.stepRun;
      if (event.type !== 'steprun.finished' || !s) return { detail: `skipped: only steprun.finished events are harvested` };
      if (s.isReused && !o.reused) return { detail: 'skipped: reused step' };
      const names = s.outputNames.filter((n) => !wanted || wanted.some((re) => re.test(n)));
      if (names.length === 0) return { detail: 'no outputs to harvest' };
      const provider = ctx.providers.get(event.provider);
      if (!provider) throw new DeliveryError(`provider "${event.provider}" is not configured here`, { retryable: false });
      const stepRun = new StepRun(new Experiment(new Workspace(provider), event.experiment), s.stepRunId, event.pipelineRunId!, s.nodeId);
      if (o.to) {
        const tempRoot = await realFolderInside(root, '.partial').catch((err: Error) => {
          throw refusedOrRetried(err);
        });
        return harvestAllToBlobs(await (blobTarget ??= openTarget()), { event, names, stepRun, tempRoot, delivery });
      }
      const done: string[] = [];
      // Marked in flight from the first byte to the last: retention (here or in another worker) leaves the run alone.
      const runFolder = await runFolderOf(root, event);
      const release = await markInFlight(runFolder, delivery.deliveryId);
      try {
        for (const name of names) {
          const folder = await harvestOne({
            root,
            event,
            name,
            stepRun,
            deliveryId: delivery.deliveryId,
            progressAboveBytes: o.progressAboveBytes,
            log: (f) => delivery.logger.info(f, 'harvest progress'),
          });
          done.push(folder);
        }
      } finally {
        await release();
      }
      const deleted = o.keep ? await applyRetention(path.dirname(runFolder), o.keep, { now: Date.now(), current: event.pipelineRunId! }) : [];
      if (deleted.length) delivery.logger.info({ experiment: event.experiment, deleted, keep: o.keep }, 'harvest retention');
      return { detail: `harvested ${done.length} output(s) into ${path.dirname(done[0]!)}${deleted.length ? `; removed ${deleted.length} older run(s)` : ''}` };
    },
  };
};

interface HarvestJob {
  root: string;
  event: WatchEvent;
  name: string;
  stepRun: StepRun;
  deliveryId: string;
  progressAboveBytes: number;
  log(fields: Record<string, unknown>): void;
}

/** Every output into the blob container, each complete once its manifest blob is written. */
async function harvestAllToBlobs(
  target: BlobHarvestTarget,
  j: { event: WatchEvent; names: string[]; stepRun: StepRun; tempRoot: string; delivery: DeliveryContext },
): Promise<{ detail: string }> {
  const said: string[] = [];
  for (const name of j.names) {
    try {
      const done = await harvestToBlobs(target, { event: j.event, name, stepRun: j.stepRun, tempRoot: j.tempRoot, deliveryId: j.delivery.deliveryId });
      if (!done) continue; // a retried delivery: this output is there already
      const data = await j.stepRun.getOutputData(name);
      const manifest = {
        ...manifestOf(j.event, name, data, done.files),
        destination: `${target.display}${done.base.slice(target.prefix.length)}`,
        transfer: done.transfer,
      };
      await writeBlobManifest(target, done.base, manifestName(done.files), manifest);
      j.delivery.logger.info(
        { output: name, transfer: done.transfer, bytesThroughDaemon: done.bytesThroughDaemon, files: done.files.length },
        'harvested to blobs',
      );
      said.push(`${name} (${done.transfer})`);
    } catch (err) {
      if (err instanceof UnsafePathError) throw new DeliveryError(`harvest refused: ${err.message}`, { retryable: false, cause: err });
      throw new DeliveryError(`harvest of output "${name}" to ${target.display} failed: ${(err as Error).message}`, {
        retryable: isSrwError(err) ? err.retryable : true,
        cause: err,
      });
    }
  }
  return { detail: said.length ? `harvested ${said.join(', ')} into ${target.display}` : 'already harvested' };
}

/**
 * `{root}/{experiment}/{pipelineRunId}`, made with real folders; refused (not retried) when a name would escape the
 * harvest folder or a symbolic link stands on the way (retention deletes under it).
 */
async function runFolderOf(root: string, event: WatchEvent): Promise<string> {
  try {
    assertSafeName(event.experiment, 'experiment');
    assertSafeName(event.pipelineRunId!, 'pipeline run id');
    return await realFolderInside(root, `${event.experiment}/${event.pipelineRunId}`);
  } catch (err) {
    throw refusedOrRetried(err);
  }
}

/**
 * A path that may not be used (a name escaping the folder, a symbolic link on the way) is refused for good; a folder
 * the file system will not make now (ENOTDIR, EACCES, a full disk) may be fixed: retried, then dead-lettered.
 */
function refusedOrRetried(err: unknown): DeliveryError {
  const message = (err as Error).message;
  return err instanceof UnsafePathError
    ? new DeliveryError(`harvest refused: ${message}`, { retryable: false, cause: err })
    : new DeliveryError(`harvest folder not usable: ${message}`, { retryable: true, cause: err });
}

/**
 * Downloads into a temp folder beside the target, writes the manifest, then renames: a retry never leaves half a
 * harvest. The temp folder is the delivery's own (no random part) and survives a retryable failure or a crash, so
 * the retry — in this process or the next daemon — resumes from the files and ranges already on disk.
 */
async function harvestOne(j: HarvestJob): Promise<string> {
  const s = j.event.stepRun!;
  const segments = [j.event.experiment, j.event.pipelineRunId!, s.name, j.name];
  let target: string;
  try {
    segments.forEach((seg, i) => assertSafeName(seg, ['experiment', 'pipeline run id', 'step name', 'output name'][i]!));
    target = resolveInside(j.root, segments.join('/'));
  } catch (err) {
    throw new DeliveryError(`harvest refused: ${(err as Error).message}`, { retryable: false, cause: err });
  }
  let temp: string;
  try {
    // Real folders all the way: a link in place of the step or .partial folder would take the harvest elsewhere.
    await realFolderInside(j.root, segments.slice(0, 3).join('/'));
    temp = path.join(await realFolderInside(j.root, '.partial'), `${j.deliveryId}-${j.name}`);
    await assertNotLinked(target);
    await assertNotLinked(temp);
  } catch (err) {
    throw refusedOrRetried(err);
  }
  if (await complete(target)) return target; // a retried delivery: the harvest is there already
  try {
    const data = await j.stepRun.getOutputData(j.name);
    let lastLog = 0;
    const result = await data.download(temp, {
      onProgress: (doneBytes, total) => {
        if ((total ?? doneBytes) < j.progressAboveBytes || Date.now() - lastLog < 2000) return;
        lastLog = Date.now();
        j.log({ output: j.name, doneBytes, totalBytes: total });
      },
    });
    const files: ManifestFile[] = [];
    for (const f of result.files)
      files.push({ path: f.path, size: f.size, sha256: f.sha256 ?? (await sha256(resolveInside(temp, f.path))), ...(f.md5 ? { md5: f.md5 } : {}) });
    const manifest = manifestOf(j.event, j.name, data, files);
    await fs.writeFile(path.join(temp, manifestName(files)), JSON.stringify(manifest, null, 2) + '\n');
    await fs.rm(target, { recursive: true, force: true }); // an incomplete leftover (no manifest) from a crash
    await fs.rename(temp, target);
    return target;
  } catch (err) {
    const retryable = err instanceof DeliveryError ? err.retryable : isSrwError(err) ? err.retryable : true;
    // What was fetched is kept for the retry; a harvest that will not be retried leaves nothing behind.
    if (!retryable) await fs.rm(temp, { recursive: true, force: true }).catch(() => undefined);
    if (err instanceof DeliveryError) throw err;
    throw new DeliveryError(`harvest of output "${j.name}" failed: ${(err as Error).message}`, { retryable, cause: err });
  }
}

/** What a harvested output's manifest says: where it came from (the reused run for a reused step), and its files. */
export function manifestOf(event: WatchEvent, output: string, data: PortDataReference, files: ManifestFile[]): Manifest {
  const s = event.stepRun!;
  return {
    provider: event.provider,
    experiment: event.experiment,
    pipelineRunId: event.pipelineRunId!,
    stepName: s.name,
    stepRunId: s.stepRunId,
    output,
    isReused: s.isReused,
    sourceRunIds:
      s.isReused && s.reusedRunId
        ? { stepRunId: s.reusedRunId, pipelineRunId: s.reusedPipelineRunId ?? '' }
        : { stepRunId: s.stepRunId, pipelineRunId: event.pipelineRunId! },
    datastore: data.datastoreName,
    pathOnDatastore: data.pathOnDatastore,
    harvestedAt: new Date().toISOString(),
    totalBytes: files.reduce((n, f) => n + f.size, 0),
    files,
  };
}

/** `manifest.json`, unless the output has a file of that name: then `manifest.steprun-watch.json`, never clobbering data. */
export function manifestName(files: { path: string }[]): string {
  return files.some((f) => f.path === 'manifest.json') ? 'manifest.steprun-watch.json' : 'manifest.json';
}

async function complete(folder: string): Promise<boolean> {
  const names = await fs.readdir(folder).catch(() => [] as string[]);
  return names.includes('manifest.steprun-watch.json') || (names.includes('manifest.json') && (await isOurManifest(path.join(folder, 'manifest.json'))));
}

async function isOurManifest(file: string): Promise<boolean> {
  try {
    const m = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<Manifest>;
    return Array.isArray(m.files) && typeof m.sourceRunIds === 'object';
  } catch {
    return false;
  }
}

function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (c) => hash.update(c))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}
