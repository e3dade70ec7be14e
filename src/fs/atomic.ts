// Atomic file writes: a reader never sees half a file, and create-if-absent never overwrites.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

function tempNameFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Writes a new file; its folder is made only when it is missing (a rewrite, the common case, costs no mkdir). */
async function writeNewFile(file: string, data: string | Buffer): Promise<void> {
  try {
    await fs.writeFile(file, data);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, data);
  }
}

/** Writes `data` to `file` through a temp file and a rename, so the old or the new content is all anyone sees. */
export async function writeFileAtomic(file: string, data: string | Buffer): Promise<void> {
  const temp = tempNameFor(file);
  try {
    await writeNewFile(temp, data);
    await fs.rename(temp, file);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
}

/**
 * Creates `file` with `data` only if it does not exist yet; returns false when it already did.
 * The content is complete before the name appears (hard link of a finished temp file).
 */
export async function createFileExclusive(file: string, data: string | Buffer): Promise<boolean> {
  // Most calls find the file there already (a step record rewritten): one stat instead of a write, a link and a delete.
  if (
    await fs.access(file).then(
      () => true,
      () => false,
    )
  )
    return false;
  const temp = tempNameFor(file);
  await writeNewFile(temp, data);
  try {
    await fs.link(temp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await fs.rm(temp, { force: true });
  }
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}
