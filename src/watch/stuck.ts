// Stuck steps: learned limits on Running time, a limit on Queued time, checked on the scheduler's tick with no provider call.
import { hasFieldStartingWith, RAW_FIELD_PREFIX, rawField, stuckField } from '../store/state-fields';
import type { Redis } from 'ioredis';
import { Status } from '../model/status';
import type { StepRunSnapshot } from '../model/provider';
import { stepEvent, stuckEvent, type StuckFacts } from '../store/event-builders';
import type { StepRunData } from '../store/events';
import type { Keys } from '../store/keys';
import { Scripts, type StuckNote } from '../store/scripts';
import { decodeState, encodeState } from '../store/state-fields';
import { type Transition } from '../store/state-store';
import type { Track } from '../store/tracks';

export interface StuckSettings {
  enabled: boolean;
  minDurationMs: number;
  factor: number;
  /** Without enough history, a Running step is stuck after this. */
  maxDurationMs: number;
  minSamples: number;
  maxQueuedMs: number;
  /** Raw sub-states of Running with a limit of their own (ms), by raw status: Finalizing, NotResponding, ... */
  subStateMs?: Record<string, number>;
}

/** Finished durations kept per step name: the last 50. */
const SAMPLES_KEPT = 50;
/**
 * Learned durations are read from Redis at most this often per step name and process (what this process learns it
 * adds at once): a p95 a minute behind another worker's is as good, and a busy poll does not pay a read per step.
 */
const LEARNED_FRESH_MS = 60_000;

/** p95 of the samples (nearest rank), undefined for none. */
export function p95(samples: number[]): number | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)];
}

/** How long a step may run: max(minDuration, factor × p95 of its last Finished runs), or maxDuration without history. */
export function runningLimit(samples: number[], s: StuckSettings): { limitMs: number; p95Ms?: number; samples: number } {
  const p = p95(samples);
  if (p === undefined || samples.length < s.minSamples) return { limitMs: s.maxDurationMs, samples: samples.length };
  return { limitMs: Math.max(s.minDurationMs, s.factor * p), p95Ms: p, samples: samples.length };
}

/** The step of a transition that changed its status (not a stuck or sub-state event of its own), else undefined. */
function statusChangeOf(t: Transition): StepRunData | undefined {
  const s = t.event.stepRun;
  return s && t.event.type !== 'steprun.stuck' && t.event.type !== 'steprun.substate' ? s : undefined;
}

