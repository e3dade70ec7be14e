// What the outbox (the events stream) holds, read straight from Redis: the events in order.
import type { Redis } from 'ioredis';
import type { WatchEvent } from '../../src/store/events';
import type { Keys } from '../../src/store/keys';

export async function outboxEvents(redis: Redis, keys: Keys): Promise<WatchEvent[]> {
  return (await redis.xrange(keys.events, '-', '+')).map(([, fields]) => JSON.parse(fields[1]!) as WatchEvent);
}
