// An incident (pure): what a pager holds for one aggregation group — (route, notifier, the route's group-by values) —
// decided from the state of the group's alerts and the notification log, as Prometheus Alertmanager does. Nothing here
// follows events: a flush looks at what fails now and at what the receiver was last sent, and sends the difference.
// So a lost, raced or crashed message is mended at the next flush, and a group is one incident whatever its size.
import type { AlertView } from './decision-types';
import type { Silence } from './silences';
import { activeSilencesFor } from './silences';

/** What the pager is told: open (or update) the incident, acknowledge it, resolve it. */
export type IncidentAction = 'trigger' | 'acknowledge' | 'resolve';

/** How a group flushes: its wait before the first notification, then at most every interval, and its repeat. */
export interface IncidentTiming {
  waitMs: number;
  intervalMs: number;
  /** A firing group that did not change is sent again this often (the route's `repeat`); absent: never. */
  repeatMs?: number;
  /** An acknowledgement lapses after this long (the route's `ack.expires`); absent: it stands until the alert resolves. */
  ackExpiresMs?: number;
}

/** What makes a group: its route, its notifier, the values of the route's group-by fields. */
export interface IncidentSettings extends IncidentTiming {
  notifier: string;
  route: number;
  values: string[];
}

/** The notification log of one group at one receiver: what it was last sent (Alertmanager's nflog entry). */
export interface NotificationLog {
  /** Alert keys firing in the last notification sent, sorted. */
  firing: string[];
  /** Alert keys listed as resolved in it, sorted. */
  resolved: string[];
  action: IncidentAction;
  /** When it was sent (ms). */
  at: number;
  /** Notifications sent to this group so far: the next one's idempotency id counts on from here. */
  seq: number;
  /** When the incident opened at the receiver (its first trigger since the last resolve), ms. */
  openedAt?: number;
}

/** One alert of the group as a flush sees it. `alert` is undefined once it resolved. */
export interface MemberView {
  key: string;
  alert?: AlertView;
}

/** An alert of the group with what each stage made of it. */
export interface MemberState {
  key: string;
  alert?: AlertView;
  /** Open, and neither silenced nor inhibited: it fails and the pager should hold it. */
  firing: boolean;
  silencedBy?: string[];
  acked?: AlertView['acked'];
}

/** The group as the stages leave it: each alert's state, and the trace of what each stage did (for `routes test`). */
export interface GroupState {
  now: number;
  members: MemberState[];
  trace: string[];
  /** A time interval of the route (`mute`, outside `activeOnly`) holds every notification of the group until then. */
  heldUntil?: number;
}

/** What the stages read besides the group's alerts. */
export interface StageContext {
  silences: Silence[];
  ackExpiresMs?: number;
  /** Until when the route's time intervals hold the group's notifications back (route-choice.ts mutedUntil), if they do. */
  mutedUntil?: number;
}

/** A stage of the flush pipeline: takes the group's state, returns it with its own part decided. */
export interface FlushStage {
  name: string;
  run(state: GroupState, ctx: StageContext): GroupState;
}

/**
 * Alertmanager's time-interval stage, looked at as the group flushes (not only as an alert joins): while the route is
 * muted (`mute`, outside `activeOnly`) the group sends nothing — no trigger, repeat or resolve — and flushes when the
 * interval ends. The notification log is untouched, so that flush sends whatever differs by then.
 */
const timeIntervalStage: FlushStage = {
  name: 'time interval',
  run(state, { mutedUntil: heldUntil }) {
    if (!heldUntil || heldUntil <= state.now) return state;
    return { ...state, heldUntil, trace: [...state.trace, `held by the route's time intervals until ${new Date(heldUntil).toISOString()}`] };
  },
};

/** A resolved alert (gone from the open alerts) does not fire. */
const resolvedStage: FlushStage = {
  name: 'resolved',
  run(state) {
    const gone = state.members.filter((m) => !m.alert).map((m) => m.key);
    return { ...state, trace: gone.length ? [...state.trace, `resolved: ${gone.join(', ')}`] : state.trace };
  },
};

/** A silenced alert does not fire (Alertmanager's silence stage): it stays in the group and fires again on expiry. */
const silenceStage: FlushStage = {
  name: 'silence',
  run(state, { silences }) {
    const muted: string[] = [];
    const members = state.members.map((m) => {
      if (!m.alert) return m;
      const by = activeSilencesFor(silences, m.alert.event, state.now).map((s) => s.id);
      if (by.length === 0) return m;
      muted.push(`${m.key} (${by.join(', ')})`);
      return { ...m, firing: false, silencedBy: by };
    });
    return { ...state, members, trace: muted.length ? [...state.trace, `silenced: ${muted.join(', ')}`] : state.trace };
  },
};

/**
 * An acknowledged alert still fires (it fails), but the incident is acknowledged when every firing alert is. An
 * acknowledgement older than the route's `ack.expires` has lapsed.
 */
const ackStage: FlushStage = {
  name: 'acknowledge',
  run(state, { ackExpiresMs }) {
    const standing = (a: AlertView['acked']) => a !== undefined && (!ackExpiresMs || state.now < a.at + ackExpiresMs);
    const members = state.members.map((m) => (m.firing && standing(m.alert?.acked) ? { ...m, acked: m.alert!.acked } : m));
    const acked = members.filter((m) => m.acked).map((m) => `${m.key} by ${m.acked!.by}`);
    return { ...state, members, trace: acked.length ? [...state.trace, `acknowledged: ${acked.join(', ')}`] : state.trace };
  },
};

/**
 * The stages a flush runs, in Alertmanager's order (inhibition is decided as an alert joins its group: an inhibited
 * alert never joins; time intervals hold the group's first flush). Then `decideFlush` dedups against the log.
 */
