// The Lua command files of src/store/commands, read once: each `verbNoun-<number of keys>.lua`, with its SHA1 for EVALSHA.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { InternalError } from '../model/errors';

const DIR = path.join(__dirname, 'commands');

export type Arg = string | number;

interface Script {
  numberOfKeys: number;
  lua: string;
  sha: string;
}

/** Each file is `verbNoun-<number of keys>.lua`. */
const SCRIPTS = new Map<string, Script>(
  readdirSync(DIR).flatMap((file) => {
    const match = /^([A-Za-z]+)-(\d+)\.lua$/.exec(file);
    if (!match) return [];
    const lua = readFileSync(path.join(DIR, file), 'utf8');
    return [[match[1]!, { numberOfKeys: Number(match[2]), lua, sha: createHash('sha1').update(lua).digest('hex') }] as const];
  }),
);

/** A script, checked against the number of keys its file name declares. */
export function scriptFor(name: string, keys: string[]): Script {
  const script = SCRIPTS.get(name);
  if (!script) throw new InternalError(`no Lua command ${name} in ${DIR}`);
  if (script.numberOfKeys !== keys.length) throw new InternalError(`${name} takes ${script.numberOfKeys} keys, was given ${keys.length}`);
  return script;
}

/** Redis answers NOSCRIPT to an EVALSHA of a script it does not hold (a restart, a new node): send the script then. */
export function isNoScript(err: unknown): boolean {
  return /^NOSCRIPT/.test((err as Error | undefined)?.message ?? '');
}
