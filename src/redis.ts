// Redis connections: the daemon's (waits through outages) and the CLI's (fails fast with one clear error).
import { Redis, type RedisOptions } from 'ioredis';
import { maskUrl } from './logger';
import { RedisUnavailableError } from './model/errors';

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
