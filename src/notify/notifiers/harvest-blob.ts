// Harvest into a blob container (`to: https://<account>.blob.core.windows.net/<container>/<prefix>`) instead of a
// folder: the same layout ({prefix}/{experiment}/{pipelineRunId}/{step}/{output}/), the same manifest, written
// last, so that a harvest is complete exactly when its manifest is there. From a provider that can copy server-side
// (Azure), the storage service copies the bytes; from others (local runs), the output is downloaded and uploaded.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ContainerClient } from '@azure/storage-blob';
import { assertSafeName, resolveInside } from '../../fs/safe-path';
import { ConfigInvalidError } from '../../model/errors';
import type { PortDataReference, StepRun } from '../../model/step-run';
import type { DownloadedFile } from '../../model/provider';
import type { WatchEvent } from '../../store/events';

export interface BlobHarvestTarget {
  container: ContainerClient;
  /** The prefix inside the container, empty or ending in `/`. */
  prefix: string;
  /** The URL as configured, without any SAS (for manifests and logs). */
  display: string;
}

/** The files of one harvested output, and how they got there. */
export interface BlobHarvest {
  base: string;
  /** The output's data reference, as read for the copy (the manifest names its datastore and path). */
  data: PortDataReference;
  files: DownloadedFile[];
  transfer: 'server-side copy' | 'upload';
  /** Bytes that passed through this process (0 for a server-side copy). */
  bytesThroughDaemon: number;
}

/**
 * The container and prefix of `to`, signed in as change queues are: a shared key from the environment, else a SAS in
 * the URL, else DefaultAzureCredential. Emulator-style URLs (`http://127.0.0.1:10000/<account>/<container>/…`) name
 * the account in the path.
 */
export async function openBlobTarget(to: string, accountKey: string | undefined, field: string): Promise<BlobHarvestTarget> {
  const url = new URL(to);
  const emulator = /^(127\.|localhost$|\[::1\]$)/.test(url.hostname);
  const parts = url.pathname.split('/').filter(Boolean);
  const account = emulator ? parts.shift() : url.hostname.split('.')[0];
  const container = parts.shift();
  if (!account || !container) throw new ConfigInvalidError([`${field}: give https://<account>.blob.core.windows.net/<container>[/<prefix>]`]);
  const prefix = parts.length ? `${parts.join('/')}/` : '';
  const containerUrl = `${url.protocol}//${url.host}${emulator ? `/${account}` : ''}/${container}`;
  const blob = await import('@azure/storage-blob');
  const client = accountKey
    ? new blob.ContainerClient(containerUrl, new blob.StorageSharedKeyCredential(account, accountKey))
    : url.search
      ? new blob.ContainerClient(`${containerUrl}${url.search}`)
      : new blob.ContainerClient(containerUrl, new (await import('@azure/identity')).DefaultAzureCredential());
  return { container: client, prefix, display: `${containerUrl}/${prefix}` };
}

/** Copies (or uploads) one output under its folder of the target. Returns undefined when its manifest is there already. */
export async function harvestToBlobs(
  target: BlobHarvestTarget,
  j: { event: WatchEvent; name: string; stepRun: StepRun; tempRoot: string; deliveryId: string },
): Promise<BlobHarvest | undefined> {
  const s = j.event.stepRun!;
  const segments = [j.event.experiment, j.event.pipelineRunId!, s.name, j.name];
  segments.forEach((seg, i) => assertSafeName(seg, ['experiment', 'pipeline run id', 'step name', 'output name'][i]!));
  const base = `${target.prefix}${segments.join('/')}/`;
  if (await target.container.getBlobClient(`${base}manifest.json`).exists()) return undefined;
  if (await target.container.getBlobClient(`${base}manifest.steprun-watch.json`).exists()) return undefined;
  const data = await j.stepRun.getOutputData(j.name);
  const provider = j.stepRun.experiment.provider;
  const copied = await provider.copyToBlobs?.(data.ref, { container: target.container, prefix: base });
  if (copied) return { base, data, files: copied.files, transfer: 'server-side copy', bytesThroughDaemon: 0 };
  // No server-side copy: through this process, from a folder of its own (kept for a retry, like a folder harvest's).
  const temp = path.join(j.tempRoot, `${j.deliveryId}-${j.name}`);
  const result = await data.download(temp);
  const files: DownloadedFile[] = [];
  for (const f of result.files) {
    const file = resolveInside(temp, f.path);
    const md5 = await md5Of(file);
    await target.container.getBlockBlobClient(`${base}${f.path}`).uploadFile(file, { blobHTTPHeaders: { blobContentMD5: md5 } });
    files.push({ path: f.path, size: f.size, md5: md5.toString('hex') });
  }
  await fs.rm(temp, { recursive: true, force: true });
  return { base, data, files, transfer: 'upload', bytesThroughDaemon: result.bytes };
}

/** The manifest, written last: its presence is what says the harvest is complete. */
export async function writeBlobManifest(target: BlobHarvestTarget, base: string, name: string, manifest: unknown): Promise<void> {
  const body = JSON.stringify(manifest, null, 2) + '\n';
  await target.container
    .getBlockBlobClient(`${base}${name}`)
    .upload(body, Buffer.byteLength(body), { blobHTTPHeaders: { blobContentType: 'application/json' } });
}

async function md5Of(file: string): Promise<Buffer> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest();
}
