import { backoffMs } from '../../src/util/backoff';
import { deliveryBackoff } from '../../src/notify/deliver/deliver';
import { failureDelayMs, nextPollDelayMs } from '../../src/watch/scheduler';

const policy = { minMs: 5000, maxMs: 300000 };

describe('nextPollDelayMs', () => {
  it('polls at the minimum right after a change', () => {
    expect(nextPollDelayMs({ ...policy, changed: true, lastChangeAt: 0, now: 10_000_000 })).toBe(5000);
  });
  it('slows down as a step stays unchanged: a tenth of the quiet time', () => {
    expect(nextPollDelayMs({ ...policy, changed: false, lastChangeAt: 0, now: 20_000 })).toBe(5000);
    expect(nextPollDelayMs({ ...policy, changed: false, lastChangeAt: 0, now: 600_000 })).toBe(60_000);
  });
  it('while the change feed pushes, waits the maximum even right after a change: the next change is hinted', () => {
    // Polling every changed run again at the minimum doubled the polls of a busy feed (a hinted poll, then a regular one).
    expect(nextPollDelayMs({ ...policy, changed: true, lastChangeAt: 0, now: 10_000_000, pushed: true })).toBe(300_000);
    expect(nextPollDelayMs({ ...policy, changed: false, lastChangeAt: 0, now: 20_000, pushed: true })).toBe(300_000);
  });
  it('never exceeds the maximum', () => {
    expect(nextPollDelayMs({ ...policy, changed: false, lastChangeAt: 0, now: 86_400_000 })).toBe(300_000);
  });
});

describe('failureDelayMs', () => {
  const mid = () => 0.5;
  it('doubles per failure from the minimum, capped at the maximum', () => {
    expect([1, 2, 3, 20].map((failures) => failureDelayMs({ ...policy, failures, random: mid }))).toEqual([5000, 10000, 20000, 300000]);
  });
  it('jitters within +-25%', () => {
    expect(failureDelayMs({ ...policy, failures: 1, random: () => 0 })).toBe(3750);
    expect(failureDelayMs({ ...policy, failures: 1, random: () => 1 })).toBe(6250);
  });
  it('honours a longer Retry-After', () => {
    expect(failureDelayMs({ ...policy, failures: 1, retryAfterMs: 120000, random: mid })).toBe(120000);
  });
});

describe('the one backoff rule (polls, deliveries, Azure)', () => {
  const mid = () => 0.5;
  it('deliveries: exponential from the base, jittered, capped at 15 min, a longer Retry-After wins', () => {
    const strategy = deliveryBackoff(2000, mid);
    expect([1, 2, 3].map((n) => strategy(n))).toEqual([2000, 4000, 8000]);
    expect(strategy(40)).toBe(15 * 60 * 1000);
    expect(strategy(1, 'custom', Object.assign(new Error('429'), { retryAfterMs: 30_000 }))).toBe(30_000);
    expect(deliveryBackoff(2000, () => 0)(1)).toBe(1500);
    expect(deliveryBackoff(2000, () => 1)(1)).toBe(2500);
  });

  it('backoffMs never exceeds the cap (before jitter) and never undercuts Retry-After', () => {
    expect(backoffMs({ baseMs: 500, attempt: 100, maxMs: 30_000, random: mid })).toBe(30_000);
    expect(backoffMs({ baseMs: 500, attempt: 1, maxMs: 30_000, retryAfterMs: 7000, random: () => 1 })).toBe(7000);
  });
});
