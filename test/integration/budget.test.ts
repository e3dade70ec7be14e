import { ManualClock } from '../../src/util/clock';
import { BudgetShortfall, RedisBudget } from '../../src/watch/budget';
import { createLogger } from '../../src/util/logger';
import { Writable } from 'node:stream';
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
    const a = new RedisBudget(() => redis, new Keys(prefix), 'prod', { perMinute: 3 }, clock, { sleep });
    const b = new RedisBudget(() => redis, new Keys(prefix), 'prod', { perMinute: 3 }, clock, { sleep });
    await a.acquire();
    await b.acquire();
    await a.acquire();
    expect(waits).toEqual([]);
    await b.acquire(); // the fourth in this minute waits until the next one
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(50000);
    expect(waits[0]).toBeLessThanOrEqual(51000);
  });

  it('a shorter window gets its share of the minute: 600 a minute in 1 s windows is 10 a second', async () => {
    const clock = new ManualClock(Date.parse('2026-11-25T10:00:10.000Z'));
    const waits: number[] = [];
    const spent: string[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
      clock.advance(ms);
    };
    const budget = new RedisBudget(() => redis, new Keys(prefix), 'short', { perMinute: 600, windowMs: 1000 }, clock, { sleep, onSpent: (p) => spent.push(p) });
    for (let i = 0; i < 10; i++) await budget.acquire();
    expect(waits).toEqual([]);
    await budget.acquire();
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(1000);
    expect(waits[0]).toBeLessThanOrEqual(1000 + 1000 / 60);
    expect(spent).toEqual(['short']);
  });
});

describe('BudgetShortfall', () => {
  it('counts every wait and warns at most once a minute per provider, saying what to do', () => {
    const lines: { provider: string; waits: number; msg: string }[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
        done();
      },
    });
    const clock = new ManualClock(0);
    const counted: string[] = [];
    const shortfall = new BudgetShortfall(createLogger({ pretty: false, destination }), clock, (p) => counted.push(p));
    for (let i = 0; i < 5; i++) shortfall.note('prod');
    shortfall.note('dev');
    clock.advance(61_000);
    shortfall.note('prod');
    expect(counted).toHaveLength(7);
    expect(lines.map((l) => [l.provider, l.waits])).toEqual([
      ['prod', 1],
      ['dev', 1],
      ['prod', 5],
    ]);
    expect(lines[0]!.msg).toMatch(/raise maxRequestsPerMinute/);
  });
});
