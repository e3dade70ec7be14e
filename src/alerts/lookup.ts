// Shared by the CLI and the API: an event found by its id in the outbox, and the on-call notifiers' default grouping.
import type { Redis } from 'ioredis';
import type { LoadedConfig } from '../config/load';
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

/** On-call formats (PagerDuty) group by pipeline run unless their route says otherwise: one failure, one page. */
export function onCallGroups(config: Pick<LoadedConfig, 'notifiers'>): Map<string, { by: string[]; wait: number; interval: number }> {
  const groups = new Map<string, { by: string[]; wait: number; interval: number }>();
  for (const [name, n] of Object.entries(config.notifiers)) {
    if (n.type === 'webhook' && n.format === 'pagerduty') groups.set(name, { by: ['pipelineRunId'], wait: 30_000, interval: 300_000 });
  }
  return groups;
}
