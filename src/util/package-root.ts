// Finds the installed package's root (where examples/ and config/ live), from compiled or source code alike.
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { InternalError } from '../model/errors';

export function packageRoot(from = __dirname): string {
  let dir = from;
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'steprun-watch') return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new InternalError('steprun-watch package root not found');
    dir = up;
  }
}
