// Change hints: a provider's change feed (the local run store's, Azure ML's Event Grid) names a run that changed;
// the tracks watching it are polled now. A hint never makes an event: the poll, nextEvents and the atomic commit
// stay the only way one is made, so a lost, repeated, late or reordered hint can neither lose nor duplicate an alert.
import type { Redis } from 'ioredis';
import type { Clock } from '../util/clock';
import type { Logger } from '../util/logger';
import type { PollQueue } from '../store/queues';
import { trackId } from '../store/ids';
import type { Keys } from '../store/keys';
import { Scripts } from '../store/scripts';

/** A run that changed, as a change feed names it. Any of the ids may be missing; more ids find more tracks. */
export interface RunHint {
  /** The provider instance (config name) the run belongs to. */
  provider: string;
  experiment?: string;
  pipelineRunId?: string;
  stepRunId?: string;
}

export interface HintSettings {
  /** A hinted poll waits this long, so that a burst of writes (a step's record, then its pipeline's) is one poll. */
  debounceMs: number;
  /** Hinted polls of one track are at least this far apart (a burst of hints is one poll). */
  minGapMs: number;
  /** A hinted track is leased like a claimed one: if its poll is lost, the tick claims it again after this. */
  leaseMs: number;
  /** While hints arrived within this long, the provider is "pushed": its quiet tracks are polled at the max interval. */
  pushedForMs: number;
}

export interface HintRouterOptions {
  redis: Redis;
  keys: Keys;
  /** The connection's scripts (one per connection, made where the connection is). */
  scripts?: Scripts;
  /** Poll queue of each provider instance. */
  queues: Map<string, PollQueue>;
  clock: Clock;
  settings: HintSettings;
  logger: Logger;
  /** Counts hints by provider and outcome: polled, or ignored (nothing tracks the run, or a hinted poll is pending). */
  onHint?(provider: string, outcome: 'polled' | 'ignored'): void;
}

function runKey(h: RunHint): string {
  return [h.provider, h.experiment ?? '', h.pipelineRunId ?? '', h.stepRunId ?? ''].join('\0');
}

/** Past this many remembered runs, the ones whose hinted poll is past are forgotten. */
const REMEMBERED_RUNS = 10_000;

/**
 * Hints arriving within this long of each other (and within half the debounce) are sent in one script call, and
 * their polls share jobs: at 1,000 hinted runs a second, a job per hinted poll was most of a poll's cost. Their polls
 * are still due a debounce after the first of them, as if each had been sent alone.
 */
const GATHER_MS = 20;

/** The runs hinted for one provider, gathered until their one script call. */
interface Gathered {
  runs: Map<string, RunHint>;
  /** Per run (its key): the tracks its hint polls. */
  polled: Promise<Map<string, string[]>>;
}

export class HintRouter {
  /** The connection's scripts: handed in by the composition root, else made here. */
  private readonly scripts: Scripts;
  /**
   * Per run: until when a hinted poll is pending. A hint for a run seen here with a poll still to come is already
   * served (the script would decide the same: a pending poll will read after this change), so it costs no Redis
   * call: a burst of file events (ten per step write) is one script call, not ten.
   */
  private readonly pendingUntil = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<string[]>>();
  private readonly gathering = new Map<string, Gathered>();

  constructor(private readonly o: HintRouterOptions) {
    this.scripts = o.scripts ?? new Scripts(o.redis, o.keys);
  }

  /** Polls the tracks watching the hinted run (soon, once per burst); returns the track ids polled. */
  async hint(h: RunHint): Promise<string[]> {
    const key = runKey(h);
    const now = this.o.clock.now();
    if ((this.pendingUntil.get(key) ?? -1) >= now) {
      this.o.onHint?.(h.provider, 'ignored');
      return [];
    }
    // The same run hinted again while its script call is gathering or on its way: that call serves both.
    const sending = this.inFlight.get(key);
    if (sending) return sending.then(() => []);
    if (!this.o.queues.has(h.provider)) {
      this.o.logger.debug({ provider: h.provider }, 'hint for a provider without a poll queue here: ignored');
      return [];
    }
    const batch = this.gathering.get(h.provider) ?? this.gather(h.provider, now);
    batch.runs.set(key, h);
    const sent = batch.polled.then((polled) => polled.get(key) ?? []).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, sent);
    return sent;
  }

  /** Starts gathering the provider's hints (the first hinted at `now`); they are sent together a moment later. */
  private gather(provider: string, now: number): Gathered {
    const runs = new Map<string, RunHint>();
    const waitMs = Math.min(GATHER_MS, Math.floor(this.o.settings.debounceMs / 2));
    const gathered = new Promise((resolve) => (waitMs > 0 ? setTimeout(resolve, waitMs) : setImmediate(resolve)));
    // Runs as the wait ends, before any later hint can be taken: a later one starts the next gathering.
    const polled = gathered.then(() => {
      this.gathering.delete(provider);
      return this.send(provider, runs, now);
    });
    const batch = { runs, polled };
    this.gathering.set(provider, batch);
    return batch;
  }

  /** The earliest hinted poll just enqueued for the run: until then, a hint for it is served already. */
  private remember(key: string, pollAt: number, now: number): void {
    if (this.pendingUntil.size >= REMEMBERED_RUNS) for (const [k, until] of this.pendingUntil) if (until < now) this.pendingUntil.delete(k);
    this.pendingUntil.set(key, pollAt);
  }

  private async send(provider: string, gathered: Map<string, RunHint>, firstAt: number): Promise<Map<string, string[]>> {
    const queue = this.o.queues.get(provider)!;
    const now = this.o.clock.now();
    const runs = [...gathered].map(([key, h]) => ({
      key,
      runTrackIds: [
        ...(h.pipelineRunId ? [trackId(h.provider, 'pipeline', h.pipelineRunId)] : []),
        ...(h.stepRunId ? [trackId(h.provider, 'step', h.stepRunId)] : []),
      ],
      experimentTrackId: h.experiment ? trackId(h.provider, 'experiment', h.experiment) : undefined,
    }));
    const polls = await this.scripts.hintTracks({
      provider,
      now,
      runs,
      // Due a debounce after the first hint, as if sent at once: gathering delays no poll.
      limits: { ...this.o.settings, debounceMs: Math.max(0, firstAt + this.o.settings.debounceMs - now) },
    });
    // A hinted poll is a claim of its own: a regular poll of the track may be waiting or running too; both commit
    // by compare-and-set, so a second poll can only find nothing new.
    await queue.addPolls(
      polls.map(({ trackId: id, pollAt }) => ({ trackId: id, dueAt: pollAt })),
      now,
    );
    const byRun = runs.map((): typeof polls => []);
    for (const p of polls) byRun[p.run]?.push(p);
    const polled = new Map<string, string[]>();
    runs.forEach((run, i) => {
      const mine = byRun[i]!;
      this.o.onHint?.(provider, mine.length > 0 ? 'polled' : 'ignored');
      // Only a poll of the run's own track serves the run's next hints: a poll of its experiment track (the run had
      // no track yet) adds that track, and the run's later changes must reach it.
      const runPolls = mine.filter((p) => run.runTrackIds.includes(p.trackId));
      if (runPolls.length) this.remember(run.key, Math.min(...runPolls.map((p) => p.pollAt)), now);
      polled.set(
        run.key,
        mine.map((p) => p.trackId),
      );
    });
    return polled;
  }
}
