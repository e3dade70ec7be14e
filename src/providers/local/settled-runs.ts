// A pipeline run's records, read once and reused while its change marker (runs/changes/<experiment>@<run>) stands
// still: a poll of a run nobody wrote to costs one stat instead of a folder listing and a read per record. Every write
// of a run touches its marker (change-feed.ts), so a write after the reuse began moves the marker and the next read
// goes to disk. Only a settled marker is trusted: one touched within the last second could be touched again within
// the same millisecond by a write this read did not see (the marker's time would not move). Edits that bypass the
// store (a record changed by hand) are seen within maxAgeMs.
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { changesDir } from './change-feed';
import type { RecordReader, StepListing } from './record-reader';
import type { PipelineRecord } from './records';

/** A marker touched this recently may be touched again without its time moving: not trusted yet. */
const SETTLED_MS = 1000;

interface Entry {
  markerMs: number;
  readAt: number;
  pipeline?: PipelineRecord;
  listing?: StepListing;
}

export class SettledRuns {
  /** Pipeline run -> experiment (it never changes): the marker's name. */
  private readonly experiments = new Map<string, string>();
  /** Pipeline run -> its records as read under a settled marker; insertion order is recency (oldest first). */
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly store: RecordReader,
    private readonly o: { maxRuns?: number; maxAgeMs?: number; now?: () => number } = {},
  ) {}

  /**
   * `experiment`, when the caller knows it (a poll does: its track names it), names the marker before the first read,
   * so that the first read is already kept: without it, a restarted daemon read every quiet run twice. A wrong one
   * names no marker (run ids are unique across experiments): nothing is reused under it.
   */
  async pipeline(pipelineRunId: string, experiment?: string): Promise<PipelineRecord> {
    const entry = this.entryOf(pipelineRunId, experiment);
    const pipeline = entry.pipeline ?? (await this.store.readPipeline(pipelineRunId));
    entry.pipeline = pipeline;
    this.remember(pipelineRunId, pipeline.experiment, entry);
    return pipeline;
  }

  async steps(pipelineRunId: string, experiment?: string): Promise<StepListing> {
    const entry = this.entryOf(pipelineRunId, experiment);
    // The pipeline record read under the same marker (a poll reads it first) orders the steps: not read twice.
    const listing = entry.listing ?? (await this.store.readSteps(pipelineRunId, entry.pipeline));
    // An unreadable record is read again each time: a fix must not wait for the next write.
    if (listing.unreadable.length === 0) entry.listing = listing;
    this.remember(pipelineRunId, listing.steps[0]?.experiment, entry);
    return listing;
  }

  /** The reusable entry, or a fresh one holding the marker's time taken before any record is read. */
  private entryOf(pipelineRunId: string, experimentHint: string | undefined): Entry {
    const now = (this.o.now ?? Date.now)();
    const experiment = this.experiments.get(pipelineRunId) ?? experimentHint;
    const markerMs = experiment === undefined ? undefined : this.markerMs(experiment, pipelineRunId);
    const known = this.entries.get(pipelineRunId);
    if (known && known.markerMs === markerMs && now - known.readAt < (this.o.maxAgeMs ?? 60_000)) {
      this.entries.delete(pipelineRunId);
      this.entries.set(pipelineRunId, known);
      return known;
    }
    this.entries.delete(pipelineRunId);
    // NaN never equals anything: an unsettled or missing marker gives an entry that is never reused.
    return { markerMs: markerMs !== undefined && now - markerMs >= SETTLED_MS ? markerMs : NaN, readAt: now };
  }

  private remember(pipelineRunId: string, experiment: string | undefined, entry: Entry): void {
    const max = this.o.maxRuns ?? 10_000;
    if (experiment !== undefined && !this.experiments.has(pipelineRunId)) {
      this.experiments.set(pipelineRunId, experiment);
      trimOldest(this.experiments, 2 * max);
    }
    if (Number.isNaN(entry.markerMs) || this.entries.has(pipelineRunId)) return;
    this.entries.set(pipelineRunId, entry);
    trimOldest(this.entries, max);
  }

  private markerMs(experiment: string, pipelineRunId: string): number | undefined {
    return statSync(path.join(changesDir(this.store.root), `${experiment}@${pipelineRunId}`), { throwIfNoEntry: false })?.mtimeMs;
  }
}

/** Drops a map's oldest entries (insertion order) past `max`. */
function trimOldest(map: Map<string, unknown>, max: number): void {
  for (const oldest of map.keys()) {
    if (map.size <= max) return;
    map.delete(oldest);
  }
}
