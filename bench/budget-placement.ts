// The simulation behind bench:budget's placement tables: N pipeline runs at once on one request budget, polled by the
// daemon's own policy (runPollDelayMs, with or without learned durations), every detection delay recorded.
//
// Workload: 20 pipeline templates of 10 sequential steps; each step name has a usual duration (1-60 min, log-uniform).
// A run's step queues 5-60 s, then runs its usual duration times a spread (log-normal, sigma 0.1), one in twenty an
// outlier (1.5-3 times longer). What is learned of a step is 20 earlier runs drawn the same way. When a run ends,
// another starts (N stays), and the first runs start spread over a template's length so that nothing is in step.
// The budget: `perMinute` requests in each fixed minute (the provider's budget window), taken by polls in due
// order, one request per poll; a poll that finds the minute spent waits for the next.
import { runPollDelayMs, type RunningStep } from '../src/watch/poll-placement';
import { percentile } from './support';

export interface SimOptions {
  runs: number;
  perMinute: number;
  minMs: number;
  maxMs: number;
  placed: boolean;
  seed: number;
  /** Simulated time measured after the warm-up. */
  hours: number;
  warmupHours: number;
}

export interface SimResult {
  changes: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  requestsPerMinute: number;
}

const STEPS = 10;
const TEMPLATES = 20;
const LEARNED_SAMPLES = 20;
const MINUTE = 60_000;

/** A seeded PRNG (mulberry32): the two policies see the same workload. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

interface Step {
  queuedAt: number;
  runningAt: number;
  endAt: number;
  samples: number[];
}

interface Run {
  steps: Step[];
  /** The index of the first step whose end the daemon has not seen, and whether it has seen that step Running. */
  seenStep: number;
  seenRunning: boolean;
  lastChangeAt: number;
}

/** A binary heap of (time, run) by time. */
class DueHeap {
  private readonly items: { at: number; run: Run }[] = [];
  get size(): number {
    return this.items.length;
  }
  push(at: number, run: Run): void {
    const h = this.items;
    h.push({ at, run });
    for (let i = h.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.at <= h[i]!.at) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
  }
  pop(): { at: number; run: Run } {
    const h = this.items;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]!.at < h[m]!.at) m = l;
        if (r < h.length && h[r]!.at < h[m]!.at) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}

export function simulate(o: SimOptions): SimResult {
  const random = prng(o.seed);
  const usual = Array.from({ length: TEMPLATES }, () => Array.from({ length: STEPS }, () => Math.exp(Math.log(MINUTE) + random() * Math.log(60)) | 0));
  const duration = (mean: number) => {
    const spread = mean * Math.exp(0.1 * gaussian(random));
    return random() < 0.05 ? spread * (1.5 + 1.5 * random()) : spread;
  };
  const learned = usual.map((steps) => steps.map((mean) => Array.from({ length: LEARNED_SAMPLES }, () => duration(mean))));
  const newRun = (startAt: number): Run => {
    const template = Math.floor(random() * TEMPLATES);
    let t = startAt;
    const steps = usual[template]!.map((mean, i): Step => {
      const queuedAt = t;
      const runningAt = queuedAt + 5_000 + random() * 55_000;
      t = runningAt + duration(mean);
      return { queuedAt, runningAt, endAt: t, samples: learned[template]![i]! };
    });
    return { steps, seenStep: 0, seenRunning: false, lastChangeAt: startAt };
  };

  const start = o.warmupHours * 3_600_000;
  const end = start + o.hours * 3_600_000;
  const delays: number[] = [];
  const heap = new DueHeap();
  for (let i = 0; i < o.runs; i++) {
    // Spread over the first hours, as if they had been running: a run starts somewhere in its template's length.
    const run = newRun(-random() * 5 * 3_600_000);
    heap.push(Math.max(0, run.steps[0]!.queuedAt), run);
  }
  let window = 0;
  let usedInWindow = 0;
  let requests = 0;
  let clock = 0;
  while (heap.size > 0) {
    const { at, run } = heap.pop();
    // Served in due order, each taking one request of its minute; a spent minute sends the poll to the next.
    let now = Math.max(at, clock);
    if (Math.floor(now / MINUTE) !== window) {
      window = Math.floor(now / MINUTE);
      usedInWindow = 0;
    }
    if (usedInWindow >= o.perMinute) {
      window++;
      usedInWindow = 0;
      now = window * MINUTE;
    }
    usedInWindow++;
    clock = now;
    if (now >= end) break;
    if (now >= start) requests++;

    const changed = observe(run, now, (changeAt) => now >= start && changeAt >= start && delays.push(now - changeAt));
    if (changed) run.lastChangeAt = now;
    if (run.seenStep >= STEPS) {
      const next = newRun(now);
      heap.push(next.steps[0]!.queuedAt, next);
      continue;
    }
    const step = run.steps[run.seenStep]!;
    const pending: (RunningStep | undefined)[] | undefined = o.placed
      ? [run.seenRunning ? { elapsedMs: now - step.runningAt, samples: step.samples } : undefined]
      : undefined;
    const delay = runPollDelayMs({ minMs: o.minMs, maxMs: o.maxMs, changed, lastChangeAt: run.lastChangeAt, now, pending, minSamples: 5 });
    heap.push(now + delay, run);
  }
  return {
    changes: delays.length,
    p50Ms: percentile(delays, 50),
    p95Ms: percentile(delays, 95),
    p99Ms: percentile(delays, 99),
    maxMs: delays.reduce((a, b) => Math.max(a, b), 0),
    requestsPerMinute: requests / (o.hours * 60),
  };
}

/**
 * What one poll at `now` sees of a run: each change since the last poll (a step Running, a step's end with the next
 * one queued) is reported with its time. Returns whether anything changed.
 */
function observe(run: Run, now: number, seen: (changeAt: number) => void): boolean {
  let changed = false;
  while (run.seenStep < STEPS) {
    const step = run.steps[run.seenStep]!;
    if (!run.seenRunning && step.runningAt <= now) {
      run.seenRunning = true;
      seen(step.runningAt);
      changed = true;
    }
    if (run.seenRunning && step.endAt <= now) {
      seen(step.endAt);
      run.seenStep++;
      run.seenRunning = false;
      changed = true;
      continue;
    }
    break;
  }
  return changed;
}
