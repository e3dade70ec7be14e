// The Lua commands of src/store/commands, one typed method each (BullMQ's Scripts class is the model).
// Each method builds the script's KEYS and ARGV in the order the script names them at its top; a negative
// return code becomes a typed error here and nowhere else.
import type { Redis } from 'ioredis';
import { TrackNotFoundError } from '../model/errors';
import type { Keys } from './keys';
import { isNoScript, scriptFor, type Arg } from './script-files';

/** `{name, time, name, time, ...}` as a script returns it. */
function pairsOf(flat: string[]): [string, number][] {
  const pairs: [string, number][] = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, Number(flat[i + 1])]);
  return pairs;
}

/**
 * The scripts' error codes (BullMQ's shape): a script that can refuse answers an array whose first element is one
 * of these, negative so that no count or id can be mistaken for it.
 */
export enum ScriptErrorCode {
  /** The track the script works on is gone (untracked meanwhile). */
  TrackGone = -1,
}

/** Throws the typed error of a script's refusal; a reply whose first element is not a code passes. */
function checkReply(reply: readonly unknown[], trackId: string): void {
  if (reply[0] === ScriptErrorCode.TrackGone) throw new TrackNotFoundError(trackId);
}

import type { CasTransition, DeliveryFields, FoundRun, IncidentJoinArgs } from './script-args';

export type { CasTransition, DeliveryFields, FoundRun, StuckNote } from './script-args';

/**
 * Scripts are sent by EVALSHA, and by EVAL when Redis does not hold them yet. Not ioredis' defineCommand: every
 * pipeline copies each defined command onto itself, and at saturation that copying cost more than the scripts.
 */
export class Scripts {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  private async call<T>(name: string, keys: string[], argv: Arg[]): Promise<T> {
    const script = scriptFor(name, keys);
    try {
      return (await this.redis.evalsha(script.sha, keys.length, ...keys, ...argv)) as T;
    } catch (err) {
      if (!isNoScript(err)) throw err;
      return (await this.redis.eval(script.lua, keys.length, ...keys, ...argv)) as T;
    }
  }

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

