// Loads the Lua scripts of src/store/commands onto a Redis connection (each file is `verbNoun-<numKeys>.lua`).
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import type { ChainableCommander, Redis } from 'ioredis';

const DIR = path.join(__dirname, 'commands');

export interface WatchScripts {
  addTrack(k1: string, k2: string, k3: string, id: string, json: string, now: number): Promise<number>;
  removeTrack(k1: string, k2: string, k3: string, k4: string, k5: string, k6: string, id: string): Promise<number>;
  claimDue(due: string, now: number, limit: number, leaseUntil: number): Promise<string[]>;
  commitPoll(...args: (string | number)[]): Promise<[number, number]>;
  recordPollFailure(...args: (string | number)[]): Promise<[number, number]>;
  addPipelineTracks(...args: (string | number)[]): Promise<number>;
  ensureDelivery(...args: (string | number)[]): Promise<number>;
  takeBudget(key: string, perWindow: number, windowMs: number): Promise<number>;
  openAlert(...args: (string | number)[]): Promise<number>;
  resolveAlert(...args: (string | number)[]): Promise<number>;
  notifyAlert(alert: string, notifier: string): Promise<number>;
  addToGroup(...args: (string | number)[]): Promise<[number, number]>;
  closeGroup(group: string, generation: number, now: number): Promise<string[]>;
  casAppend(hash: string, events: string, field: string, expected: string, next: string, maxLen: number, event: string): Promise<number>;
}

/** The same scripts queued on a pipeline: they return the pipeline, results come from exec(). */
export interface PipelinedScripts {
  ensureDelivery(...args: (string | number)[]): ChainableCommander;
}

const defined = new WeakSet<Redis>();

/** Defines every script once per connection; ioredis sends EVALSHA and falls back to EVAL after a Redis restart. */
export function scriptsOn(redis: Redis): Redis & WatchScripts {
  if (!defined.has(redis)) {
    for (const file of readdirSync(DIR)) {
      const match = /^([A-Za-z]+)-(\d+)\.lua$/.exec(file);
      if (!match) continue;
      redis.defineCommand(match[1]!, { numberOfKeys: Number(match[2]), lua: readFileSync(path.join(DIR, file), 'utf8') });
    }
    defined.add(redis);
  }
  return redis as Redis & WatchScripts;
}
