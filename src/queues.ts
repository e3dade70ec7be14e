// Queue names, Redis connections and BullMQ options: all in one place.
import { Redis, type RedisOptions } from 'ioredis';
import { Queue, type QueueOptions, type WorkerOptions } from 'bullmq';
import { RedisUnavailableError } from './model/errors';
import { maskUrl } from './logger';
import type { Keys } from './store/keys';

/** One poll queue per provider instance, so each can have its own concurrency and rate limit. */
export function pollQueueName(provider: string): string {
  return `poll-${provider}`;
}

export const DELIVER_QUEUE = 'deliver';

export interface RedisConnectOptions {
  url: string;
  /** Long-lived processes wait through outages (commands queue until Redis is back); the CLI fails fast. */
  mode: 'daemon' | 'cli';
  name?: string;
}

export function connectRedis(o: RedisConnectOptions): Redis {
  const common: RedisOptions = { connectionName: o.name, lazyConnect: o.mode === 'cli' };
  const options: RedisOptions =
    o.mode === 'daemon'
      ? { ...common, maxRetriesPerRequest: null, enableReadyCheck: true, retryStrategy: (times) => Math.min(200 * times, 2000) }
      : { ...common, maxRetriesPerRequest: 1, connectTimeout: 3000, enableOfflineQueue: true, retryStrategy: (times) => (times > 2 ? null : 200) };
  return new Redis(o.url, options);
}

/** Connects a CLI client now, turning "nothing listens there" into one clear error. */
export async function connectRedisForCli(url: string): Promise<Redis> {
  const redis = connectRedis({ url, mode: 'cli', name: 'srw-cli' });
  redis.on('error', () => undefined); // reported through the rejected command below
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (err) {
    redis.disconnect();
    throw new RedisUnavailableError(maskUrl(url), { cause: err });
  }
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

/** Resolves once the connection is ready; after `timeoutMs`, a RedisUnavailableError naming the (masked) URL. */
export function untilReady(redis: Redis, url: string, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new RedisUnavailableError(maskUrl(url)));
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}
