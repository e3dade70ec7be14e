// What is tracked: tracks stored in Redis, created from config, CLI or API, and retired when their target ends.
import type { Redis } from 'ioredis';
import { InvalidInputError, TrackNotFoundError } from '../model/errors';
import type { Clock } from '../util/clock';
import type { RunProvider } from '../model/provider';
import { parseSince } from '../util/duration';
import { trackId } from './ids';
import type { Keys } from './keys';
import { Scripts } from './scripts';

/** An experiment track's `expect`: a pipeline run must start this often. */
export interface Expectation {
  /** A run must start at least this often (ms). */
  everyMs: number;
  /** `HH:MM`: the run of each window must have started by this local time; without it, `everyMs` after the last run. */
  by?: string;
  tz: string;
}

/** What every track has, whatever it watches. */
interface TrackBase {
  id: string;
  provider: string;
  labels: Record<string, string>;
  /** Annotations (runbook, summary, ...) its events carry: Mustache, rendered as each message is sent. */
  annotations?: Record<string, string>;
  createdAt: number;
  source: 'config' | 'cli' | 'api' | 'experiment';
  /** Who added it: a signed-in user, an API token's name, `cli:<user>` (none for config and experiment tracks). */
  createdBy?: string;
  /** The experiment track that added this pipeline-run track. */
  parent?: string;
  /** Experiment tracks: also take runs created since this time (ms; 0 = all). Default: the track's creation. */
  since?: number;
  /** Experiment tracks: a run must start this often, else one experiment.missing. */
  expect?: Expectation;
  /** Its steps are stuck once Running this long (ms), instead of the learned limit; experiment tracks pass it on. */
  maxDurationMs?: number;
}

/** A whole experiment: every pipeline run still active and every new one. */
export interface ExperimentTrack extends TrackBase {
  kind: 'experiment';
  experiment: string;
  pipelineRunId?: undefined;
  stepRunId?: undefined;
}

/** One pipeline run, every step (the other ids are hints for the provider). */
export interface PipelineTrack extends TrackBase {
  kind: 'pipeline';
  pipelineRunId: string;
  experiment?: string;
  stepRunId?: undefined;
}

/** One step run. */
export interface StepTrack extends TrackBase {
  kind: 'step';
  stepRunId: string;
  pipelineRunId?: string;
  experiment?: string;
}

/** What is tracked: the kind says which id is the target, so no code has to assert that it is there. */
export type Track = ExperimentTrack | PipelineTrack | StepTrack;

/** A track whose target is a run (its poll asks for step runs). */
export type RunTrack = PipelineTrack | StepTrack;

export interface TrackRequest {
  provider: string;
  experiment?: string;
  pipelineRun?: string;
  stepRun?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Experiment tracks: also take runs created since this time (ms; 0 = all). */
  since?: number;
  expect?: Expectation;
  maxDurationMs?: number;
}

/** A track target as the one schema validates it (config `tracks[]`, `POST /tracks`, the `track` command's flags). */
export type TrackTargetInput = Omit<TrackRequest, 'since' | 'maxDurationMs'> & { since?: string; maxDuration?: number };

/** The track a validated target names: `since` read against `now`. */
export function trackOfTarget(t: TrackTargetInput, source: Track['source'], now: number): Track {
  const { since, maxDuration, ...rest } = t;
  return trackFromRequest({ ...rest, since: since === undefined ? undefined : parseSince(since, now), maxDurationMs: maxDuration }, source, now);
}

/** The most specific id decides what is tracked; the others stay as hints for the provider. */
export function trackFromRequest(req: TrackRequest, source: Track['source'], now: number, parent?: string): Track {
  const base = {
    provider: req.provider,
    labels: req.labels ?? {},
    ...(req.annotations && Object.keys(req.annotations).length ? { annotations: req.annotations } : {}),
    createdAt: now,
    source,
    ...(parent ? { parent } : {}),
    ...(req.maxDurationMs ? { maxDurationMs: req.maxDurationMs } : {}),
  };
  const hints = { ...(req.experiment ? { experiment: req.experiment } : {}) };
  if (req.stepRun) {
    return {
      ...base,
      ...hints,
      id: trackId(req.provider, 'step', req.stepRun),
      kind: 'step',
      stepRunId: req.stepRun,
      ...(req.pipelineRun ? { pipelineRunId: req.pipelineRun } : {}),
    };
  }
  if (req.pipelineRun) return { ...base, ...hints, id: trackId(req.provider, 'pipeline', req.pipelineRun), kind: 'pipeline', pipelineRunId: req.pipelineRun };
  if (!req.experiment) return invalid();
  return {
    ...base,
    id: trackId(req.provider, 'experiment', req.experiment),
    kind: 'experiment',
    experiment: req.experiment,
    ...(req.since !== undefined ? { since: req.since } : {}),
    ...(req.expect ? { expect: req.expect } : {}),
  };
}

function invalid(): never {
  throw new InvalidInputError('a track needs one of experiment, pipeline run or step run');
}

/**
 * Asks the provider whether a run track's target exists and is the kind it claims (an unknown run id says so now,
 * not as a track.error later). Experiment tracks have nothing to check: their runs come later.
 */
export async function verifyTarget(track: Track, provider: Pick<RunProvider, 'locateRun'>): Promise<void> {
  if (track.kind === 'experiment') return;
  const id = track.kind === 'step' ? track.stepRunId : track.pipelineRunId;
  const at = await provider.locateRun(id);
  if (at.kind !== track.kind) throw new InvalidInputError(`${id} is a ${at.kind} run, not a ${track.kind} run`);
}

export function describeTarget(t: Track): string {
  return t.kind === 'step' ? `step run ${t.stepRunId}` : t.kind === 'pipeline' ? `pipeline run ${t.pipelineRunId}` : `experiment ${t.experiment}`;
}

export class TrackStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly clock: Clock,
    private readonly scripts: Scripts = new Scripts(redis, keys),
  ) {}

  /** Stores a track and makes it due now; returns false when the same target was tracked already. */
  async add(track: Track): Promise<boolean> {
    return this.scripts.addTrack({ trackId: track.id, provider: track.provider, json: JSON.stringify(track), now: this.clock.now() });
  }

  async get(id: string): Promise<Track | undefined> {
    const json = await this.redis.hget(this.keys.track(id), 'json');
    return json ? (JSON.parse(json) as Track) : undefined;
  }

  async require(id: string): Promise<Track> {
    const track = await this.get(id);
    if (!track) throw new TrackNotFoundError(id);
    return track;
  }

  async list(): Promise<(Track & { nextPollAt?: number; failures: number })[]> {
    const ids = await this.redis.smembers(this.keys.tracks);
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hmget(this.keys.track(id), 'json', 'failures');
    const rows = (await pipeline.exec()) ?? [];
    const tracks = rows
      .map(([, row]) => row as [string | null, string | null])
      .filter((row) => row[0])
      .map((row) => ({ ...(JSON.parse(row[0]!) as Track), failures: Number(row[1] ?? 0) }));
    const scores = this.redis.pipeline();
    for (const t of tracks) scores.zscore(this.keys.due(t.provider), t.id);
    const due = (await scores.exec()) ?? [];
    return tracks.map((t, i) => ({ ...t, nextPollAt: due[i]?.[1] ? Number(due[i]![1]) : undefined })).sort((a, b) => a.createdAt - b.createdAt);
  }

  async remove(id: string): Promise<boolean> {
    const track = await this.get(id);
    if (!track) return false;
    return this.scripts.removeTrack({ trackId: id, provider: track.provider });
  }
}
