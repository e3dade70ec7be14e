// The poll job: fetch ONE snapshot of a track's target, decide the transitions (pure), commit them atomically.
import type { Redis } from 'ioredis';
import type { Clock } from '../util/clock';
import type { Logger } from '../util/logger';
import { isSrwError, TrackNotFoundError } from '../model/errors';
import { isTerminal, Status } from '../model/status';
import type { PipelineRunSnapshot, RunProvider, StepRunListing, StepRunSnapshot } from '../model/provider';
import { trackErrorEvent } from '../store/event-builders';
import type { Keys } from '../store/keys';
import { failureDelayMs, type IntervalPolicy } from './scheduler';
import { runPollDelayMs, type RunningStep } from './poll-placement';
import type { FoundRun, Scripts } from '../store/scripts';
import type { MissingWatch } from './missing';
import type { StuckWatch } from './stuck';
import { attachLinks, attachStderrTails } from './enrich';
import { nextEvents, pipelineTransition } from './state';
import { decodeState, encodeState, ERROR_FIELD } from '../store/state-fields';
import { StateStore, type Transition } from '../store/state-store';
import { readTracks, type TrackRead } from './poll-read';
import { recoveryOf, recoveryTransitions, unreadableTransitions } from './track-errors';
import { trackFromRequest, type ExperimentTrack, type RunTrack, type Track } from '../store/tracks';

export interface PollSettings extends IntervalPolicy {
  /** Consecutive failed polls before one track.error event. */
  errorAfterFailures: number;
  /** Lines of stderr carried by a failure event. */
  stderrTailLines: number;
  /** An open pipeline run (no status of its own) is kept this long after its last step ended, in case it grows. */
  openRunGraceMs: number;
  /**
   * A metered provider's running steps with at least this many learned durations have their polls placed where
   * they usually end (watch/poll-placement.ts); undefined: never placed, back-off only.
   */
  placeAfterSamples?: number;
}

export interface PollDeps {
  redis: Redis;
  keys: Keys;
  /** The connection's scripts (one per connection, made by the composition root). */
  scripts: Scripts;
  providers: Map<string, RunProvider>;
  clock: Clock;
  settings: PollSettings;
  logger: Logger;
  /** Called with each provider call's outcome, for metrics. */
  onProviderCall?(provider: string, ok: boolean, ms: number, errorCode?: string): void;
  /** The transitions a commit applied (its compare-and-set held), for metrics. */
  onTransitions?(applied: Transition[]): void;
  /** Stuck-step deadlines follow each committed transition. */
  stuck?: StuckWatch;
  /** Experiment tracks that expect runs: scheduled on their first poll, resumed when a run appears. */
  missing?: MissingWatch;
  /** Enqueues polls of these tracks, due at `dueAt` (new tracks found by an experiment poll, due now). */
  pollNow?(provider: string, trackIds: string[], dueAt: number): Promise<void>;
}

export type PollOutcome =
  | { kind: 'gone' }
  | { kind: 'committed'; appended: number; conflicts: number; retired: boolean }
  | { kind: 'tracked'; added: number }
  | { kind: 'failed'; failures: number; raised: boolean; code: string };

/** Slack kept behind an experiment's cursor: runs created out of order within it are still found. */
const EXPERIMENT_SLACK_MS = 10 * 60 * 1000;

export async function pollTrack(deps: PollDeps, trackId: string): Promise<PollOutcome> {
  const [read] = await readTracks(deps, [trackId]);
  return pollAsRead(deps, read!);
}

/** A poll from what was read of its track (one round trip for the polls of a job: see readTracks). */
export async function pollAsRead(deps: PollDeps, read: TrackRead): Promise<PollOutcome> {
  const { trackId, track, prev, meta } = read;
  if (!track) return { kind: 'gone' };
  const fail = (error: Parameters<typeof recordFailure>[3], retryAfterMs?: number) => unlessUntracked(recordFailure(deps, track, meta, error, retryAfterMs));
  const provider = deps.providers.get(track.provider);
  if (!provider) return fail({ code: 'SRW_CONFIG_INVALID', message: `provider "${track.provider}" is not configured in this process`, retryable: false });
  // Only the provider's part is the provider's failure: the commit runs outside this try, so that a Redis or
  // script error fails the job (it is retried) instead of counting against the provider and raising a track.error.
  let commit: () => Promise<PollOutcome>;
  try {
    commit = track.kind === 'experiment' ? await observeExperiment(deps, provider, track, meta) : await observeRun(deps, provider, track, prev, meta);
  } catch (err) {
    const e = err as Error & { code?: string; retryable?: boolean; retryAfterMs?: number };
    const known = isSrwError(err);
    deps.logger.warn({ trackId, provider: track.provider, code: e.code, err: e.message }, 'poll failed');
    return fail({ code: known ? e.code! : 'SRW_PROVIDER_UNAVAILABLE', message: e.message, retryable: known ? e.retryable : true }, e.retryAfterMs);
  }
  const outcome = await unlessUntracked(commit());
  // A run track's recovery is one more transition of its commit (which may retire the track and drop its state).
  if (outcome.kind === 'tracked') await recordRecovery(deps, track, meta.prevError);
  return outcome;
}

