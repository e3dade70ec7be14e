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
    // The same run hinted again while its script call is on its way: that call serves both.
    const sending = this.inFlight.get(key);
    if (sending) return sending.then(() => []);
    const sent = this.send(h, now).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, sent);
    return sent;
  }

  /** The earliest hinted poll just enqueued for the run: until then, a hint for it is served already. */
  private remember(key: string, pollAt: number, now: number): void {
    if (this.pendingUntil.size >= REMEMBERED_RUNS) for (const [k, until] of this.pendingUntil) if (until < now) this.pendingUntil.delete(k);
    this.pendingUntil.set(key, pollAt);
  }

  private async send(h: RunHint, now: number): Promise<string[]> {
    const queue = this.o.queues.get(h.provider);
    if (!queue) {
      this.o.logger.debug({ provider: h.provider }, 'hint for a provider without a poll queue here: ignored');
      return [];
    }
    const runTrackIds = [
      ...(h.pipelineRunId ? [trackId(h.provider, 'pipeline', h.pipelineRunId)] : []),
      ...(h.stepRunId ? [trackId(h.provider, 'step', h.stepRunId)] : []),
    ];
    const polls = await this.scripts.hintTracks({
      provider: h.provider,
      now,
      runTrackIds,
      experimentTrackId: h.experiment ? trackId(h.provider, 'experiment', h.experiment) : undefined,
      limits: this.o.settings,
    });
    if (polls.length === 0) {
      this.o.onHint?.(h.provider, 'ignored');
      return [];
    }
    // A hinted poll is a claim of its own: a regular poll of the track may be waiting or running too; both commit
    // by compare-and-set, so a second poll can only find nothing new.
    await queue.addPolls(
      polls.map(({ trackId: id, pollAt }) => ({ trackId: id, dueAt: pollAt })),
      now,
    );
    this.o.onHint?.(h.provider, 'polled');
    // Only a poll of the run's own track serves the run's next hints: a poll of its experiment track (the run had no
    // track yet) adds that track, and the run's later changes must reach it.
    const runPolls = polls.filter((p) => runTrackIds.includes(p.trackId));
    if (runPolls.length) this.remember(runKey(h), Math.min(...runPolls.map((p) => p.pollAt)), now);
    return polls.map((p) => p.trackId);
  }
}
