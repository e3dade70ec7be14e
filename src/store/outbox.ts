// The outbox: the events stream that the poll's commit appends to (in Lua) and the dispatcher, SSE and `events` read.
import type { Redis } from 'ioredis';
import { EventNotFoundError } from '../model/errors';
import type { WatchEvent } from './events';
import type { Keys } from './keys';

/** A stream entry as Redis returns it: its id and its fields. */
export type StreamEntry = [id: string, fields: string[]];

/** The event of one entry; undefined for an entry that is not one (it is logged and dead-lettered by the dispatcher). */
export function parseEntry(fields: string[]): WatchEvent | undefined {
  const i = fields.indexOf('event');
  if (i < 0 || i + 1 >= fields.length) return undefined;
  try {
    return JSON.parse(fields[i + 1]!) as WatchEvent;
  } catch {
    return undefined;
  }
}

/** An event by its id (the CLI's and the API's `routes test`): the stream scanned from the newest entry back; an id it no longer holds says so. */
export async function findEvent(redis: Redis, keys: Keys, eventId: string): Promise<WatchEvent> {
  let end = '+';
  for (;;) {
    const page = (await redis.xrevrange(keys.events, end, '-', 'COUNT', 1000)) as StreamEntry[];
    for (const [, fields] of page) {
      // Only an entry that names the id is parsed.
      if (!fields.some((f) => f.includes(eventId))) continue;
      const event = parseEntry(fields);
      if (event?.id === eventId) return event;
    }
    if (page.length < 1000) throw new EventNotFoundError(eventId);
    end = `(${page.at(-1)![0]}`;
  }
}
