// An output copied from its datastore into another blob container by the storage service itself: the daemon sends
// the copy requests, the bytes never pass through it. Up to 256 MiB a blob is one synchronous Put Blob From URL;
// larger ones are an asynchronous Copy Blob, polled to its end. Each copy is checked (size, Content-MD5) after.
import type { BlobClient } from '@azure/storage-blob';
import { IntegrityError } from '../../model/errors';
import type { BlobTarget, CopyResult, DownloadedFile } from '../../model/provider';
import { listBlobsUnder, type BlobItem } from './blob-download';
import type { DatastoreContainer } from './datastore-kinds';

/** How long a source SAS made for a copy stays valid. */
const SOURCE_SAS_MS = 60 * 60 * 1000;

/**
 * Copies every blob under `prefix` to `target`; undefined when the source cannot be handed to the service (an
 * identity-based datastore: the destination would need the source's token, which this daemon does not pass on).
 */
export async function copyBlobs(
  source: DatastoreContainer,
  prefix: string,
  target: BlobTarget,
  o: { signal?: AbortSignal; syncCopyMaxBytes: number },
): Promise<CopyResult | undefined> {
  if (source.auth === 'identity') return undefined;
  const blobs = await listBlobsUnder(source.container, prefix, '/copy-target');
  const files: DownloadedFile[] = [];
  const queue = [...blobs];
  const worker = async (): Promise<void> => {
    for (let b = queue.shift(); b; b = queue.shift()) {
      await copyOne(source, b, target, o);
      files.push({ path: b.rel, size: b.size, ...(b.md5 ? { md5: Buffer.from(b.md5, 'base64').toString('hex') } : {}) });
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, blobs.length) }, worker));
  return { files: files.sort((a, b) => a.path.localeCompare(b.path)), bytes: blobs.reduce((n, b) => n + b.size, 0) };
}

async function copyOne(source: DatastoreContainer, b: BlobItem, target: BlobTarget, o: { signal?: AbortSignal; syncCopyMaxBytes: number }): Promise<void> {
  const signal = o.signal;
  const from = source.container.getBlobClient(b.name);
  const url = await readableUrl(source, from);
  const to = target.container.getBlockBlobClient(`${target.prefix}${b.rel}`);
  // Put Blob From URL takes up to 256 MiB (the service's limit); larger blobs are an asynchronous copy.
  if (b.size <= o.syncCopyMaxBytes) await to.syncCopyFromURL(url, { abortSignal: signal });
  else await (await to.beginCopyFromURL(url, { abortSignal: signal, intervalInMs: 1000 })).pollUntilDone();
  // What the service put there is what was listed: the same size and, where the source has one, the same MD5.
  const copied = await to.getProperties({ abortSignal: signal });
  const md5 = copied.contentMD5?.length ? Buffer.from(copied.contentMD5).toString('base64') : undefined;
  if (copied.contentLength !== b.size) throw new IntegrityError(b.name, `size after the copy (${b.size} bytes, got ${copied.contentLength})`);
  if (b.md5 && md5 && md5 !== b.md5) throw new IntegrityError(b.name, `Content-MD5 after the copy (${b.md5}, got ${md5})`);
}

/** The source as the destination service can read it: with a read-only SAS made from the key, or the datastore's own. */
async function readableUrl(source: DatastoreContainer, blob: BlobClient): Promise<string> {
  if (source.auth === 'sas') return blob.url;
  const { BlobSASPermissions } = await import('@azure/storage-blob');
  return blob.generateSasUrl({ permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + SOURCE_SAS_MS) });
}
