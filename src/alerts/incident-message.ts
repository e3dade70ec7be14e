// The message an incident group's flush sends (pure): its title ("Still failing since 02:14 UTC (7 failures): …"),
// the firing alerts (the first ones in full, the rest counted), the resolved ones, and why it was sent.
import type { IncidentData, WatchEvent } from '../store/events';
import type { AlertView } from './decision-types';
import { count, incidentKeyOf, type FlushDecision, type GroupState, type IncidentAction, type NotificationLog } from './incident';

/** Firing alerts listed in full in a message, at most; the rest are counted. */
export const LISTED_IN_FULL = 10;

/** The message a flush sends: the incident as the receiver should hold it. */
export type IncidentMessage = IncidentData;

/**
 * The notification of a decision: the lead is the oldest firing alert (the one to look at first); a message about an
 * alert failing since before the incident opened says so ("Still failing since …"), a repeat says how long.
 */
export function incidentMessage(o: {
  groupId: string;
  decision: FlushDecision & { send: IncidentAction };
  state: GroupState;
  log?: NotificationLog;
  /** The group's previous flush (ms): an alert open before it and firing now was failing before this message. */
  flushedBefore?: number;
  summaryOf(e: WatchEvent): string;
}): { message: IncidentMessage; lead?: WatchEvent } {
  const { decision, state } = o;
  const firing = state.members.filter((m) => m.firing && m.alert).sort((a, b) => a.alert!.openedAt - b.alert!.openedAt || a.key.localeCompare(b.key));
  // The message's event: the oldest firing alert's; with none firing (a resolve), any alert still open (silenced).
  const lead = firing[0]?.alert ?? state.members.find((m) => m.alert)?.alert;
  const listed = firing.slice(0, LISTED_IN_FULL).map((m) => ({
    key: m.key,
    summary: o.summaryOf(m.alert!.event),
    since: new Date(m.alert!.openedAt).toISOString(),
    failures: m.alert!.failures,
    ...(m.acked ? { ackedBy: m.acked.by } : {}),
  }));
  const oldest = firing[0]?.alert;
  const message: IncidentMessage = {
    key: incidentKeyOf(o.groupId),
    action: decision.send,
    title: titleOf(decision, firing.length, oldest, o.log, o.flushedBefore, oldest ? o.summaryOf(oldest.event) : undefined),
    firing: listed,
    firingCount: firing.length,
    resolved: decision.resolved,
    ...(oldest ? { since: new Date(oldest.openedAt).toISOString(), failures: oldest.failures } : {}),
    ...(decision.acknowledged && oldest?.acked ? { ackedBy: oldest.acked.by } : {}),
    reason: decision.reason,
  };
  return { message, ...(lead ? { lead: lead.event } : {}) };
}

function titleOf(
  d: FlushDecision,
  firingCount: number,
  oldest: AlertView | undefined,
  log: NotificationLog | undefined,
  flushedBefore: number | undefined,
  leadSummary?: string,
): string {
  if (d.send === 'resolve') return `Resolved: ${count(d.resolved, 'alert')} of this group recovered`;
  if (d.send === 'acknowledge') return `Acknowledged${d.acknowledged && oldest?.acked ? ` by ${oldest.acked.by}` : ''}`;
  if (!oldest || !leadSummary) return 'steprun-watch incident';
  const more = firingCount > 1 ? ` (+${firingCount - 1} more failing)` : '';
  // Told before (a repeat, an update), or failing since before the last flush without the receiver holding it (a
  // silence that expired, an acknowledgement taken back): say since when, never "Repeat 7".
  const told = log !== undefined && log.action !== 'resolve' && log.firing.includes(oldest.key);
  const before = flushedBefore !== undefined && oldest.openedAt < flushedBefore;
  if (told || before) return `${stillFailingSince(oldest.openedAt, oldest.failures)}: ${leadSummary}${more}`;
  return `${leadSummary}${more}`;
}

/** `Still failing since 02:14 UTC (7 failures)`: what every receiver is told of an alert it knows, or hears of late. */
export function stillFailingSince(openedAt: number, failures: number): string {
  return `Still failing since ${hhmm(openedAt)} (${count(failures, 'failure')})`;
}

function hhmm(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 16)} UTC`;
}
