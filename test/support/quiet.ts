// "Nothing left to do": every outbox entry read and acknowledged by the dispatcher, and no delivery job waiting,
// running, or due within the horizon, nor an incident group's flush. What a receiver has not been sent by then will not be sent by itself, so a
// test that checks for a duplicate (or for silence) waits for this condition, never for a fixed time.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { DELIVER_QUEUE } from '../../src/store/queues';
import { DISPATCH_GROUP, Keys } from '../../src/store/keys';
import { waitFor } from './wait-for';

async function outboxDone(redis: Redis, keys: Keys): Promise<boolean> {
  const groups = (await redis.xinfo('GROUPS', keys.events).catch(() => [])) as unknown[][];
  const group = groups.map((g) => Object.fromEntries(chunk(g))).find((g) => g.name === DISPATCH_GROUP);
  if (!group) return (await redis.xlen(keys.events)) === 0;
  const [last] = await redis.xrevrange(keys.events, '+', '-', 'COUNT', 1);
  return Number(group.pending) === 0 && (!last || group['last-delivered-id'] === last[0]);
}

async function deliveriesDone(queue: Queue, horizonMs: number): Promise<boolean> {
  const counts = await queue.getJobCounts('waiting', 'active', 'prioritized', 'waiting-children');
  if (Object.values(counts).some((n) => n > 0)) return false;
  const soon = Date.now() + horizonMs;
  return (await queue.getDelayed()).every((job) => job.timestamp + (job.opts.delay ?? 0) > soon);
}

/**
 * Waits until the daemon (any process on this prefix) has nothing left to do, seen twice 200 ms apart (a job can
 * be between the outbox and the queue for an instant). `horizonMs`: delayed deliveries due later than this (a
 * repeat hours away) do not count.
 */
export async function untilQuiet(redis: Redis, prefix: string, o: { timeoutMs?: number; horizonMs?: number } = {}): Promise<void> {
  const keys = new Keys(prefix);
  const queue = new Queue(DELIVER_QUEUE, { connection: redis, prefix: keys.bullPrefix });
  const horizon = o.horizonMs ?? 2000;
  // An incident group's flush due within the horizon is work left too (the dispatcher's ticker makes it a job).
  const flushesDone = async () => (await redis.zcount(keys.incidentsDue, '-inf', Date.now() + horizon)) === 0;
  const quiet = async () => (await outboxDone(redis, keys)) && (await deliveriesDone(queue, horizon)) && (await flushesDone());
  try {
    await waitFor(async () => (await quiet()) && (await new Promise((r) => setTimeout(r, 200))) === undefined && (await quiet()), {
      timeoutMs: o.timeoutMs ?? 30_000,
      intervalMs: 100,
      what: 'nothing left to deliver',
    });
  } finally {
    await queue.close();
  }
}

function chunk(flat: unknown[]): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([String(flat[i]), flat[i + 1]]);
  return out;
}
