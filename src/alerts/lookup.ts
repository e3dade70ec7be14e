// Shared by the CLI and the API: an event found by its id in the outbox.
import type { Redis } from 'ioredis';
import { EventNotFoundError } from '../model/errors';
import type { WatchEvent } from '../store/events';
import type { Keys } from '../store/keys';

/** Scans the events stream from the newest entry back; an id the stream no longer holds says so. */
export async function findEvent(redis: Redis, keys: Keys, eventId: string): Promise<WatchEvent> {
  let end = '+';
  for (;;) {
    const page = (await redis.xrevrange(keys.events, end, '-', 'COUNT', 1000)) as [string, string[]][];
    for (const [, fields] of page) {
      const json = fields[fields.indexOf('event') + 1];
      if (json?.includes(eventId)) {
        const event = JSON.parse(json) as WatchEvent;
        if (event.id === eventId) return event;
      }
    }
    if (page.length < 1000) throw new EventNotFoundError(eventId);
    end = `(${page.at(-1)![0]}`;
  }
}
