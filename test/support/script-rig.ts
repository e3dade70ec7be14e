// The Lua commands' tests share this: a real Redis, a prefix of the file's own (emptied before each test), its
// Scripts, a fixed time, and small helpers over the keys.
import { Scripts } from '../../src/store/scripts';
import { prefixedRedis } from './prefixed-redis';
import { outboxEvents } from './outbox';

export const T = 1_000_000;

export function scriptRig(name: string) {
  const { redis, prefix, keys } = prefixedRedis(name);
  const scripts = new Scripts(redis, keys);
  return {
    redis,
    prefix,
    keys,
    scripts,
    /** The events appended to the outbox, as parsed json. */
    outbox: () => outboxEvents(redis, keys),
    addTrack: async (trackId = 't1'): Promise<void> => {
      expect(await scripts.addTrack({ trackId, provider: 'local', json: `{"id":"${trackId}"}`, now: T })).toBe(true);
    },
  };
}
