// Downloads every blob under a prefix into a folder: verified, resumable, in parallel.
//
// * Each file is written to `<name>.partial` and renamed into place only once it matches the service's Content-MD5
//   (else its size): a reader never sees half a file or a corrupt one. A mismatch is retried, then IntegrityError.
// * Small blobs are one streamed GET, hashed as they arrive. Blobs over `rangeBytes` are fetched in ranges, several
//   at once, each written at its offset; `<name>.partial.json` records the ranges on disk and the blob's ETag, so a
//   download killed halfway resumes with the ranges it lacks (a changed blob starts over).
// * A complete file (same size) is skipped, so a retry of the whole prefix resumes too.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobClient, ContainerClient } from '@azure/storage-blob';
import { assertNotLinked, realFolderInside, resolveInside } from '../../fs/safe-path';
import { IntegrityError, UnsafePathError } from '../../model/errors';
import type { DownloadOptions, DownloadResult, DownloadedFile } from '../../model/provider';

export interface BlobDownloadOptions extends DownloadOptions {
  /** Blobs larger than this are fetched in ranges of this size (default 8 MiB). */
  rangeBytes?: number;
  /** Blobs downloaded at once (default 4), and ranges of one large blob at once (default 4). */
  parallelBlobs?: number;
  parallelRanges?: number;
}

export interface BlobItem {
  name: string;
  rel: string;
  size: number;
  etag?: string;
  /** Content-MD5 as the service keeps it (base64), when it has one. */
  md5?: string;
}

/** What `<name>.partial.json` holds: which ranges of which blob version are already on disk. */
interface PartialState {
  etag?: string;
  size: number;
  rangeBytes: number;
  done: number[];
}

const ATTEMPTS = 3;
const MiB = 1024 * 1024;

export async function downloadBlobs(container: ContainerClient, prefix: string, localPath: string, opts: BlobDownloadOptions = {}): Promise<DownloadResult> {
  // Written into, never through a link: the destination and every folder made under it are real folders.
  await assertNotLinked(localPath);
  const blobs = await listBlobsUnder(container, prefix, localPath);
  const total = blobs.reduce((n, b) => n + b.size, 0);
  let done = 0;
  const progress = (bytes: number) => {
    done += bytes;
    opts.onProgress?.(done, total);
  };
  const files: DownloadedFile[] = [];
  const queue = [...blobs];
  const worker = async (): Promise<void> => {
    for (let b = queue.shift(); b; b = queue.shift()) {
      const target = resolveInside(localPath, b.rel);
      const existing = await fs.lstat(target).catch(() => undefined);
      let sha256: string | undefined;
      if (existing?.isSymbolicLink()) throw new UnsafePathError(target, 'destination is a symbolic link');
      if (!existing || existing.size !== b.size || opts.overwrite) {
        await realFolderInside(localPath, path.dirname(b.rel));
        sha256 = await fetchVerified(container.getBlobClient(b.name), b, target, opts, progress);
      } else progress(b.size);
      files.push({ path: b.rel, size: b.size, ...(b.md5 ? { md5: Buffer.from(b.md5, 'base64').toString('hex') } : {}), ...(sha256 ? { sha256 } : {}) });
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.parallelBlobs ?? 4, blobs.length) }, worker));
  return { localPath: path.resolve(localPath), files: files.sort((a, b) => a.path.localeCompare(b.path)), bytes: total };
}

/**
 * The blobs under a prefix, with their names relative to it, size, ETag and Content-MD5 (base64). A name that would
 * escape `root` (`..`, absolute) is refused: a blob name must not choose where it lands.
 */
export async function listBlobsUnder(container: ContainerClient, prefix: string, root: string): Promise<BlobItem[]> {
  const base = prefix.replace(/^\/+/, '');
  const blobs: BlobItem[] = [];
  for await (const blob of container.listBlobsFlat({ prefix: base })) {
    const rel = blob.name.slice(base.length).replace(/^\/+/, '');
    if (!rel) continue;
    resolveInside(root, rel);
    const md5 = blob.properties.contentMD5;
    blobs.push({
      name: blob.name,
      rel,
      size: blob.properties.contentLength ?? 0,
      etag: blob.properties.etag,
      md5: md5?.length ? Buffer.from(md5).toString('base64') : undefined,
    });
  }
  return blobs;
}

/**
 * One blob into `target`, checked before the rename; a mismatch starts over, up to ATTEMPTS times. Returns the file's
 * SHA-256 (hex), computed in the same pass as its MD5, so that a harvest's manifest needs no second read.
 */
