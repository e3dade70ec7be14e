// Redis connections: the daemon's (waits through outages) and the CLI's (fails fast with one clear error); a single
// server (url), a Redis Cluster, or a master found through Sentinel.
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { maskUrl } from '../util/logger';
import { RedisUnavailableError } from '../model/errors';
import { coalesceWrites } from './coalesced-writes';

/** Where Redis is: `config.redis` (url, or cluster seed nodes, or sentinels and the master's name). */
export interface RedisTarget {
  url: string;
  cluster?: string[];
  sentinels?: string[];
  name?: string;
  password?: string;
}

export interface RedisConnectOptions {
  target: RedisTarget;
  /** Long-lived processes wait through outages (commands queue until Redis is back); the CLI fails fast. */
  mode: 'daemon' | 'cli';
  name?: string;
}

function node(hostPort: string): { host: string; port: number } {
  const i = hostPort.lastIndexOf(':');
  return { host: hostPort.slice(0, i), port: Number(hostPort.slice(i + 1)) };
}

/** What to name in an error: the masked URL, or the nodes. */
export function describeRedis(t: RedisTarget): string {
  if (t.cluster) return `cluster ${t.cluster.join(',')}`;
  if (t.sentinels) return `master "${t.name}" via sentinels ${t.sentinels.join(',')}`;
  return maskUrl(t.url);
}

/**
 * A connection. A Cluster answers the same commands as one server here (every key of a deployment shares the
 * `{prefix}` hash tag, so each command, pipeline and script lands on one node): it is typed as Redis where it is used.
 */
export function connectRedis(o: RedisConnectOptions): Redis {
  const common: RedisOptions = { connectionName: o.name, lazyConnect: o.mode === 'cli' };
  const options: RedisOptions =
    o.mode === 'daemon'
      ? { ...common, maxRetriesPerRequest: null, enableReadyCheck: true, retryStrategy: (times) => Math.min(200 * times, 2000) }
      : { ...common, maxRetriesPerRequest: 1, connectTimeout: 3000, enableOfflineQueue: true, retryStrategy: (times) => (times > 2 ? null : 200) };
  const t = o.target;
  if (t.cluster) {
    const { retryStrategy, lazyConnect, ...perNode } = options;
    const cluster = new Cluster(t.cluster.map(node), {
      lazyConnect,
      enableReadyCheck: true,
      clusterRetryStrategy: retryStrategy,
      maxRedirections: 16,
      redisOptions: { ...perNode, password: t.password },
    });
    cluster.on('+node', (nodeConnection: Redis) => coalesceWrites(nodeConnection));
    return cluster as unknown as Redis;
  }
  if (t.sentinels) {
    // Asking the sentinels has its own retry loop: the CLI must fail fast there too (a master they do not know).
    const sentinelRetryStrategy = o.mode === 'cli' ? (times: number) => (times > 2 ? null : 200) : (times: number) => Math.min(200 * times, 2000);
    return coalesced(
      new Redis({ ...options, sentinels: t.sentinels.map(node), name: t.name, password: t.password, sentinelPassword: t.password, sentinelRetryStrategy }),
    );
  }
  return coalesced(new Redis(t.url, options));
}

/** The connection, its writes coalesced per event-loop turn (coalesced-writes.ts). */
function coalesced(redis: Redis): Redis {
  coalesceWrites(redis);
  return redis;
}

/** Connects a CLI client now, turning "nothing listens there" into one clear error. */
export async function connectRedisForCli(target: RedisTarget): Promise<Redis> {
  const redis = connectRedis({ target, mode: 'cli', name: 'srw-cli' });
  redis.on('error', () => undefined); // reported through the rejected command below
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (err) {
    redis.disconnect();
    throw new RedisUnavailableError(describeRedis(target), { cause: err });
  }
}

/** Resolves once the connection is ready; after `timeoutMs`, a RedisUnavailableError naming where (a masked URL, or the nodes). */
export function untilReady(redis: Redis, where: string, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new RedisUnavailableError(where));
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

/** Redis answers a PING within `ms` (false on an error or silence). */
export async function answersWithin(redis: Redis, ms: number): Promise<boolean> {
  const ping = redis.ping().then(
    (r) => r === 'PONG',
    () => false,
  );
  const timeout = new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref());
  return Promise.race([ping, timeout]);
}
