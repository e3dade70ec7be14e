// Atomic file writes: a reader never sees half a file, and create-if-absent never overwrites.
//
// The calls are synchronous on purpose: these files are small and local (run records, markers, outbox messages),
// and for such files a synchronous call costs about a fifth of the CPU of its fs.promises twin (no thread-pool
// hop, no FileHandle, no promise per step — measured in docs/PERFORMANCE.md), while it blocks for microseconds.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

function tempNameFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Writes a new file; its folder is made only when it is missing (a rewrite, the common case, costs no mkdir). */
function writeNewFile(file: string, data: string | Buffer): void {
  try {
    fs.writeFileSync(file, data);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, data);
  }
}

/** Writes `data` to `file` through a temp file and a rename, so the old or the new content is all anyone sees. */
export async function writeFileAtomic(file: string, data: string | Buffer): Promise<void> {
  const temp = tempNameFor(file);
  try {
    writeNewFile(temp, data);
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
}

/**
 * Creates `file` with `data` only if it does not exist yet; returns false when it already did.
 * The content is complete before the name appears (hard link of a finished temp file).
 */
export async function createFileExclusive(file: string, data: string | Buffer): Promise<boolean> {
  // Most calls find the file there already (a step record rewritten): one stat instead of a write, a link and a delete.
  if (fs.existsSync(file)) return false;
  const temp = tempNameFor(file);
  writeNewFile(temp, data);
  try {
    fs.linkSync(temp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}
