// Reads a small text file (a config, a pipeline file) only after checking its size: a huge file is refused before any
// parsing, which would otherwise take minutes and gigabytes to say no.
import { promises as fs } from 'node:fs';
import { InvalidInputError } from '../model/errors';

/** Config and pipeline files are hand-written: 1 MiB is far beyond any real one. */
export const MAX_TEXT_FILE_BYTES = 1024 * 1024;

export class FileTooLargeError extends InvalidInputError {
  constructor(
    readonly file: string,
    readonly size: number,
    readonly limit: number,
  ) {
    super(`is ${formatBytes(size)}; files over ${formatBytes(limit)} are refused before parsing`);
  }
}

/** The file's text; FileTooLargeError over `limit` bytes (checked on the open file, then on what was read). */
export async function readTextBounded(file: string, limit = MAX_TEXT_FILE_BYTES): Promise<string> {
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size > limit) throw new FileTooLargeError(file, size, limit);
    // A file that grows between the stat and the read (or a pipe reporting size 0) is still cut at the limit.
    const buffer = Buffer.alloc(limit + 1);
    let read = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, read, buffer.length - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
      if (read > limit) throw new FileTooLargeError(file, read, limit);
    }
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    await handle.close();
  }
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(n % (1024 * 1024) ? 1 : 0)} MiB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KiB`;
  return `${n} bytes`;
}
