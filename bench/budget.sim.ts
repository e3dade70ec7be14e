// The Azure ML request budget at scale, by simulation: how many tracked step runs a workspace budget watches.
// Each tracked pipeline run is polled as the daemon polls it (nextPollDelayMs, the scheduler's own policy), one
// request per poll (the children listing, up to pageSize steps: measured on the contract server,
// test/integration/azureml/budget-fairness.test.ts); with Event Grid hints, one hinted poll per change and quiet
// runs at the max interval. Runs of S sequential steps, each Queued then Running then ended: 2 changes per step.
// Usage: npm run bench:budget [-- --perMinute 600 --steps 10 --min 5 --max 300]
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { nextPollDelayMs } from '../src/watch/scheduler';
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
const results = {
  date: new Date().toISOString(),
  setup: `${PER_MINUTE} requests/min per workspace, runs of ${STEPS} sequential steps, intervals ${MIN_MS / 1000}-${MAX_MS / 1000} s`,
  rows,
  atMaxIntervalOnly: { runs: floorRuns, stepRuns: floorRuns * STEPS },
};
process.stdout.write(JSON.stringify(results, null, 2) + '\n');
mkdirSync(path.join(__dirname, '../../bench/results'), { recursive: true });
writeFileSync(path.join(__dirname, '../../bench/results/budget.json'), JSON.stringify(results, null, 2) + '\n');
