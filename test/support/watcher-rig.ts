// The watcher's integration tests share this: a real Redis on a prefix of the file's own (emptied before each test),
// a local run store, a track store, poll dependencies, and a dispatcher routing every event to given notifiers.
import * as path from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { alertPolicyOf } from '../../src/alerts/policy';
import { validateConfig } from '../../src/config/load';
import type { RunProvider, StepRunSnapshot } from '../../src/model/provider';
import type { StepStatus } from '../../src/model/status';
import { Dispatcher } from '../../src/notify/dispatch/dispatch';
import { LocalProvider } from '../../src/providers/local/provider';
import { DeliveryStore } from '../../src/store/deliveries';
import { Scripts } from '../../src/store/scripts';
import { TrackStore } from '../../src/store/tracks';
import { systemClock } from '../../src/util/clock';
import { createLogger } from '../../src/util/logger';
import type { PollDeps } from '../../src/watch/poll';
import { prefixedRedis } from './prefixed-redis';
import { tempDir } from './tmp';
import { outboxEvents } from './outbox';

/** A step as a provider reports it: `s1` named `a` of experiment `e`, with the given fields. */
export function stepSnapshot(o: Partial<StepRunSnapshot> & { pipelineRunId: string; status: StepStatus }): StepRunSnapshot {
  return { stepRunId: 's1', experiment: 'e', nodeId: 'n', name: 'a', rawStatus: o.status, isReused: false, outputNames: [], logNames: [], ...o };
}

export function watcherRig(name: string) {
  const logger = createLogger({ level: 'silent', pretty: false });
  const { redis, prefix, keys } = prefixedRedis(name);
  const dataDir = tempDir(name);
  const local = new LocalProvider({ root: path.join(dataDir, 'runs') });
  const tracks = new TrackStore(redis, keys, systemClock);
  return {
    logger,
    redis,
    prefix,
    keys,
    dataDir,
    local,
    tracks,
    deps: (providers: Map<string, RunProvider> = new Map([['local', local]])): PollDeps => ({
      redis,
      keys,
      scripts: new Scripts(redis, keys),
      providers,
      clock: systemClock,
      logger,
      settings: { minMs: 100, maxMs: 1000, errorAfterFailures: 3, stderrTailLines: 5, openRunGraceMs: 0 },
    }),
    /** A dispatcher on the test prefix routing every event to the given notifiers (default: one, `a`). */
    testDispatcher: (blocking: Redis, deliverQueue: Queue, o: { notify?: string[]; consumer: string; reclaimIdleMs: number; maxLen?: number }): Dispatcher => {
      const { notify = ['a'], ...rest } = o;
      const routes = validateConfig({ routes: [{ match: {}, notify }] }, { env: {} }).routes;
      return new Dispatcher({
        blocking,
        redis,
        keys,
        policy: alertPolicyOf({ notifiers: {}, routes }),
        deliverQueue,
        deliveries: new DeliveryStore(redis, keys),
        clock: systemClock,
        logger,
        blockMs: 100,
        ...rest,
      });
    },
    streamEvents: () => outboxEvents(redis, keys),
  };
}
