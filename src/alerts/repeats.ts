// Repeat while unresolved: an open alert is sent again every `repeat.every` to the notifiers whose route asks for it,
// as the alert decision says (decideRepeat: not while silenced, inhibited, held or acknowledged; grouped routes too).
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DeliveryStore } from '../store/deliveries';
import { summarize, type WatchEvent } from '../store/events';
import { deliveryJobId, repeatDeliveryId, unmutedDeliveryId } from '../store/ids';
import type { Keys } from '../store/keys';
import { Scripts } from '../store/scripts';
import { alertNotifierMember, type AlertStore, type OpenAlert } from './alert-store';
import { decideRepeat, type AlertPolicy, type Decision, type DecisionState } from './decide';
import { repeatGroupOf } from './group-repeats';
import { annotated } from './route-choice';
import type { SilenceStore } from './silences';
import { repeatDue } from './timing';

export interface RepeatDeps {
  redis: Redis;
  keys: Keys;
  alerts: AlertStore;
  silences?: SilenceStore;
  policy: AlertPolicy;
  deliveries: DeliveryStore;
  deliverQueue: Queue;
  onSilenced?(notifier: string): void;
}

/** Sends the repeats that are due (called on the scheduler's tick). The n-th repeat has its own delivery id: never sent twice. */
export async function sendDueRepeats(d: RepeatDeps, now: number, limit = 500): Promise<number> {
  // Claimed with a lease, as polls are: another daemon's tick does not take the same repeat meanwhile.
  const due = await new Scripts(d.redis, d.keys).claimDue({ schedule: d.keys.alertRepeats, now, limit, leaseMs: 60_000 });
  if (due.length === 0) return 0;
  const stateOf = await tickState(d, now);
  let open: OpenAlert[] | undefined;
  const groups = { policy: d.policy, now, stateOf, open: async () => (open ??= await d.alerts.list()) };
  // Members whose repeat went out in their group's message this tick: their next one is set already.
  const covered = new Set<string>();
  let sent = 0;
  for (const { member } of due) {
    if (covered.has(member)) continue;
    const [alertId, notifier] = member.split('|') as [string, string];
    const alert = await d.alerts.byId(alertId);
    const every = alert?.repeats[notifier];
    if (!alert || !every) {
      await d.redis.zrem(d.keys.alertRepeats, member);
      continue;
    }
    const decision = decideRepeat(d.policy, await stateOf(alert), alert, notifier);
    // A receiver never told of the alert (a silence kept it away) hears "still failing since", not "Repeat 7" (under
    // the id unmuted.ts would send it by: told once). What is only recorded, is recorded as this repeat.
    const firstWord = decision.outcome === 'send' && alert.told[notifier] === undefined;
    const members = decision.outcome === 'send' && !firstWord ? await repeatGroupOf(groups, alert, notifier, decision) : [{ alert, decision }];
    const [lead, ...others] = members as [(typeof members)[number], ...typeof members];
    const { n, nextAt } = repeatDue(lead.alert.openedAt, every, now);
    const id = firstWord ? unmutedDeliveryId(alert.openedBy, notifier, alert.failures) : repeatDeliveryId(lead.alert.openedBy, notifier, n);
    const grouped = others.length
      ? { grouped: others.map((m) => ({ id: m.alert.openedBy, type: m.alert.event.type, summary: summarize(m.alert.event), alertKey: m.alert.key })) }
      : {};
    const event: WatchEvent = firstWord ? stillFailingEvent(alert) : { ...lead.alert.event, alertKey: lead.alert.key, repeat: n, ...grouped };
    const summary = firstWord
      ? `still failing: ${summarize(event)}`
      : `repeat ${n}: ${summarize(event)}${others.length ? ` (+${others.length} of its group)` : ''}`;
    if (await sendOrRecord(d, lead.alert, lead.decision, { id, event, summary }, now)) sent++;
    // Held (a time interval, a grouped page not out yet): this repeat is skipped; the next one is tried on time. A
    // group's members repeat together from now on.
    for (const m of members) {
      const memberOf = alertNotifierMember(m.alert.id, notifier);
      covered.add(memberOf);
      await d.redis.zadd(d.keys.alertRepeats, 'XX', nextAt, memberOf);
    }
  }
  return sent;
}

/** The decision state of a tick: silences read once; the open alerts only if an inhibition rule needs them. */
export async function tickState(d: Pick<RepeatDeps, 'alerts' | 'silences' | 'policy'>, now: number): Promise<(alert: OpenAlert) => Promise<DecisionState>> {
  const silences = d.silences ? await d.silences.list(now) : [];
  let open: OpenAlert[] | undefined;
  return async (alert) => {
    if (d.policy.inhibit.length && !open) open = await d.alerts.list();
    return {
      now,
      silences,
      alert: (key) => (key === alert.key ? alert : open?.find((a) => a.key === key)),
      openAlerts: () => (open ??= []),
    };
  };
}

/** An open alert as told to a receiver that hears of it only now: the full message, headed "Still failing since". */
export function stillFailingEvent(alert: OpenAlert): WatchEvent {
  return { ...alert.event, alertKey: alert.key, stillFailing: { failures: alert.failures, openedAt: new Date(alert.openedAt).toISOString(), firstWord: true } };
}

/**
 * A message of an open alert the tick decided on: sent when the decision says so (noted on the alert first: a resolve
 * from then on waits for it; a closed alert sends none), else recorded, so that `deliveries` and `routes test` say
 * what became of it. True when it was sent.
 */
export async function sendOrRecord(
  d: RepeatDeps,
  alert: OpenAlert,
  decision: Decision,
  message: { id: string; event: WatchEvent; summary: string },
  now: number,
): Promise<boolean> {
  const { notifier } = decision;
  const event = annotated(decision.severity ? { ...message.event, severity: decision.severity } : message.event, decision.annotations);
  const record = { id: message.id, eventId: event.id, notifier, eventType: event.type, summary: message.summary };
  if (decision.outcome === 'send') {
    if (!(await d.alerts.noteMessage(alert.key, notifier, message.id))) return false;
    await d.deliveries.ensureMany([record], now);
    await d.deliverQueue.add(notifier, { deliveryId: message.id, notifier, event }, { jobId: deliveryJobId(message.id) });
    return true;
  }
  if (decision.outcome === 'silenced' || decision.outcome === 'inhibited' || decision.outcome === 'suppressed') {
    await d.deliveries.ensureMany(
      [{ ...record, status: decision.outcome, reason: decision.reason, ...(decision.silencedBy ? { silencedBy: decision.silencedBy.join(',') } : {}) }],
      now,
    );
    if (decision.outcome === 'silenced') d.onSilenced?.(notifier);
  }
  return false;
}
