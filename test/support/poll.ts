// Dependencies of a poll job for tests that drive pollTrack directly.
import type { Redis } from 'ioredis';
import { systemClock } from '../../src/util/clock';
import { createLogger } from '../../src/util/logger';
import type { RunProvider } from '../../src/model/provider';
import type { Keys } from '../../src/store/keys';
import { Scripts } from '../../src/store/scripts';
import type { PollDeps } from '../../src/watch/poll';

export function pollDeps(redis: Redis, keys: Keys, providers: Map<string, RunProvider>, settings: Partial<PollDeps['settings']> = {}): PollDeps {
  return {
    redis,
    keys,
    scripts: new Scripts(redis, keys),
    providers,
    clock: systemClock,
    logger: createLogger({ level: 'silent', pretty: false }),
    settings: { minMs: 100, maxMs: 1000, errorAfterFailures: 2, stderrTailLines: 5, openRunGraceMs: 600_000, ...settings },
  };
}
