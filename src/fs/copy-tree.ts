// Copies a file or folder tree (copy-on-write clones where the file system offers them), never following or copying links.
import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { AlreadyExistsError, UnsafePathError } from '../model/errors';

export interface CopiedFile {
  /** Relative to the destination, `/`-separated. */
  path: string;
  size: number;
}

export interface CopyTreeOptions {
  /** Replace existing files whose content differs; identical files are always left as they are. */
  overwrite?: boolean;
  onFile?(file: CopiedFile): void;
}

/**
 * Copies `source` (a file or a folder) into the folder `dest`. A file keeps its base name.
 * Symbolic links are refused, in the source and in the destination: a link could point anywhere on the machine.
 * Every file is an independent copy (never a hard link): a later write to the source cannot change it.
 */
export async function copyTree(source: string, dest: string, opts: CopyTreeOptions = {}): Promise<CopiedFile[]> {
  const stat = await fs.lstat(source);
  const copied: CopiedFile[] = [];
  if (stat.isSymbolicLink()) throw new UnsafePathError(source, 'symbolic links are not copied');
  await makeFolder(dest);
  if (stat.isFile()) {
    await copyOne(source, path.join(dest, path.basename(source)), path.basename(source), opts, copied);
    return copied;
  }
  await walk(source, dest, '', opts, copied);
  return copied;
}

async function walk(srcDir: string, destDir: string, rel: string, opts: CopyTreeOptions, out: CopiedFile[]): Promise<void> {
  const entries = await fs.readdir(path.join(srcDir, rel), { withFileTypes: true });
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const relPath = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isSymbolicLink()) throw new UnsafePathError(relPath, 'symbolic links are not copied');
    if (entry.isDirectory()) {
      await makeFolder(path.join(destDir, relPath));
      await walk(srcDir, destDir, relPath, opts, out);
    } else if (entry.isFile()) {
      await copyOne(path.join(srcDir, relPath), path.join(destDir, relPath), relPath, opts, out);
    }
  }
}

async function copyOne(src: string, dst: string, rel: string, opts: CopyTreeOptions, out: CopiedFile[]): Promise<void> {
  const size = (await fs.stat(src)).size;
  const existing = await fs.lstat(dst).catch(() => undefined);
  if (existing) {
    if (existing.isSymbolicLink()) throw new UnsafePathError(dst, 'destination is a symbolic link');
    if (await sameContent(src, dst)) {
      record(out, opts, rel, size);
      return;
    }
    if (!opts.overwrite) throw new AlreadyExistsError(`${dst} exists with other content (use --overwrite)`);
    await fs.rm(dst, { force: true });
  }
  // A clone shares blocks until either side is written (btrfs, XFS, APFS); elsewhere Node copies the bytes.
  await fs.copyFile(src, dst, constants.COPYFILE_FICLONE);
  record(out, opts, rel, size);
}

/** Creates a folder (and its parents); an existing one must be a real folder, not a link to one. */
async function makeFolder(dir: string): Promise<void> {
  const existing = await fs.lstat(dir).catch(() => undefined);
  if (existing?.isSymbolicLink()) throw new UnsafePathError(dir, 'destination is a symbolic link');
  if (!existing) await fs.mkdir(dir, { recursive: true });
}

function record(out: CopiedFile[], opts: CopyTreeOptions, rel: string, size: number): void {
  const file = { path: rel, size };
  out.push(file);
  opts.onFile?.(file);
}

async function sameContent(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([fs.stat(a), fs.stat(b)]);
  if (sa.ino === sb.ino && sa.dev === sb.dev) return true;
  if (sa.size !== sb.size) return false;
  const [ca, cb] = await Promise.all([fs.readFile(a), fs.readFile(b)]);
  return ca.equals(cb);
}