export class StuckWatch {
  /** Durations list key -> its samples, newest first, as last read or learned here. */
  private readonly learned = new Map<string, { samples: number[]; readAt: number }>();
  /** stuck.states by lower-cased raw status (a provider's casing may differ from the config's). */
  private readonly subStateLimits: Map<string, number>;
  /** subStateLimits by a raw status as spelled (undefined: none). */
  private readonly limitBySpelling = new Map<string, number | undefined>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly settings: StuckSettings,
    private readonly scripts: Scripts = new Scripts(redis, keys),
  ) {
    this.subStateLimits = new Map(Object.entries(settings.subStateMs ?? {}).map(([raw, ms]) => [raw.toLowerCase(), ms]));
  }

  /**
   * Before a poll's commit: the stuck note each transition carries into it (commitPoll-8.lua writes it with the
   * transition, atomically): a step that started running or queuing gets a deadline, one that ended loses it.
   */
  async notesFor(track: Track, transitions: Transition[], now: number): Promise<Map<Transition, StuckNote>> {
    const notes = new Map<Transition, StuckNote>();
    if (!this.settings.enabled) return notes;
    const history = await this.durationsOf(track, transitions, now);
    for (const t of transitions) {
      const s = statusChangeOf(t);
      if (!s) continue;
      const member = `${track.id}|${s.stepRunId}`;
      if (s.status === Status.Running || s.status === Status.Queued) {
        const info = this.deadlineOf(track, t.event, s, history, now);
        notes.set(t, { member, deadline: info.sinceMs + info.limitMs, facts: JSON.stringify(info) });
      } else {
        notes.set(t, { member });
      }
    }
    return notes;
  }

  /** After a poll's commit: a step that Finished (a transition the commit applied) adds its duration to what limits are learned from. */
  async learnFrom(track: Track, applied: Transition[]): Promise<void> {
    if (!this.settings.enabled) return;
    let p: ReturnType<Redis['pipeline']> | undefined;
    for (const t of applied) {
      const s = statusChangeOf(t);
      if (s?.status !== Status.Finished || s.durationMs === undefined || s.isReused) continue;
      const list = this.keys.durations(track.provider, t.event.experiment, s.name);
      p = (p ?? this.redis.pipeline()).lpush(list, s.durationMs).ltrim(list, 0, SAMPLES_KEPT - 1);
      this.learn(list, s.durationMs);
    }
    if (p) await p.exec();
  }

  /** The deadline of a step that started running (learned limit, or the track's) or queuing (stuck.maxQueued). */
  private deadlineOf(track: Track, e: Transition['event'], s: StepRunData, history: Map<string, number[]>, now: number): StuckFacts {
    const running = s.status === Status.Running;
    const { limitMs, p95Ms, samples } =
      running && track.maxDurationMs
        ? { limitMs: track.maxDurationMs, p95Ms: undefined, samples: undefined }
        : running
          ? runningLimit(history.get(this.keys.durations(track.provider, e.experiment, s.name)) ?? [], this.settings)
          : { limitMs: this.settings.maxQueuedMs, p95Ms: undefined, samples: undefined };
    return {
      track: { id: track.id, provider: track.provider, labels: track.labels, annotations: track.annotations },
      experiment: e.experiment,
      pipelineRunId: e.pipelineRunId ?? '',
      step: s,
      reason: running ? 'running' : 'queued',
      sinceMs: running && s.startTime ? Date.parse(s.startTime) || now : now,
      limitMs,
      ...(p95Ms !== undefined ? { p95Ms, samples } : {}),
    };
  }

  /** What this process adds to a durations list, it knows at once (as LPUSH + LTRIM leave the list). */
  private learn(list: string, durationMs: number): void {
    const known = this.learned.get(list);
    if (known) known.samples = [durationMs, ...known.samples].slice(0, SAMPLES_KEPT);
  }

  /** The learned durations of every step that started running in these transitions: at most one round trip. */
  private async durationsOf(track: Track, transitions: Transition[], now: number): Promise<Map<string, number[]>> {
    const lists = new Set<string>();
    for (const t of transitions) {
      const s = statusChangeOf(t);
      if (s?.status === Status.Running && !track.maxDurationMs) {
        lists.add(this.keys.durations(track.provider, t.event.experiment, s.name));
      }
    }
    return this.samplesOfLists([...lists], now);
  }

  /**
   * What is learned of how long each named step of an experiment runs (its earlier Finished durations, ms), for
   * placing polls (watch/poll-placement.ts); empty when learning is off. At most one round trip, none when fresh.
   */
  async learnedDurations(provider: string, experiment: string, stepNames: string[], now: number): Promise<Map<string, number[]>> {
    if (!this.settings.enabled || stepNames.length === 0) return new Map();
    const listOf = new Map(stepNames.map((name) => [name, this.keys.durations(provider, experiment, name)]));
    const byList = await this.samplesOfLists([...new Set(listOf.values())], now);
    return new Map([...listOf].map(([name, list]) => [name, byList.get(list) ?? []]));
  }

  /** Durations lists as this process last read them, read again when older than LEARNED_FRESH_MS (one pipeline). */
  private async samplesOfLists(lists: string[], now: number): Promise<Map<string, number[]>> {
    const stale = lists.filter((list) => !(now - (this.learned.get(list)?.readAt ?? -Infinity) < LEARNED_FRESH_MS));
    if (stale.length > 0) {
      const p = this.redis.pipeline();
      for (const list of stale) p.lrange(list, 0, -1);
      const results = (await p.exec()) ?? [];
      const failed = results.find(([err]) => err);
      if (failed) throw failed[0];
      stale.forEach((list, i) => this.learned.set(list, { samples: (results[i]![1] as string[]).map(Number), readAt: now }));
    }
    return new Map(lists.map((list) => [list, this.learned.get(list)!.samples]));
  }

  /**
   * After a poll: a Running step that entered a raw sub-state with a limit of its own (Finalizing, NotResponding, ...)
   * gets a deadline from that moment; one that left it loses it. Writes only when a sub-state changes.
   */
  async noteSubStates(track: Track, steps: StepRunSnapshot[], prev: Record<string, string>, now: number): Promise<void> {
    if (!this.settings.enabled || this.subStateLimits.size === 0) return;
    const k = this.keys;
    // Made only when a sub-state changed: most polls write nothing here.
    let p: ReturnType<Redis['pipeline']> | undefined;
    // A run with no step held in a limited sub-state has no such field to look up (the common case).
    const anyHeld = hasFieldStartingWith(prev, RAW_FIELD_PREFIX);
    for (const s of steps) {
      const limit = s.status === Status.Running ? this.subStateLimitOf(s.rawStatus) : undefined;
      if (limit === undefined && !anyHeld) continue;
      const field = rawField(s.stepRunId);
      const before = prev[field]?.split('|')[0];
      if (before !== undefined && before.toLowerCase() === (limit !== undefined ? s.rawStatus.toLowerCase() : undefined)) continue;
      if (before !== undefined) {
        const old = `${track.id}|${s.stepRunId}|${before}`;
        p = (p ?? this.redis.pipeline()).hdel(k.state(track.id), field).zrem(k.stuck, old).hdel(k.stuckInfo, old);
      }
      if (limit === undefined) continue;
      const member = `${track.id}|${s.stepRunId}|${s.rawStatus}`;
      const info: StuckFacts = {
        track: { id: track.id, provider: track.provider, labels: track.labels, annotations: track.annotations },
        experiment: s.experiment,
        pipelineRunId: s.pipelineRunId,
        step: stepEvent(track, s, s.status, 0, now).stepRun!,
        reason: s.rawStatus,
        subState: s.rawStatus,
        sinceMs: now,
        limitMs: limit,
      };
      p = (p ?? this.redis.pipeline())
        .hset(k.state(track.id), field, `${s.rawStatus}|${now}`)
        .zadd(k.stuck, now + limit, member)
        .hset(k.stuckInfo, member, JSON.stringify(info));
    }
    if (p) await p.exec();
  }

  /** stuck.states' limit of a raw status, folding its case; remembered per spelling (a poll asks for every Running step). */
  private subStateLimitOf(rawStatus: string): number | undefined {
    let limit = this.limitBySpelling.get(rawStatus);
    if (limit === undefined && !this.limitBySpelling.has(rawStatus)) {
      limit = this.subStateLimits.get(rawStatus.toLowerCase());
      // Raw statuses are a provider's small vocabulary; a bound all the same against one that is not.
      if (this.limitBySpelling.size >= 1000) this.limitBySpelling.clear();
      this.limitBySpelling.set(rawStatus, limit);
    }
    return limit;
  }

  /**
   * On the scheduler's tick: deadlines that passed raise one steprun.stuck each, if the stored state still says
   * the step is where it was (no provider call: the watcher's own state is the witness).
   */
  async raiseDue(now: number, limit = 500): Promise<number> {
    if (!this.settings.enabled) return 0;
    const k = this.keys;
    const due = await this.scripts.claimDue({ schedule: k.stuck, now, limit, leaseMs: 60_000 });
    let raised = 0;
    for (const { member } of due) {
      const json = await this.redis.hget(k.stuckInfo, member);
      if (json) {
        const info = JSON.parse(json) as StuckFacts;
        const [status, raw] = await this.redis.hmget(k.state(info.track.id), info.step.stepRunId, rawField(info.step.stepRunId));
        // Still where it was: the same status, and for a sub-state the same one since the same moment.
        const still = decodeState(status ?? undefined)?.status === info.step.status && (!info.subState || raw === `${info.subState}|${info.sinceMs}`);
        if (still) {
          const field = stuckField(info.step.stepRunId, info.subState);
          const appended = await this.scripts.casAppend({
            hash: k.state(info.track.id),
            field,
            expected: '',
            next: encodeState({ seq: 1, status: info.step.status }),
            eventJson: JSON.stringify(stuckEvent(info, field, now)),
          });
          if (appended) raised++;
        }
      }
      await this.redis.multi().zrem(k.stuck, member).hdel(k.stuckInfo, member).exec();
    }
    return raised;
  }
}
