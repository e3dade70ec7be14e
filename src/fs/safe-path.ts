// The one path-safety helper: a relative path taken from outside must stay inside its folder.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UnsafePathError } from '../model/errors';

/**
 * Resolves `relative` under `root`, refusing absolute paths, `..` segments, empty names and NUL bytes.
 * Returns the absolute path. Symbolic links are checked by the callers that create files
 * (they never follow a link they did not make).
 */
export function resolveInside(root: string, relative: string): string {
  if (typeof relative !== 'string' || relative.length === 0) throw new UnsafePathError(String(relative), 'empty path');
  if (relative.includes('\0')) throw new UnsafePathError(relative, 'contains a NUL byte');
  const normalized = relative.replace(/\\/g, '/');
  if (normalized.startsWith('/') || /^[A-Za-z]:/.test(normalized)) {
    throw new UnsafePathError(relative, 'absolute paths are not allowed');
  }
  const segments = normalized.split('/');
  if (segments.some((s) => s === '..')) throw new UnsafePathError(relative, '".." is not allowed');
  const base = path.resolve(root);
  const target = path.resolve(base, ...segments.filter((s) => s !== '' && s !== '.'));
  if (target !== base && !target.startsWith(base + path.sep)) {
    throw new UnsafePathError(relative, `escapes ${base}`);
  }
  return target;
}

/** A single name (an output name, a step name used as a folder): no separators at all. */
export function assertSafeName(name: string, what: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(name) || name === '.' || name === '..') {
    throw new UnsafePathError(name, `${what} must be 1-128 characters of letters, digits, '.', '_' or '-', not starting with '.' or '-'`);
  }
  return name;
}

/**
 * The folder `relative` under `root`, made where missing, every segment of it a real folder: a symbolic link (or a
 * file) on the way is refused, so a link put inside a folder cannot send what is written, or deleted, elsewhere.
 * `root` itself is the operator's choice and may be a link. Returns the absolute path.
 */
export async function realFolderInside(root: string, relative: string): Promise<string> {
  const target = relative === '' || relative === '.' ? path.resolve(root) : resolveInside(root, relative);
  let current = path.resolve(root);
  await fs.mkdir(current, { recursive: true });
  for (const segment of path.relative(current, target).split(path.sep).filter(Boolean)) {
    current = path.join(current, segment);
    let st = await fs.lstat(current).catch(() => undefined);
    if (!st) {
      await fs.mkdir(current).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      st = await fs.lstat(current);
    }
    if (st.isSymbolicLink()) throw new UnsafePathError(current, 'is a symbolic link: nothing is written or deleted through it');
    if (!st.isDirectory()) throw new UnsafePathError(current, 'is not a folder');
  }
  return target;
}

/** Refuses a folder that is a symbolic link (a destination the caller was given: written into, never through a link). */
export async function assertNotLinked(dir: string): Promise<void> {
  if ((await fs.lstat(dir).catch(() => undefined))?.isSymbolicLink()) throw new UnsafePathError(dir, 'is a symbolic link: nothing is written through it');
}
