// Queue names and BullMQ options: all in one place (Redis connections are in redis.ts).
import type { Redis } from 'ioredis';
import { Queue, type QueueOptions, type WorkerOptions } from 'bullmq';
import { pollJobId } from './ids';
import type { Keys } from './keys';

/** One poll queue per provider instance, so each can have its own concurrency and rate limit. */
export function pollQueueName(provider: string): string {
  return `poll-${provider}`;
}

export const DELIVER_QUEUE = 'deliver';

/** The poll job of a track claimed for `dueAt`, delayed until then (see pollJobId for the id). */
export function pollJob(trackId: string, dueAt: number, now: number) {
  return { name: 'poll', data: { trackId }, opts: { jobId: pollJobId(trackId, dueAt), delay: Math.max(0, dueAt - now) } };
}

export function queueOptions(connection: Redis, keys: Keys): QueueOptions {
  return { connection, prefix: keys.bullPrefix };
}

export function pollQueue(connection: Redis, keys: Keys, provider: string): Queue {
  return new Queue(pollQueueName(provider), {
    ...queueOptions(connection, keys),
    // A poll is cheap to redo and the due-set re-claims lost ones: nothing to keep.
    defaultJobOptions: { removeOnComplete: true, removeOnFail: true, attempts: 1 },
  });
}

export function deliverQueue(connection: Redis, keys: Keys, o: { attempts: number; backoffMs: number }): Queue {
  return new Queue(DELIVER_QUEUE, {
    ...queueOptions(connection, keys),
    defaultJobOptions: {
      attempts: o.attempts,
      backoff: { type: 'srw', delay: o.backoffMs },
      // The durable delivery record is the marker, not the job: finished jobs need not stay.
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 1000 },
    },
  });
}

export interface WorkerTuning {
  lockDurationMs: number;
  stalledIntervalMs?: number;
}

export function workerOptions(connection: Redis, keys: Keys, t: WorkerTuning, concurrency: number): WorkerOptions {
  return {
    connection,
    prefix: keys.bullPrefix,
    concurrency,
    lockDuration: t.lockDurationMs,
    stalledInterval: t.stalledIntervalMs ?? Math.max(500, Math.floor(t.lockDurationMs / 2)),
    maxStalledCount: 5,
  };
}
