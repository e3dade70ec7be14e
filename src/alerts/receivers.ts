// What each receiver holds of an open alert now (`alerts`, GET /alerts, the dashboard): read from the notification
// log for a pager (its incident group's last word), from the delivery record of the last message for the others.
import type { DeliveryStore } from '../store/deliveries';
import type { OpenAlert } from './alert-store';
import { groupOfMarker } from './incident';
import type { IncidentStore } from './incidents';

/**
 * `open` (told, and its last word is the failure), `acknowledged` (a pager's incident is), `resolved` (a pager's
 * incident was resolved though the alert is open: silenced, say), `sending` (on its way or retrying), `never sent`
 * (held, grouped and not flushed yet, suppressed), `dead letter` (it failed for good).
 */
export type ReceiverHolds = 'open' | 'acknowledged' | 'resolved' | 'sending' | 'never sent' | 'dead letter';

/** Per alert id, per notifier it was routed to: what that receiver holds. */
export async function receiverHolds(
  alerts: OpenAlert[],
  deliveries: DeliveryStore,
  incidents?: IncidentStore,
): Promise<Map<string, Record<string, ReceiverHolds>>> {
  const out = new Map<string, Record<string, ReceiverHolds>>();
  const logs = new Map<string, Awaited<ReturnType<IncidentStore['read']>>>();
  for (const alert of alerts) {
    const held: Record<string, ReceiverHolds> = {};
    for (const [notifier, told] of Object.entries(alert.told)) {
      const group = groupOfMarker(told);
      if (group) {
        if (!logs.has(group)) logs.set(group, await incidents?.read(group));
        held[notifier] = incidentHolds(logs.get(group), alert.key);
      } else held[notifier] = messageHolds(await deliveries.status(told));
    }
    out.set(alert.id, held);
  }
  return out;
}

function incidentHolds(group: Awaited<ReturnType<IncidentStore['read']>>, key: string): ReceiverHolds {
  if (group?.pending) return 'sending';
  const log = group?.log;
  if (!log || !log.firing.includes(key)) return log?.action === 'resolve' ? 'resolved' : 'never sent';
  return log.action === 'acknowledge' ? 'acknowledged' : log.action === 'resolve' ? 'resolved' : 'open';
}

function messageHolds(status: string | undefined): ReceiverHolds {
  switch (status) {
    case 'delivered':
      return 'open';
    case 'failed':
      return 'dead letter';
    case 'pending':
    case 'retrying':
      return 'sending';
    default:
      return 'never sent';
  }
}

/** `pd: open, mail: dead letter` */
export function holdsLine(held: Record<string, ReceiverHolds> | undefined): string {
  const parts = Object.entries(held ?? {}).map(([n, h]) => `${n}: ${h}`);
  return parts.join(', ') || '-';
}