/** A script found the track gone (untracked while its poll ran): the poll just ends. */
async function unlessUntracked(work: Promise<PollOutcome>): Promise<PollOutcome> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof TrackNotFoundError) return { kind: 'gone' };
    throw err;
  }
}

async function timed<T>(deps: PollDeps, provider: string, call: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    const result = await call();
    deps.onProviderCall?.(provider, true, Date.now() - started);
    return result;
  } catch (err) {
    deps.onProviderCall?.(provider, false, Date.now() - started, (err as { code?: string }).code ?? 'unknown');
    throw err;
  }
}

/** Asks the provider (one listing, stderr tails of failures, the pipeline run once all is terminal); returns the commit. */
async function observeRun(
  deps: PollDeps,
  provider: RunProvider,
  track: RunTrack,
  prev: Record<string, string>,
  meta: { lastChangeAt: number; pushed: boolean },
): Promise<() => Promise<PollOutcome>> {
  const { lastChangeAt, pushed } = meta;
  const hints = { experiment: track.experiment, pipelineRunId: track.pipelineRunId };
  const { steps, unreadable }: StepRunListing =
    track.kind === 'step'
      ? { steps: [await timed(deps, track.provider, () => provider.getStepRun({ ...hints, stepRunId: track.stepRunId }))], unreadable: [] }
      : await timed(deps, track.provider, () => provider.listStepRuns({ ...hints, pipelineRunId: track.pipelineRunId }));
  const now = deps.clock.now();
  const transitions = [...nextEvents(track, prev, steps, now), ...unreadableTransitions(track, prev, unreadable, now)];
  await attachStderrTails(deps, provider, transitions);
  attachLinks(provider, transitions);

  let retire = false;
  let keepUntil = Infinity;
  if (track.kind === 'step') {
    retire = isTerminal(steps[0]!.status);
  } else if (unreadable.length === 0 && steps.length > 0 && steps.every((s) => isTerminal(s.status))) {
    // Only now ask for the pipeline run itself: its steps may all be done while it schedules more.
    const pipeline = await timed(deps, track.provider, () => provider.getPipelineRun({ ...hints, pipelineRunId: track.pipelineRunId }));
    const t = pipelineTransition(track, prev, pipeline, steps, now);
    if (t) {
      attachLinks(provider, [t]);
      transitions.push(t);
    }
    // An open run (no status of its own) may still gain steps: it is declared done only after a quiet grace period.
    keepUntil = pipeline.open ? lastEndOf(pipeline, lastChangeAt || now) + deps.settings.openRunGraceMs : now;
    retire = isTerminal(pipeline.status) && now >= keepUntil;
  }
  const changed = transitions.length > 0;
  const pending = changed || pushed || retire ? undefined : await placeable(deps, provider, track, steps, now);
  const minSamples = deps.settings.placeAfterSamples;
  const nextDelay = runPollDelayMs({ ...deps.settings, changed, lastChangeAt: changed ? now : lastChangeAt || now, now, pushed, pending, minSamples });
  const nextPollAt = retire ? null : Math.min(now + nextDelay, Math.max(keepUntil, now + deps.settings.minMs));
  // The track's errors that cleared, in its commit (which may retire the track and drop its state).
  transitions.push(...recoveryTransitions(track, prev, unreadable, now));
  return () => commitRun(deps, track, { steps, prev, transitions, now, nextPollAt, retire });
}

/**
 * A metered provider's run whose polls can be placed: its steps not over yet, each Running with what is learned of its
 * duration (undefined for one that is not Running). Undefined when placement does not apply (unmetered, not learned).
 */
async function placeable(deps: PollDeps, provider: RunProvider, track: RunTrack, steps: StepRunSnapshot[], now: number) {
  if (!provider.metered || deps.settings.placeAfterSamples === undefined || !deps.stuck) return undefined;
  const open = steps.filter((s) => !isTerminal(s.status));
  if (open.length === 0 || open.some((s) => s.status !== Status.Running || !s.startTime)) return undefined;
  const learned = await deps.stuck.learnedDurations(track.provider, open[0]!.experiment, [...new Set(open.map((s) => s.name))], now);
  return open.map((s): RunningStep => ({ elapsedMs: Math.max(0, now - Date.parse(s.startTime!)), samples: learned.get(s.name) ?? [] }));
}

async function commitRun(
  deps: PollDeps,
  track: Track,
  o: { steps: StepRunSnapshot[]; prev: Record<string, string>; transitions: Transition[]; now: number; nextPollAt: number | null; retire: boolean },
): Promise<PollOutcome> {
  const { steps, prev, transitions, now, nextPollAt, retire } = o;
  const stateStore = new StateStore(deps.redis, deps.keys);
  const stuckNotes = transitions.length ? await deps.stuck?.notesFor(track, transitions, now) : undefined;
  const result = await stateStore.commit(track, transitions, now, nextPollAt, stuckNotes);
  if (result.appended > 0) {
    const applied = transitions.filter((_, i) => result.won[i]);
    deps.onTransitions?.(applied);
    await deps.stuck?.learnFrom(track, applied);
  }
  if (!retire) await deps.stuck?.noteSubStates(track, steps, prev, now);
  return { kind: 'committed', appended: result.appended, conflicts: result.conflicts, retired: retire && result.conflicts === 0 };
}

