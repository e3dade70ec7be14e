// The outbox: the events stream that the poll's commit appends to (in Lua) and the dispatcher, SSE and `events` read.
import type { WatchEvent } from './events';

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
