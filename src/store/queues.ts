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

/** A track claimed for a poll due at `dueAt`. */
export interface PollClaim {
  trackId: string;
  dueAt: number;
}

/** The claims of these tracks, all due at `dueAt`. */
export function claimsAt(trackIds: string[], dueAt: number): PollClaim[] {
  return trackIds.map((trackId) => ({ trackId, dueAt }));
}

/** What a poll job carries: its polls, each with its own due time (`trackId`: one track, as jobs queued before batches named it). */
export interface PollJobData {
  polls?: PollClaim[];
  trackId?: string;
}

/** A job's polls; an old job's one track is due at once. */
export function pollsOfJob(data: PollJobData): PollClaim[] {
  return data.polls ?? (data.trackId ? [{ trackId: data.trackId, dueAt: 0 }] : []);
}

/**
 * Polls per job at most. Each job costs BullMQ four scripts and as many stream entries whatever it carries: at 2,000
 * tracks polled every second, one job per poll was half of what polling cost the daemon and Redis (docs/PERFORMANCE.md).
 */
export const POLLS_PER_JOB = 16;
/** Polls due within this long of a job's first go in that job (the job waits for each one's due time: none runs early). */
export const POLL_JOB_SPREAD_MS = 100;

/**
 * The jobs of these claims, earliest first: claims due close together share a job, delayed to its first due time;
 * each poll in it still runs at its own due time (see pollBatch). A track claimed alone keeps a job of its own.
 */
export function pollJobs(
  claims: PollClaim[],
  now: number,
  perJob = POLLS_PER_JOB,
): { name: string; data: PollJobData; opts: { jobId: string; delay: number } }[] {
  const sorted = [...claims].sort((a, b) => a.dueAt - b.dueAt);
  const jobs = [];
  for (let i = 0; i < sorted.length;) {
    const first = sorted[i]!;
    let end = i + 1;
    while (end < sorted.length && end - i < perJob && sorted[end]!.dueAt - first.dueAt <= POLL_JOB_SPREAD_MS) end++;
    const polls = sorted.slice(i, end);
    const jobId = pollJobId(
      polls.map((c) => c.trackId),
      first.dueAt,
    );
    jobs.push({ name: 'poll', data: { polls }, opts: { jobId, delay: Math.max(0, first.dueAt - now) } });
    i = end;
  }
  return jobs;
}

export function queueOptions(connection: Redis, keys: Keys): QueueOptions {
  return { connection, prefix: keys.bullPrefix };
}

/** One provider instance's poll queue: claims go in as jobs of up to `pollsPerJob` polls (see pollsPerJobOf: 1 for some). */
export class PollQueue extends Queue {
  constructor(
    connection: Redis,
    keys: Keys,
    provider: string,
    readonly pollsPerJob = POLLS_PER_JOB,
  ) {
    super(pollQueueName(provider), {
      ...queueOptions(connection, keys),
      // A poll is cheap to redo and the due-set re-claims lost ones: nothing to keep.
      defaultJobOptions: { removeOnComplete: true, removeOnFail: true, attempts: 1 },
    });
  }

  /** Queues the polls of these claims (see pollJobs). */
  async addPolls(claims: PollClaim[], now: number): Promise<void> {
    if (claims.length > 0) await this.addBulk(pollJobs(claims, now, this.pollsPerJob));
  }
}

export function pollQueue(connection: Redis, keys: Keys, provider: string, pollsPerJob?: number): PollQueue {
  return new PollQueue(connection, keys, provider, pollsPerJob);
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
