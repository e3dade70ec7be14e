// A download folder the file system refuses, in words and with a code (exit 4): for the `download` command, where the
// folder is what the person typed. (The harvest notifier keeps the raw error: it retries, then dead-letters it.)
import { InvalidInputError } from '../model/errors';

/** What the file system says about a download folder, in words: the folder is the caller's input (exit 4). */
const TARGET_PROBLEMS: Record<string, string> = {
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'a folder stands where a file must be written',
  EEXIST: 'something already exists there that is not a folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'the path is too long',
  ELOOP: 'too many symbolic links in the path',
};

export function downloadTargetError(err: unknown, localPath: string): InvalidInputError | undefined {
  const e = err as NodeJS.ErrnoException;
  const problem = e && typeof e.code === 'string' ? TARGET_PROBLEMS[e.code] : undefined;
  if (!problem) return undefined;
  return new InvalidInputError(`cannot download into ${localPath}: ${problem} (${e.code}${e.path ? ` at ${e.path}` : ''})`, { cause: err });
}
