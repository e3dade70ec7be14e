// The one way a Lua command of src/store/commands is called, and what every group of wrappers shares: the reply
// helpers and the scripts' error codes.
import type { Redis } from 'ioredis';
import { TrackNotFoundError } from '../model/errors';
import type { Keys } from './keys';
import { isNoScript, scriptFor, type Arg } from './script-files';

/** `{name, time, name, time, ...}` as a script returns it. */
export function pairsOf(flat: string[]): [string, number][] {
  const pairs: [string, number][] = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, Number(flat[i + 1])]);
  return pairs;
}

/**
 * The scripts' error codes (BullMQ's shape): a script that can refuse answers an array whose first element is one
 * of these, negative so that no count or id can be mistaken for it.
 */
export enum ScriptErrorCode {
  /** The track the script works on is gone (untracked meanwhile). */
  TrackGone = -1,
}

/** Throws the typed error of a script's refusal; a reply whose first element is not a code passes. */
export function checkReply(reply: readonly unknown[], trackId: string): void {
  if (reply[0] === ScriptErrorCode.TrackGone) throw new TrackNotFoundError(trackId);
}

/**
 * Scripts are sent by EVALSHA, and by EVAL when Redis does not hold them yet. Not ioredis' defineCommand: every
 * pipeline copies each defined command onto itself, and at saturation that copying cost more than the scripts.
 */
export abstract class ScriptCaller {
  constructor(
    private readonly redis: Redis,
    protected readonly keys: Keys,
  ) {}

  protected async call<T>(name: string, keys: string[], argv: Arg[]): Promise<T> {
    const script = scriptFor(name, keys);
    try {
      return (await this.redis.evalsha(script.sha, keys.length, ...keys, ...argv)) as T;
    } catch (err) {
      if (!isNoScript(err)) throw err;
      return (await this.redis.eval(script.lua, keys.length, ...keys, ...argv)) as T;
    }
  }
}