async function fetchVerified(blob: BlobClient, b: BlobItem, target: string, opts: BlobDownloadOptions, progress: (n: number) => void): Promise<string> {
  const partial = `${target}.partial`;
  const statePath = `${target}.partial.json`;
  const rangeBytes = opts.rangeBytes ?? 8 * MiB;
  let problem = '';
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    let counted = 0;
    const count = (n: number) => {
      counted += n;
      progress(n);
    };
    const { md5, sha256 } =
      b.size > rangeBytes ? await fetchRanges(blob, b, partial, statePath, { ...opts, rangeBytes }, count) : await fetchWhole(blob, b, partial, opts, count);
    const size = (await fs.stat(partial)).size;
    problem = size !== b.size ? `size (${b.size} bytes, got ${size})` : b.md5 && md5 !== b.md5 ? `Content-MD5 (${b.md5}, got ${md5})` : '';
    if (!problem) {
      await fs.rename(partial, target);
      await fs.rm(statePath, { force: true });
      return sha256;
    }
    // The bytes on disk are wrong: nothing of them can be kept for the next try.
    await fs.rm(partial, { force: true });
    await fs.rm(statePath, { force: true });
    progress(-counted);
  }
  throw new IntegrityError(b.name, `${problem} after ${ATTEMPTS} tries`);
}

/** Digests of a file: MD5 (base64, as Azure keeps it) and SHA-256 (hex, as manifests record it). */
interface Digests {
  md5: string;
  sha256: string;
}

/** A small blob in one GET, hashed as it arrives. */
async function fetchWhole(blob: BlobClient, b: BlobItem, partial: string, opts: DownloadOptions, count: (n: number) => void): Promise<Digests> {
  const hash = createHash('md5');
  const sha = createHash('sha256');
  const response = await blob.download(0, undefined, { abortSignal: opts.signal, conditions: b.etag ? { ifMatch: b.etag } : undefined });
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      sha.update(chunk);
      count(chunk.length);
      done(null, chunk);
    },
  });
  await pipeline(response.readableStreamBody!, tap, createWriteStream(partial));
  return { md5: hash.digest('base64'), sha256: sha.digest('hex') };
}

/**
 * A large blob in ranges, `parallelRanges` at once, each written at its offset of a file of the blob's size. The
 * ranges already on disk (by the state file, for the same ETag) are not fetched again. Returns the file's digests,
 * read back from disk: what is checked is what was written.
 */
async function fetchRanges(
  blob: BlobClient,
  b: BlobItem,
  partial: string,
  statePath: string,
  opts: BlobDownloadOptions & { rangeBytes: number },
  count: (n: number) => void,
): Promise<Digests> {
  const state = await resumable(partial, statePath, b, opts.rangeBytes);
  if (!state.done.length) {
    await fs.writeFile(partial, '');
    await fs.truncate(partial, b.size);
  }
  const ranges = Math.ceil(b.size / opts.rangeBytes);
  const todo: number[] = [];
  for (let i = 0; i < ranges; i++) {
    if (state.done.includes(i)) count(Math.min(opts.rangeBytes, b.size - i * opts.rangeBytes));
    else todo.push(i);
  }
  // State writes one at a time, each replacing the file whole: a kill leaves the previous state or the next one.
  let saving = Promise.resolve();
  const save = () =>
    (saving = saving.then(async () => {
      await fs.writeFile(`${statePath}.tmp`, JSON.stringify(state));
      await fs.rename(`${statePath}.tmp`, statePath);
    }));
  await save();
  const worker = async (): Promise<void> => {
    for (let i = todo.shift(); i !== undefined; i = todo.shift()) {
      const offset = i * opts.rangeBytes;
      const length = Math.min(opts.rangeBytes, b.size - offset);
      const response = await blob.download(offset, length, { abortSignal: opts.signal, conditions: b.etag ? { ifMatch: b.etag } : undefined });
      const tap = new Transform({
        transform(chunk: Buffer, _enc, done) {
          count(chunk.length);
          done(null, chunk);
        },
      });
      await pipeline(response.readableStreamBody!, tap, createWriteStream(partial, { flags: 'r+', start: offset }));
      state.done.push(i);
      await save();
    }
  };
  // A failed or stopped range stops the others after their current one, and the call returns only once none of them
  // runs: a download started again into the same folder never races a state write left over from this one.
  const stopOthers = (err: unknown) => {
    todo.length = 0;
    throw err;
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(opts.parallelRanges ?? 4, todo.length) }, () => worker().catch(stopOthers)));
  await saving;
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return digestsOf(partial);
}

/** The state of an earlier, interrupted download of the same blob version; a fresh one otherwise. */
async function resumable(partial: string, statePath: string, b: BlobItem, rangeBytes: number): Promise<PartialState> {
  const fresh: PartialState = { etag: b.etag, size: b.size, rangeBytes, done: [] };
  try {
    const state = JSON.parse(await fs.readFile(statePath, 'utf8')) as PartialState;
    const onDisk = await fs.stat(partial);
    const same = state.etag === b.etag && state.size === b.size && state.rangeBytes === rangeBytes && onDisk.size === b.size;
    return same && Array.isArray(state.done) ? state : fresh;
  } catch {
    return fresh;
  }
}

async function digestsOf(file: string): Promise<Digests> {
  const md5 = createHash('md5');
  const sha = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: MiB })) {
    md5.update(chunk as Buffer);
    sha.update(chunk as Buffer);
  }
  return { md5: md5.digest('base64'), sha256: sha.digest('hex') };
}
