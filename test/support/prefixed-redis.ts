// A test file's own key prefix on the shared Redis, with the hooks that keep it clean (jest's globals: tests only).
import { Keys } from '../../src/store/keys';
import { dropPrefix, testRedis, uniquePrefix } from './redis';
import type { Redis } from 'ioredis';

/** A test file's own prefix on the shared Redis, emptied before each test and dropped (and the connection closed) after all. */
export function prefixedRedis(label: string): { redis: Redis; prefix: string; keys: Keys } {
  const redis = testRedis();
  const prefix = uniquePrefix(label);
  beforeEach(async () => dropPrefix(redis, prefix));
  afterAll(async () => {
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });
  return { redis, prefix, keys: new Keys(prefix) };
}
