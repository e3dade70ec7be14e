// Repeat while unresolved: an open alert is sent again every `repeat.every` to the notifiers whose route asks for it,
// as the alert decision says (decideRepeat: not while silenced, inhibited, held or acknowledged; grouped routes too).
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DeliveryStore } from '../store/deliveries';
import { summarize } from '../store/events';
import { deliveryJobId, repeatDeliveryId } from '../store/ids';
import type { Keys } from '../store/keys';
import { scriptsFor } from '../store/scripts';
import type { AlertStore, OpenAlert } from './alert-store';
import { decideRepeat, type AlertPolicy, type DecisionState } from './decide';
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
  const due = await scriptsFor(d.redis, d.keys).claimDue({ schedule: d.keys.alertRepeats, now, limit, leaseMs: 60_000 });
  if (due.length === 0) return 0;
  const silences = d.silences ? await d.silences.list(now) : [];
  let open: OpenAlert[] | undefined;
  const state = (alert: OpenAlert): DecisionState => ({
    now,
    silences,
    alert: (key) => (key === alert.key ? alert : open?.find((a) => a.key === key)),
    openAlerts: () => (open ??= []),
  });
  let sent = 0;
  for (const { member } of due) {
    const [alertId, notifier] = member.split('|') as [string, string];
    const alert = await d.alerts.byId(alertId);
    const every = alert?.repeats[notifier];
    if (!alert || !every) {
      await d.redis.zrem(d.keys.alertRepeats, member);
      continue;
    }
    if (d.policy.inhibit.length && !open) open = await d.alerts.list();
    const { n, nextAt } = repeatDue(alert.openedAt, every, now);
    const decision = decideRepeat(d.policy, state(alert), alert, notifier);
    const id = repeatDeliveryId(alert.openedBy, notifier, n);
    const event = { ...alert.event, alertKey: alert.key, repeat: n, ...(decision.severity ? { severity: decision.severity } : {}) };
    const record = { id, eventId: event.id, notifier, eventType: event.type, summary: `repeat ${n}: ${summarize(event)}` };
    if (decision.outcome === 'send') {
      // Noted on the alert before it goes: a resolve from now on waits for this repeat; a closed alert sends none.
      if (await d.alerts.noteMessage(alert.key, notifier, id)) {
        await d.deliveries.ensureMany([record], now);
        await d.deliverQueue.add(notifier, { deliveryId: id, notifier, event }, { jobId: deliveryJobId(id) });
        sent++;
      }
    } else if (decision.outcome === 'silenced' || decision.outcome === 'inhibited' || decision.outcome === 'suppressed') {
      // Recorded, so that `deliveries` and `routes test` say what became of this repeat.
      await d.deliveries.ensureMany(
        [{ ...record, status: decision.outcome, reason: decision.reason, ...(decision.silencedBy ? { silencedBy: decision.silencedBy.join(',') } : {}) }],
        now,
      );
      if (decision.outcome === 'silenced') d.onSilenced?.(notifier);
    }
    // Held (a time interval, a grouped page not out yet): this repeat is skipped; the next one is tried on time.
    await d.redis.zadd(d.keys.alertRepeats, 'XX', nextAt, member);
  }
  return sent;
}