  /** Trims the outbox to about `maxLen` entries, never past what the dispatch group has not finished; returns how many went. */
  async trimOutbox(a: { group: string; maxLen: number }): Promise<number> {
    return this.call<number>('trimOutbox', [this.keys.events], [a.group, a.maxLen]);
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

  /** Compare-and-set of one hash field with its event; true when the event was appended. */
  async casAppend(a: { hash: string; field: string; expected: string; next: string; eventJson: string }): Promise<boolean> {
    return (await this.call<number>('casAppend', [a.hash, this.keys.events], [a.field, a.expected, a.next, a.eventJson])) === 1;
  }

  /** Creates the delivery records that do not exist yet (see ensureDeliveries-1.lua), in one call; returns how many. */
  async ensureDeliveries(records: { id: string; fields: DeliveryFields }[], now: number, keepRecent: number): Promise<number> {
    const argv: Arg[] = [now, keepRecent, this.keys.delivery('')];
    for (const r of records) {
      const fields = Object.entries(r.fields);
      argv.push(r.id, fields.length * 2);
      for (const [field, value] of fields) argv.push(field, value);
    }
    return this.call<number>('ensureDeliveries', [this.keys.deliveries], argv);
  }

  /** Marks deliveries delivered (see markDelivered-2.lua), in one call. */
  async markDelivered(items: { id: string; detail?: string }[], attempt: number, now: number): Promise<void> {
    const argv: Arg[] = [now, attempt, this.keys.delivery('')];
    for (const { id, detail } of items) argv.push(id, detail ?? '');
    await this.call<number>('markDelivered', [this.keys.deliveries, this.keys.deadLetters], argv);
  }

  /** Claims the deliveries a job may send now (see claimDeliveries-1.lua); returns their ids. */
  async claimDeliveries(a: { ids: string[]; token: string; now: number; leaseMs: number }): Promise<string[]> {
    const k = this.keys;
    return this.call<string[]>('claimDeliveries', [k.deliveries], [a.now, a.leaseMs, a.token, k.delivery(''), ...a.ids]);
  }

  /** Takes one request from a budget window; false when the window is spent. */
  async takeBudget(a: { counter: string; perWindow: number; windowMs: number }): Promise<boolean> {
    return (await this.call<number>('takeBudget', [a.counter], [a.perWindow, a.windowMs])) === 1;
  }

  /** Opens an alert or counts one more failure of it; true when it opened. */
  async openAlert(a: {
    alertId: string;
    key: string;
    now: number;
    /** The event that opens it (or fails again): its id and type, its summary and run as shown by `alerts`, its json. */
    event: { id: string; type: string; summary: string; run: string; json: string };
    maxAlerts: number;
    /** Field, value pairs: `n:<notifier>` / `g:<notifier>` -> delivery id. */
    fields: string[];
  }): Promise<boolean> {
    const k = this.keys;
    const { event: e } = a;
    const argv = [a.alertId, a.now, e.id, a.maxAlerts, a.key, e.type, e.summary, e.run, e.json, ...a.fields];
    return (await this.call<number>('openAlert', [k.alert(a.alertId), k.alerts], argv)) === 1;
  }

  /**
   * Resolves an alert still opened by `openedBy` whose messages are still `told` (notifier -> delivery id), appending
   * its alert.resolved event: 'changed' when a message was noted since the read (read again, build the event anew).
   */
  async resolveAlert(a: { alertId: string; openedBy: string; eventJson: string; told: Record<string, string> }): Promise<'resolved' | 'gone' | 'changed'> {
    const k = this.keys;
    const keys = [k.alert(a.alertId), k.alerts, k.events, k.alertRepeats];
    const reply = await this.call<number>('resolveAlert', keys, [a.alertId, a.openedBy, a.eventJson, ...Object.entries(a.told).flat()]);
    return reply === 1 ? 'resolved' : reply === 2 ? 'changed' : 'gone';
  }

  /** Notes the message of an open alert `notifier` is sent now (see notifyAlert-1.lua); false when it is not open. */
  async notifyAlert(a: { alertId: string; notifier: string; deliveryId: string }): Promise<boolean> {
    return (await this.call<number>('notifyAlert', [this.keys.alert(a.alertId)], [a.notifier, a.deliveryId])) === 1;
  }

  /** Acknowledges an open alert (see ackAlert-1.lua): 'acked', 'already' (the first one stands) or 'not-open'. */
  async ackAlert(a: { alertId: string; by: string; at: number; comment?: string }): Promise<'acked' | 'already' | 'not-open'> {
    const r = await this.call<number>('ackAlert', [this.keys.alert(a.alertId)], [a.by, a.at, a.comment ?? '']);
    return r === 1 ? 'acked' : r === 2 ? 'already' : 'not-open';
  }

  /** Adds an event to its notification group; returns the generation holding it and when it is sent. */
  async addToGroup(a: {
    groupId: string;
    now: number;
    waitMs: number;
    intervalMs: number;
    eventId: string;
    eventJson: string;
    keepMs: number;
  }): Promise<{ generation: number; flushAt: number }> {
    const argv = [a.now, a.waitMs, a.intervalMs, a.eventId, a.eventJson, a.keepMs];
    const [generation, flushAt] = await this.call<[number, number]>('addToGroup', [this.keys.group(a.groupId)], argv);
    return { generation, flushAt };
  }

  /** Closes a group's generation and returns its events (the same again when retried). */
  async closeGroup(a: { groupId: string; generation: number; now: number }): Promise<string[]> {
    return this.call<string[]>('closeGroup', [this.keys.group(a.groupId)], [a.generation, a.now]);
  }

  /** Claims the tracks watching a hinted run for a hinted poll each (see hintTracks-2.lua); returns the polls to enqueue. */
  async hintTracks(a: {
    provider: string;
    now: number;
    runTrackIds: string[];
    experimentTrackId?: string;
    limits: { debounceMs: number; minGapMs: number; leaseMs: number; pushedForMs: number };
  }): Promise<{ trackId: string; pollAt: number }[]> {
    const k = this.keys;
    const { debounceMs, minGapMs, leaseMs, pushedForMs } = a.limits;
    const argv = [a.now, debounceMs, minGapMs, leaseMs, pushedForMs, k.track(''), a.experimentTrackId ?? '', ...a.runTrackIds];
    const flat = await this.call<string[]>('hintTracks', [k.due(a.provider), k.pushed(a.provider)], argv);
    return pairsOf(flat).map(([trackId, pollAt]) => ({ trackId, pollAt }));
  }

  /** Releases a lock the caller holds under `token`; false when it no longer held it. */
  async releaseLock(a: { key: string; token: string }): Promise<boolean> {
    return (await this.call<number>('releaseLock', [a.key], [a.token])) === 1;
  }

  /** A member joins an incident group (none: a touch); its next flush time, or undefined for a gone group (joinIncident-3.lua). */
  async joinIncident(a: IncidentJoinArgs): Promise<number | undefined> {
    const k = this.keys;
    const argv = [a.groupId, a.now, a.member?.key ?? '', a.member?.openedBy ?? '', a.notBefore ?? 0, ...Object.entries(a.settings ?? {}).flat()];
    const due = await this.call<number>('joinIncident', [k.incident(a.groupId), k.incidentMembers(a.groupId), k.incidentsDue], argv);
    return due < 0 ? undefined : due;
  }

  /** After a flush: resolved alerts leave, the next flush is set, an empty and closed group goes (settleIncident-4.lua). */
  async settleIncident(a: { groupId: string; now: number; nextAt: number; logTtlSeconds: number; gone: [string, string][] }): Promise<number> {
    const k = this.keys;
    const keys = [k.incident(a.groupId), k.incidentMembers(a.groupId), k.incidentLog(a.groupId), k.incidentsDue];
    return this.call<number>('settleIncident', keys, [a.groupId, a.now, a.nextAt, a.logTtlSeconds, ...a.gone.flat()]);
  }

  /** Takes over a live message whose poster died before posting; true when taken. */
  async claimLiveMessage(a: { notifier: string; run: string; claimRead: string; now: number }): Promise<boolean> {
    return (await this.call<number>('claimLiveMessage', [this.keys.liveMessage(a.notifier, a.run)], [a.claimRead, a.now])) === 1;
  }

  /** Puts one row of a live message unless a later state of it is there; returns every row. */
  async putLiveRow(a: { notifier: string; run: string; rowId: string; text: string; rank: number; keepSeconds: number }): Promise<string[]> {
    const message = this.keys.liveMessage(a.notifier, a.run);
    return this.call<string[]>('putLiveRow', [`${message}:rows`, `${message}:rows:rank`], [a.rowId, a.text, a.rank, a.keepSeconds]);
  }
}