export const FLUSH_STAGES: readonly FlushStage[] = [timeIntervalStage, resolvedStage, silenceStage, ackStage];

/** The group's alerts through every stage. */
export function groupStateOf(members: MemberView[], now: number, ctx: StageContext): GroupState {
  let state: GroupState = {
    now,
    members: members.map((m) => ({ key: m.key, firing: m.alert !== undefined, ...(m.alert ? { alert: m.alert } : {}) })),
    trace: [],
  };
  for (const stage of FLUSH_STAGES) state = stage.run(state, ctx);
  return state;
}

/** What a flush does: send `action` (and why), or nothing (and why). */
export interface FlushDecision {
  send?: IncidentAction;
  reason: string;
  firing: string[];
  resolved: string[];
  /** The incident is acknowledged at the receiver (every firing alert is). */
  acknowledged: boolean;
}

/**
 * The dedup stage against the notification log (Alertmanager's `needsUpdate`, with acknowledgement as a state of
 * the incident). Pure: the same state and log always give the same answer.
 */
export function decideFlush(state: GroupState, log: NotificationLog | undefined, timing: IncidentTiming): FlushDecision {
  const firingMembers = state.members.filter((m) => m.firing);
  const firing = firingMembers.map((m) => m.key).sort();
  const resolved = state.members
    .filter((m) => !m.alert)
    .map((m) => m.key)
    .sort();
  const acknowledged = firingMembers.length > 0 && firingMembers.every((m) => m.acked);
  const out = { firing, resolved, acknowledged };
  if (state.heldUntil) return { ...out, reason: `held by the route's time intervals until ${new Date(state.heldUntil).toISOString()}` };
  const open = log !== undefined && log.action !== 'resolve';
  if (!open) {
    if (firing.length === 0) return { ...out, reason: 'nothing fires and the receiver holds no incident' };
    return { ...out, send: 'trigger', reason: `first notification: ${count(firing, 'alert')} firing` };
  }
  if (firing.length === 0) return { ...out, send: 'resolve', reason: 'nothing fires any more: the incident resolves' };
  const added = firing.filter((k) => !log.firing.includes(k));
  if (added.length) return { ...out, send: 'trigger', reason: `firing alerts added: ${added.join(', ')}` };
  const wanted: IncidentAction = acknowledged ? 'acknowledge' : 'trigger';
  if (wanted !== log.action) return { ...out, send: wanted, reason: acknowledged ? 'every firing alert is acknowledged' : 'no longer acknowledged' };
  const newlyResolved = resolved.filter((k) => !log.resolved.includes(k));
  if (newlyResolved.length && !acknowledged)
    return { ...out, send: 'trigger', reason: `resolved meanwhile: ${newlyResolved.join(', ')} (the rest still fires)` };
  if (!acknowledged && timing.repeatMs && state.now >= log.at + timing.repeatMs)
    return { ...out, send: 'trigger', reason: `unchanged and firing for ${Math.round((state.now - log.at) / 1000)}s: the repeat is due` };
  return { ...out, reason: acknowledged ? 'acknowledged and unchanged' : 'unchanged since the last notification' };
}

/**
 * A group that changes by no event (a silence ends, an acknowledgement is taken back elsewhere) is looked at again
 * this often, or at its interval when that is longer. Changes that come with an event (an alert joins or resolves, an
 * acknowledgement) flush it at its interval, as Alertmanager does.
 */
export const LOOK_AGAIN_MS = 60_000;

/**
 * When the group should be looked at next: its repeat, an acknowledgement lapsing, else a look again; undefined when
 * it is over. `ackedAt`: the earliest standing acknowledgement of its firing alerts; `heldUntil`: the end of the route's
 * time interval that holds it (then, not before).
 */
export function nextFlushAt(
  log: NotificationLog | undefined,
  timing: IncidentTiming,
  now: number,
  membersLeft: number,
  ackedAt?: number,
  heldUntil?: number,
): number | undefined {
  if (membersLeft === 0 && (!log || log.action === 'resolve')) return undefined;
  if (heldUntil && heldUntil > now) return heldUntil;
  const repeatAt = log && log.action === 'trigger' && timing.repeatMs ? log.at + timing.repeatMs : Infinity;
  const lapseAt = ackedAt !== undefined && timing.ackExpiresMs ? ackedAt + timing.ackExpiresMs : Infinity;
  return Math.max(now + 1, Math.min(now + Math.max(timing.intervalMs, LOOK_AGAIN_MS), repeatAt, lapseAt));
}

/** The incident key the pager holds for a group: stable for the group's whole life (PagerDuty's `dedup_key`). */
export function incidentKeyOf(groupId: string): string {
  return `steprun-watch/${groupId}`;
}

/** The group id an incident key names, if it is one of ours. */
export function groupIdOfIncidentKey(key: string): string | undefined {
  const m = /^steprun-watch\/(g[0-9a-f]{20})$/.exec(key);
  return m?.[1];
}

/** The alert hash's `n:<notifier>` value of an alert that a pager holds through its group's incident. */
export function incidentMarker(groupId: string): string {
  return `incident:${groupId}`;
}

/** The group an alert's `told` value names, if it is an incident's. */
export function groupOfMarker(told: string | undefined): string | undefined {
  return told?.startsWith('incident:') ? told.slice('incident:'.length) : undefined;
}

/** `3 alerts`, `1 failure`. */
export function count(n: number | unknown[], noun: string): string {
  const k = typeof n === 'number' ? n : n.length;
  return `${k} ${noun}${k === 1 ? '' : 's'}`;
}
