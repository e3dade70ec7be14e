// The wrappers of the tracks' scripts: tracking, the poll schedule and its commit, hints and the request budget.
import { ScriptCaller, checkReply, pairsOf } from './script-caller';
import type { Arg } from './script-files';
import type { CasTransition, FoundRun } from './script-args';

export abstract class TrackScripts extends ScriptCaller {
  /** Stores a new track and makes it due now; false when it existed. */
  async addTrack(a: { trackId: string; provider: string; json: string; now: number }): Promise<boolean> {
    const k = this.keys;
    return (await this.call<number>('addTrack', [k.track(a.trackId), k.tracks, k.due(a.provider)], [a.trackId, a.json, a.now])) === 1;
  }

  /** Removes a track with its schedule and state; false when there was none. */
  async removeTrack(a: { trackId: string; provider: string }): Promise<boolean> {
    const k = this.keys;
    const keys = [k.track(a.trackId), k.tracks, k.due(a.provider), k.state(a.trackId), k.seen(a.trackId), k.failing];
    return (await this.call<number>('removeTrack', keys, [a.trackId])) === 1;
  }

  /** Claims up to `limit` members due by `horizon` (default: now) in a schedule, leasing each for `leaseMs` from its due time. */
  async claimDue(a: { schedule: string; now: number; horizon?: number; limit: number; leaseMs: number }): Promise<{ member: string; dueAt: number }[]> {
    const flat = await this.call<string[]>('claimDue', [a.schedule], [a.now, a.horizon ?? a.now, a.limit, a.leaseMs]);
    return pairsOf(flat).map(([member, dueAt]) => ({ member, dueAt }));
  }

  /**
   * Commits a poll (see commitPoll-8.lua); `won[i]` says whether transition i was applied (its compare-and-set held).
   * Throws TrackNotFoundError when the track was untracked meanwhile.
   */
  async commitPoll(a: {
    trackId: string;
    provider: string;
    now: number;
    /** null retires the track. */
    nextPollAt: number | null;
    transitions: CasTransition[];
  }): Promise<{ appended: number; conflicts: number; won: boolean[] }> {
    const k = this.keys;
    const keys = [k.state(a.trackId), k.events, k.due(a.provider), k.track(a.trackId), k.tracks, k.failing, k.stuck, k.stuckInfo];
    const argv: Arg[] = [a.trackId, a.now, a.nextPollAt ?? -1];
    for (const t of a.transitions) argv.push(t.field, t.expected, t.next, t.eventJson, t.stuck?.member ?? '', t.stuck?.deadline ?? '', t.stuck?.facts ?? '');
    const reply = await this.call<[number, number, string?]>('commitPoll', keys, argv);
    checkReply(reply, a.trackId);
    const [appended, conflicts, won = ''] = reply;
    return { appended, conflicts, won: [...won].map((c) => c === '1') };
  }

  /** Counts a failed poll and raises one track.error at the threshold. Throws TrackNotFoundError when the track is gone. */
  async recordPollFailure(a: {
    trackId: string;
    provider: string;
    nextPollAt: number;
    threshold: number;
    expectedError: string;
    nextError: string;
    eventJson: string;
  }): Promise<{ failures: number; raised: boolean }> {
    const k = this.keys;
    const keys = [k.track(a.trackId), k.due(a.provider), k.events, k.state(a.trackId), k.failing];
    const argv = [a.trackId, a.nextPollAt, a.threshold, a.expectedError, a.nextError, a.eventJson];
    const reply = await this.call<[number, number]>('recordPollFailure', keys, argv);
    checkReply(reply, a.trackId);
    const [failures, raised] = reply;
    return { failures, raised: raised === 1 };
  }

  /** Tracks the pipeline runs an experiment track found; returns the new tracks' ids. Throws TrackNotFoundError when it is gone. */
  async addPipelineTracks(a: {
    trackId: string;
    provider: string;
    now: number;
    forgetBefore: number;
    cursor: number;
    nextPollAt: number;
    newestRunAt: number;
    runs: FoundRun[];
  }): Promise<string[]> {
    const k = this.keys;
    const keys = [k.seen(a.trackId), k.tracks, k.due(a.provider), k.track(a.trackId), k.failing];
    const argv: Arg[] = [a.now, a.forgetBefore, a.cursor, a.nextPollAt, k.track(''), a.trackId, a.newestRunAt];
    for (const r of a.runs) argv.push(r.pipelineRunId, r.createdMs, r.childTrackId, r.childJson);
    const added = await this.call<string[]>('addPipelineTracks', keys, argv);
    checkReply(added, a.trackId);
    return added;
  }

  /**
   * Claims the tracks watching hinted runs for a hinted poll each (see hintTracks-2.lua), the runs in order as if
   * hinted one by one; returns the polls to enqueue, each with the index of the run it serves.
   */
  async hintTracks(a: {
    provider: string;
    now: number;
    runs: { runTrackIds: string[]; experimentTrackId?: string }[];
    limits: { debounceMs: number; minGapMs: number; leaseMs: number; pushedForMs: number };
  }): Promise<{ run: number; trackId: string; pollAt: number }[]> {
    const k = this.keys;
    const { debounceMs, minGapMs, leaseMs, pushedForMs } = a.limits;
    const runs = a.runs.flatMap((r) => [r.experimentTrackId ?? '', r.runTrackIds.length, ...r.runTrackIds]);
    const flat = await this.call<(string | number)[]>(
      'hintTracks',
      [k.due(a.provider), k.pushed(a.provider)],
      [a.now, debounceMs, minGapMs, leaseMs, pushedForMs, k.track(''), ...runs],
    );
    const polls = [];
    for (let i = 0; i < flat.length; i += 3) polls.push({ run: Number(flat[i]) - 1, trackId: String(flat[i + 1]), pollAt: Number(flat[i + 2]) });
    return polls;
  }

  /** Takes one request from a budget window; false when the window is spent. */
  async takeBudget(a: { counter: string; perWindow: number; windowMs: number }): Promise<boolean> {
    return (await this.call<number>('takeBudget', [a.counter], [a.perWindow, a.windowMs])) === 1;
  }
}
