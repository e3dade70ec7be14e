// What is tracked: tracks stored in Redis, created from config, CLI or API, and retired when their target ends.
import type { Redis } from 'ioredis';
import { InvalidInputError, TrackNotFoundError } from '../model/errors';
import type { Clock } from '../clock';
import { trackId, type TrackKind } from '../store/ids';
import type { Keys } from '../store/keys';
import { scriptsOn } from '../store/scripts';

/** An experiment track's `expect`: a pipeline run must start this often. */
export interface Expectation {
  /** A run must start at least this often (ms). */
  everyMs: number;
  /** `HH:MM`: the run of each window must have started by this local time; without it, `everyMs` after the last run. */
  by?: string;
  tz: string;
}

export interface Track {
  id: string;
  provider: string;
  kind: TrackKind;
  experiment?: string;
  pipelineRunId?: string;
  stepRunId?: string;
  labels: Record<string, string>;
  createdAt: number;
  source: 'config' | 'cli' | 'api' | 'experiment';
  /** The experiment track that added this pipeline-run track. */
  parent?: string;
  /** Experiment tracks: also take runs created since this time (ms; 0 = all). Default: the track's creation. */
  since?: number;
  /** Experiment tracks: a run must start this often, else one experiment.missing. */
  expect?: Expectation;
  /** Its steps are stuck once Running this long (ms), instead of the learned limit; experiment tracks pass it on. */
  maxDurationMs?: number;
}

export interface TrackRequest {
  provider: string;
  experiment?: string;
  pipelineRun?: string;
  stepRun?: string;
  labels?: Record<string, string>;
  /** Experiment tracks: also take runs created since this time (ms; 0 = all). */
  since?: number;
  expect?: Expectation;
  maxDurationMs?: number;
}

/** The most specific id decides what is tracked; the others stay as hints for the provider. */
export function trackFromRequest(req: TrackRequest, source: Track['source'], now: number, parent?: string): Track {
  const kind: TrackKind = req.stepRun ? 'step' : req.pipelineRun ? 'pipeline' : req.experiment ? 'experiment' : invalid();
  const target = kind === 'step' ? req.stepRun! : kind === 'pipeline' ? req.pipelineRun! : req.experiment!;
  return {
    id: trackId(req.provider, kind, target),
    provider: req.provider,
    kind,
    experiment: req.experiment,
    pipelineRunId: req.pipelineRun,
    stepRunId: req.stepRun,
    labels: req.labels ?? {},
    createdAt: now,
    source,
    ...(parent ? { parent } : {}),
    ...(kind === 'experiment' && req.since !== undefined ? { since: req.since } : {}),
    ...(kind === 'experiment' && req.expect ? { expect: req.expect } : {}),
    ...(req.maxDurationMs ? { maxDurationMs: req.maxDurationMs } : {}),
  };
}

function invalid(): never {
  throw new InvalidInputError('a track needs one of experiment, pipeline run or step run');
}

export function describeTarget(t: Track): string {
  return t.kind === 'step' ? `step run ${t.stepRunId}` : t.kind === 'pipeline' ? `pipeline run ${t.pipelineRunId}` : `experiment ${t.experiment}`;
}

export class TrackStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly clock: Clock,
  ) {}

  /** Stores a track and makes it due now; returns false when the same target was tracked already. */
  async add(track: Track): Promise<boolean> {
    const k = this.keys;
    const added = await scriptsOn(this.redis).addTrack(k.track(track.id), k.tracks, k.due(track.provider), track.id, JSON.stringify(track), this.clock.now());
    return added === 1;
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
    const k = this.keys;
    return (await scriptsOn(this.redis).removeTrack(k.track(id), k.tracks, k.due(track.provider), k.state(id), k.seen(id), k.failing, id)) === 1;
  }
}
