// Repeat while unresolved: an open alert is sent again every `repeat.every` to the notifiers whose route asks for it.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DeliveryStore } from '../notify/deliveries';
import { summarize } from '../store/events';
import { deliveryJobId, repeatDeliveryId } from '../store/ids';
import type { Keys } from '../store/keys';
import { Scripts } from '../store/scripts';
import type { AlertStore } from './alert-store';
import { repeatDue } from './timing';

export interface RepeatDeps {
  redis: Redis;
  keys: Keys;
  alerts: AlertStore;
  deliveries: DeliveryStore;
  deliverQueue: Queue;
}

/** Sends the repeats that are due (called on the scheduler's tick). The n-th repeat has its own delivery id: never sent twice. */
export async function sendDueRepeats(d: RepeatDeps, now: number, limit = 500): Promise<number> {
  // Claimed with a lease, as polls are: another daemon's tick does not take the same repeat meanwhile.
  const due = await new Scripts(d.redis, d.keys).claimDue({ schedule: d.keys.alertRepeats, now, limit, leaseMs: 60_000 });
  let sent = 0;
  for (const { member } of due) {
    const [alertId, notifier] = member.split('|') as [string, string];
    const alert = await d.alerts.byId(alertId);
    const every = alert?.repeats[notifier];
    if (!alert || !every) {
      await d.redis.zrem(d.keys.alertRepeats, member);
      continue;
    }
    const { n, nextAt } = repeatDue(alert.openedAt, every, now);
    const id = repeatDeliveryId(alert.openedBy, notifier, n);
    const event = { ...alert.event, alertKey: alert.key };
    await d.deliveries.ensureMany([{ id, eventId: event.id, notifier, eventType: event.type, summary: `repeat ${n}: ${summarize(event)}` }], now);
    await d.deliverQueue.add(notifier, { deliveryId: id, notifier, event }, { jobId: deliveryJobId(id) });
    await d.redis.zadd(d.keys.alertRepeats, 'XX', nextAt, member);
    sent++;
  }
  return sent;
}
