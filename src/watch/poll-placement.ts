// Where a metered provider's next poll of a pipeline run goes when the durations of its running steps are learned
// (the stuck watch's samples of earlier Finished runs of the same step): sparse while none of them is likely to end,
// dense where their runs usually end. A step that has run 2 minutes of its usual 40 is not worth a request every
// 12 seconds; one in its 39th minute is worth more than one every 4 minutes. Pure: the poll job and bench:budget's
// simulation call the same functions.
import { nextPollDelayMs, type IntervalPolicy } from './scheduler';

/** A running step as placement sees it. */
export interface RunningStep {
  /** How long it has been running (ms). */
  elapsedMs: number;
  /** Durations (ms) of its earlier Finished runs, any order; fewer than `minSamples`: not learned. */
  samples: readonly number[];
}

/**
 * The share of a step's learned endings one poll may cover: the next poll is when another 5 % of its earlier runs had
 * ended. Where endings crowd (around the usual end) polls crowd; where none happened, they thin out to the max.
 */
export const MASS_PER_POLL = 0.05;

/** Where endings are few (the learned range's tails) polls are still no sparser than this many across the range. */
export const POLLS_ACROSS_RANGE = 20;

/** Endings a little outside the learned range are expected: the spread is widened by this share of the median. */
const MARGIN_OF_MEDIAN = 0.1;

/**
 * The learned distribution of a step's duration as a piecewise-linear CDF: each sample at the middle of its rank,
 * widened by a margin each side (so that three samples make a ramp, not three steps).
 */
function cdfPoints(samples: readonly number[]): { x: number[]; p: number[] } {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const margin = MARGIN_OF_MEDIAN * sorted[Math.floor(n / 2)]!;
  const x = [Math.max(0, sorted[0]! - margin), ...sorted, sorted[n - 1]! + margin];
  const p = [0, ...sorted.map((_, i) => (i + 0.5) / n), 1];
  return { x, p };
}

/** Linear interpolation of `ys` at `at` over ascending `xs` (clamped to the ends). */
function interpolate(xs: number[], ys: number[], at: number): number {
  if (at <= xs[0]!) return ys[0]!;
  for (let i = 1; i < xs.length; i++) {
    if (at <= xs[i]!) {
      const span = xs[i]! - xs[i - 1]!;
      return span === 0 ? ys[i]! : ys[i - 1]! + ((ys[i]! - ys[i - 1]!) * (at - xs[i - 1]!)) / span;
    }
  }
  return ys[ys.length - 1]!;
}

/** How long until one step's next poll, from where it is in its learned distribution. */
export function stepPollDelayMs(policy: IntervalPolicy, step: RunningStep): number {
  const { x, p } = cdfPoints(step.samples);
  const last = x[x.length - 1]!;
  let delay: number;
  if (step.elapsedMs >= last) {
    // Past every earlier run: an outlier, backed off as a quiet run is, from where the learned range ended.
    delay = (step.elapsedMs - last) / 10;
  } else {
    const reached = interpolate(x, p, step.elapsedMs);
    const target = interpolate(p, x, Math.min(1, reached + MASS_PER_POLL));
    // Before the range, straight to its start; inside it, no sparser than POLLS_ACROSS_RANGE polls across it.
    const inRange = step.elapsedMs >= x[0]!;
    delay = inRange ? Math.min(target - step.elapsedMs, (last - x[0]!) / POLLS_ACROSS_RANGE) : target - step.elapsedMs;
  }
  return Math.round(Math.min(policy.maxMs, Math.max(policy.minMs, delay)));
}

/**
 * The next poll of a pipeline run: right after a change, the min; while the change feed hints, the max (a hint polls
 * sooner, and keeps priority over any schedule); when `placed` and every step still to change is Running with a learned
 * duration, the soonest of their placed polls; otherwise today's back-off on the time since the last change.
 */
export function runPollDelayMs(
  p: IntervalPolicy & {
    changed: boolean;
    lastChangeAt: number;
    now: number;
    pushed?: boolean;
    /** The run's steps that are not over yet; undefined (or one not Running, or not learned): no placement. */
    pending?: (RunningStep | undefined)[];
    minSamples?: number;
  },
): number {
  const backoff = nextPollDelayMs(p);
  if (p.changed || p.pushed || !p.pending?.length) return backoff;
  let soonest = Infinity;
  for (const step of p.pending) {
    if (!step || step.samples.length < (p.minSamples ?? 1)) return backoff;
    soonest = Math.min(soonest, stepPollDelayMs(p, step));
  }
  return soonest;
}
