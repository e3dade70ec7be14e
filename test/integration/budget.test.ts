import { ManualClock } from '../../src/util/clock';
import { RedisBudget } from '../../src/watch/budget';
import { Keys } from '../../src/store/keys';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis';

describe('RedisBudget', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('budget');
  afterAll(async () => {
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  it('lets N requests a minute through, across instances, then waits for the next window', async () => {
    const clock = new ManualClock(Date.parse('2026-11-25T10:00:10Z'));
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
      clock.advance(ms);
    };
    const a = new RedisBudget(() => redis, new Keys(prefix), 'prod', 3, clock, sleep);
    const b = new RedisBudget(() => redis, new Keys(prefix), 'prod', 3, clock, sleep);
    await a.acquire();
    await b.acquire();
    await a.acquire();
    expect(waits).toEqual([]);
    await b.acquire(); // the fourth in this minute waits until the next one
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(50000);
    expect(waits[0]).toBeLessThanOrEqual(51000);
  });
});