function lastEndOf(pipeline: PipelineRunSnapshot, fallback: number): number {
  const end = pipeline.endTime ? Date.parse(pipeline.endTime) : NaN;
  return Number.isFinite(end) ? end : fallback;
}

/** Lists the experiment's pipeline runs; returns the commit that tracks the new ones. */
async function observeExperiment(
  deps: PollDeps,
  provider: RunProvider,
  track: ExperimentTrack,
  meta: { cursor?: number; pushed: boolean },
): Promise<() => Promise<PollOutcome>> {
  const { cursor } = meta;
  // The first poll of an experiment track (new, or added again after Redis lost it) also takes every run
  // still active, whatever its age: a restart must not forget a pipeline that is running.
  const first = cursor === undefined;
  const from = track.since ?? track.createdAt;
  const since = first ? from : Math.max(from, cursor - EXPERIMENT_SLACK_MS);
  const runs = await timed(deps, track.provider, () => provider.listPipelineRuns({ experiment: track.experiment }, { since: new Date(since), active: first }));
  const now = deps.clock.now();
  const created = (r: { createdTime?: string }) => (r.createdTime ? Date.parse(r.createdTime) : now);
  const newest = runs.reduce((max, r) => Math.max(max, created(r)), cursor ?? track.createdAt);
  const newestRun = runs.reduce((max, r) => Math.max(max, created(r)), 0);
  const found: FoundRun[] = [];
  for (const run of runs) {
    const child = trackFromRequest(
      {
        provider: track.provider,
        experiment: run.experiment,
        pipelineRun: run.pipelineRunId,
        labels: track.labels,
        annotations: track.annotations,
        maxDurationMs: track.maxDurationMs,
      },
      'experiment',
      now,
      track.id,
    );
    found.push({ pipelineRunId: run.pipelineRunId, createdMs: created(run), childTrackId: child.id, childJson: JSON.stringify(child) });
  }
  const tracking = { trackId: track.id, provider: track.provider, now, forgetBefore: newest - EXPERIMENT_SLACK_MS, cursor: newest, newestRunAt: newestRun };
  // While the change feed sends hints, a new run is announced by one: the listing can wait the max interval.
  const nextPollAt = now + (meta.pushed ? deps.settings.maxMs : deps.settings.minMs);
  return () => commitExperiment(deps, track, { ...tracking, nextPollAt, runs: found }, first);
}

async function commitExperiment(deps: PollDeps, track: Track, found: Parameters<Scripts['addPipelineTracks']>[0], first: boolean): Promise<PollOutcome> {
  const { now } = found;
  const newTracks = await deps.scripts.addPipelineTracks(found);
  const added = newTracks.length;
  if (first) await deps.missing?.schedule(track, now);
  // Only a newly found run can end a missing window (an older one would have kept it from opening).
  if (added > 0 && track.expect) await deps.missing?.resumed(track, now);
  if (added > 0) {
    deps.logger.info({ trackId: track.id, experiment: track.experiment, added }, 'new pipeline runs tracked');
    // Their first poll now, not at the next tick (the same job id as the tick's claim of that due time: one poll).
    await deps.pollNow?.(track.provider, newTracks, now);
  }
  return { kind: 'tracked', added };
}

/** An experiment track's recovery, after its commit (it never retires). */
async function recordRecovery(deps: PollDeps, track: Track, prevError: string): Promise<void> {
  const t = recoveryOf(track, ERROR_FIELD, prevError, deps.clock.now());
  if (!t) return;
  await deps.scripts.casAppend({
    hash: deps.keys.state(track.id),
    field: t.field,
    expected: t.expected,
    next: t.next,
    eventJson: JSON.stringify(t.event),
  });
}

async function recordFailure(
  deps: PollDeps,
  track: Track,
  before: { failures: number; prevError: string },
  error: { code: string; message: string; retryable?: boolean },
  retryAfterMs?: number,
): Promise<PollOutcome> {
  const now = deps.clock.now();
  const failures = before.failures + 1;
  // Not found, auth and config errors will not fix themselves soon: say so at once, then poll slowly.
  const threshold = error.retryable === false ? 1 : deps.settings.errorAfterFailures;
  const delay = error.retryable === false ? deps.settings.maxMs : failureDelayMs({ ...deps.settings, failures, retryAfterMs });
  const prevError = before.prevError;
  const seq = (decodeState(prevError)?.seq ?? 0) + 1;
  const event = trackErrorEvent(track, { ...error, retryable: error.retryable }, seq, now);
  const { failures: count, raised } = await deps.scripts.recordPollFailure({
    trackId: track.id,
    provider: track.provider,
    nextPollAt: now + delay,
    threshold,
    expectedError: prevError,
    nextError: encodeState({ seq, status: Status.Failed }),
    eventJson: JSON.stringify(event),
  });
  return { kind: 'failed', failures: count, raised, code: error.code };
}
