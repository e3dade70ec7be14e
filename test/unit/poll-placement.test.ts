// Poll placement (watch/poll-placement.ts): a metered provider's running step with learned durations is polled
// sparsely early and densely around its usual end, never past the max interval; anything else keeps the back-off.
import fc from 'fast-check';
import { runPollDelayMs, stepPollDelayMs } from '../../src/watch/poll-placement';
import { nextPollDelayMs } from '../../src/watch/scheduler';

const MIN = 5_000;
const MAX = 300_000;
const policy = { minMs: MIN, maxMs: MAX };
const minutes = (m: number) => m * 60_000;
/** Earlier runs of a step that takes about 40 minutes. */
const FORTY = [38, 39, 40, 41, 42, 39.5, 40.5].map(minutes);

/** Polls of one step running `durationMs`, from its start, with each policy; and how late its end is seen. */
function walk(durationMs: number, delay: (elapsedMs: number, lastChangeAt: number) => number): { polls: number; lateMs: number } {
  let t = 0;
  let polls = 0;
  while (t < durationMs) {
    t += delay(t, 0);
    polls++;
  }
  return { polls, lateMs: t - durationMs };
}

const placed = (elapsedMs: number) =>
  runPollDelayMs({ ...policy, changed: false, lastChangeAt: 0, now: elapsedMs, pending: [{ elapsedMs, samples: FORTY }], minSamples: 5 });
const backoff = (elapsedMs: number) => nextPollDelayMs({ ...policy, changed: false, lastChangeAt: 0, now: elapsedMs });

describe('poll placement from learned durations', () => {
  it('in its 2nd minute of a usual 40, a step waits the max; in its 39th it is polled far more often than the back-off would', () => {
    expect(placed(minutes(2))).toBe(MAX);
    expect(backoff(minutes(2))).toBe(12_000);
    expect(placed(minutes(39))).toBeLessThanOrEqual(30_000);
    expect(backoff(minutes(39))).toBe(234_000);
  });

  it('a step that ends where it usually does is seen sooner, with fewer polls, than with the back-off', () => {
    for (const m of [38, 40, 42]) {
      const withPlacement = walk(minutes(m), (t) => placed(t));
      const withBackoff = walk(minutes(m), (t) => backoff(t));
      expect({ m, fewerPolls: withPlacement.polls < withBackoff.polls, seenSooner: withPlacement.lateMs < withBackoff.lateMs }).toEqual({
        m,
        fewerPolls: true,
        seenSooner: true,
      });
      // Within the learned range (34-46 min, the samples widened by a tenth of the median) polls are 12 min / 20 apart at most.
      expect(withPlacement.lateMs).toBeLessThanOrEqual(minutes(12) / 20);
    }
  });

  it('past every earlier run (an outlier) it backs off again from where the learned range ended', () => {
    const end = minutes(42) + 0.1 * minutes(40); // the longest sample plus the margin
    expect(stepPollDelayMs(policy, { elapsedMs: end + 1000, samples: FORTY })).toBe(MIN);
    expect(stepPollDelayMs(policy, { elapsedMs: end + minutes(20), samples: FORTY })).toBe(120_000);
    expect(stepPollDelayMs(policy, { elapsedMs: end + minutes(200), samples: FORTY })).toBe(MAX);
  });

  it('keeps the back-off when a change was just seen, while hints arrive, or when a step is not Running or not learned', () => {
    const base = { ...policy, lastChangeAt: 0, now: minutes(2), minSamples: 5 };
    const learned = { elapsedMs: minutes(2), samples: FORTY };
    expect(runPollDelayMs({ ...base, changed: true, pending: [learned] })).toBe(MIN);
    expect(runPollDelayMs({ ...base, changed: false, pushed: true, pending: [learned] })).toBe(MAX);
    expect(runPollDelayMs({ ...base, changed: false, pending: [learned, undefined] })).toBe(12_000);
    expect(runPollDelayMs({ ...base, changed: false, pending: [{ elapsedMs: minutes(2), samples: FORTY.slice(0, 4) }] })).toBe(12_000);
    expect(runPollDelayMs({ ...base, changed: false, pending: [learned] })).toBe(MAX);
  });

  it('two running steps: the one nearer its usual end sets the poll', () => {
    const short = [9, 10, 11, 10, 10].map(minutes);
    const both = runPollDelayMs({
      ...policy,
      changed: false,
      lastChangeAt: 0,
      now: minutes(10),
      pending: [
        { elapsedMs: minutes(10), samples: short },
        { elapsedMs: minutes(10), samples: FORTY },
      ],
      minSamples: 5,
    });
    expect(both).toBe(stepPollDelayMs(policy, { elapsedMs: minutes(10), samples: short }));
    expect(both).toBeLessThan(60_000);
  });

  it('never polls sooner than the min nor later than the max, whatever was learned (no track starves)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10 * 3_600_000 }), { minLength: 1, maxLength: 50 }),
        fc.integer({ min: 0, max: 20 * 3_600_000 }),
        (samples, elapsedMs) => {
          const d = stepPollDelayMs(policy, { elapsedMs, samples });
          return Number.isInteger(d) && d >= MIN && d <= MAX;
        },
      ),
    );
  });
});
