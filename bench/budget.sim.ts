// The Azure ML request budget at scale, by simulation: how many tracked step runs a workspace budget watches.
// Each tracked pipeline run is polled as the daemon polls it (nextPollDelayMs, the scheduler's own policy), one
// request per poll (the children listing, up to pageSize steps: measured on the contract server,
// test/integration/azureml/budget-fairness.test.ts); with Event Grid hints, one hinted poll per change and quiet
// runs at the max interval. Runs of S sequential steps, each Queued then Running then ended: 2 changes per step.
// Then poll placement (poll.placeByLearnedDurations) against today's back-off on the same simulated workload, on one
// budget with every poll queued for it (bench/budget-placement.ts): the p95 detection delay at the same number of
// step runs, and how many step runs each policy watches at today's p95 delay.
// Usage: npm run bench:budget [-- --perMinute 600 --steps 10 --min 5 --max 300 --hours 12 --seed 7]
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { nextPollDelayMs } from '../src/watch/scheduler';
import { simulate, type SimResult } from './budget-placement';
import { arg, round } from './support';

const PER_MINUTE = arg('perMinute', 600);
const STEPS = arg('steps', 10);
const MIN_MS = arg('min', 5) * 1000;
const MAX_MS = arg('max', 300) * 1000;
/** Hinted polls of one run are at least this far apart (poll.hints.minGapMs). */
const HINT_GAP_MS = 1000;

/** The change times (ms from the run's start) of a run of `steps` sequential steps lasting `durationMs`. */
function changesOf(durationMs: number, steps: number): number[] {
  const each = durationMs / steps;
  return Array.from({ length: steps }, (_, s) => [s * each, s * each + each * 0.05])
    .flat()
    .concat(durationMs);
}

/** Polls of one run from its start to its end (the track retires at the terminal status it sees). */
function pollsWithoutHints(durationMs: number): { polls: number; worstDelayMs: number } {
  const changes = changesOf(durationMs, STEPS);
  let t = 0;
  let seen = 0;
  let lastChangeAt = 0;
  let polls = 0;
  let worstDelayMs = 0;
  for (;;) {
    polls++;
    const newlySeen = changes.filter((c) => c <= t).length;
    const changed = newlySeen > seen;
    if (changed) {
      worstDelayMs = Math.max(worstDelayMs, t - changes[newlySeen - 1]!);
      lastChangeAt = t;
    }
    seen = newlySeen;
    if (t >= durationMs) return { polls, worstDelayMs };
    t += nextPollDelayMs({ minMs: MIN_MS, maxMs: MAX_MS, changed, lastChangeAt, now: t });
  }
}

/** With hints: a poll per change (hints closer than the gap share one), and quiet runs at the max interval. */
function pollsWithHints(durationMs: number): number {
  const changes = changesOf(durationMs, STEPS);
  let hinted = 0;
  let last = -Infinity;
  for (const c of changes) {
    if (c - last >= HINT_GAP_MS) hinted++;
    last = c;
  }
  return hinted + Math.floor(durationMs / MAX_MS) + 1;
}

const rows = [10, 60, 360, 1440].map((minutes) => {
  const durationMs = minutes * 60_000;
  const { polls, worstDelayMs } = pollsWithoutHints(durationMs);
  const hinted = pollsWithHints(durationMs);
  // A budget of PER_MINUTE requests a minute sustains this many runs at once, each costing polls / duration.
  const runsWithout = Math.floor(PER_MINUTE / (polls / minutes));
  const runsWith = Math.floor(PER_MINUTE / (hinted / minutes));
  return {
    runMinutes: minutes,
    pollsPerRun: { withoutHints: polls, withHints: hinted },
    requestsPerRunPerMinute: { withoutHints: round(polls / minutes), withHints: round(hinted / minutes) },
    stepRunsWatched: { withoutHints: runsWithout * STEPS, withHints: runsWith * STEPS },
    worstDetectionSeconds: { withoutHints: round(worstDelayMs / 1000), withHints: 'the hint: about a second' },
  };
});
// Every run polled at least once per max interval, whatever it does: the floor any budget must cover.
const floorRuns = Math.floor(PER_MINUTE / (60_000 / MAX_MS));

// Placement: the same workload polled by each policy, at a ladder of pipeline runs (10 step runs each).
const HOURS = arg('hours', 12);
const SEED = arg('seed', 7);
const sim = (runs: number, placed: boolean): SimResult =>
  simulate({ runs, perMinute: PER_MINUTE, minMs: MIN_MS, maxMs: MAX_MS, placed, seed: SEED, hours: HOURS, warmupHours: 6 });
const seconds = (ms: number) => Math.round(ms / 1000);
const row = (r: SimResult) => ({ p50s: seconds(r.p50Ms), p95s: seconds(r.p95Ms), p99s: seconds(r.p99Ms), requestsPerMinute: Math.round(r.requestsPerMinute) });
const ladder = [100, 200, 300, 400, 600, 800, 1200].map((runs) => ({ stepRuns: runs * 10, backoff: row(sim(runs, false)), placed: row(sim(runs, true)) }));
// Today's working point: the most runs whose polls still fit the budget (below it, polls run on time).
const fits = ladder.filter((r) => r.backoff.requestsPerMinute < PER_MINUTE * 0.98);
const working = fits.at(-1) ?? ladder[0]!;
const atTodaysDelay = (placed: boolean): number => {
  // The most runs (in steps of 50) whose p95 stays within today's p95 at its working point.
  let runs = working.stepRuns / 10;
  while (seconds(sim(runs + 50, placed).p95Ms) <= working.backoff.p95s && runs < 20_000) runs += runs >= 1000 ? 250 : 50;
  return runs * 10;
};
const capacity = { todaysP95s: working.backoff.p95s, backoffStepRuns: atTodaysDelay(false), placedStepRuns: atTodaysDelay(true) };
for (const r of ladder) {
  process.stderr.write(
    `${r.stepRuns} step runs: p95 ${r.backoff.p95s} s -> ${r.placed.p95s} s, ${r.backoff.requestsPerMinute} -> ${r.placed.requestsPerMinute} requests/min\n`,
  );
}
process.stderr.write(`at today's p95 (${capacity.todaysP95s} s): ${capacity.backoffStepRuns} step runs -> ${capacity.placedStepRuns}\n`);

const results = {
  date: new Date().toISOString(),
  setup: `${PER_MINUTE} requests/min per workspace, runs of ${STEPS} sequential steps, intervals ${MIN_MS / 1000}-${MAX_MS / 1000} s`,
  rows,
  atMaxIntervalOnly: { runs: floorRuns, stepRuns: floorRuns * STEPS },
  placement: {
    workload: `20 pipelines of 10 steps, usual step durations 1-60 min, spread sigma 0.1, 1 in 20 an outlier (1.5-3x); ${HOURS} h measured`,
    sameStepRuns: ladder,
    atTodaysP95: capacity,
  },
};
process.stdout.write(JSON.stringify(results, null, 2) + '\n');
mkdirSync(path.join(__dirname, '../../bench/results'), { recursive: true });
writeFileSync(path.join(__dirname, '../../bench/results/budget.json'), JSON.stringify(results, null, 2) + '\n');
