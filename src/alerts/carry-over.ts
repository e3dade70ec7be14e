// Upgrading from the release before incident groups: an open alert that release paged on its own (under a dedup key
// of its own) is carried into the incident group it would join today, once, when the dispatcher starts. Its own
// incident is resolved — after the message that opened it, as every resolve goes — and the group's flush pages the
// group; from then on the pager holds one incident per group, as for alerts opened by this release.
import type { Queue } from 'bullmq';
import type { DeliveryStore } from '../store/deliveries';
import { alertResolvedEvent } from '../store/event-builders';
import { summarize } from '../store/events';
import { deliveryJobId } from '../store/ids';
import { MAX_OPEN_ALERTS, type AlertStore, type OpenAlert } from './alert-store';
import { decideEvent, type AlertPolicy, type DecisionState } from './decide';
import { groupOfMarker, incidentMarker } from './incident';
import { incidentJoinOf } from './incident-join';
import type { IncidentStore } from './incidents';
import type { SilenceStore } from './silences';

export interface CarryOverDeps {
  alerts: AlertStore;
  incidents: IncidentStore;
  policy: AlertPolicy;
  deliveries: DeliveryStore;
  deliverQueue: Queue;
  silences?: SilenceStore;
}

/** Carries every open alert a pager holds on its own into its group; returns how many (alert, pager) pairs it carried. */
export async function carryIntoGroups(d: CarryOverDeps, now: number): Promise<number> {
  const open = await d.alerts.list(MAX_OPEN_ALERTS);
  // A pager's repeats are its group's: none of an alert's own is left (an inhibited pipeline failure's paged under
  // a key of its own an hour after the upgrade).
  for (const alert of open) {
    for (const notifier of Object.keys(alert.repeats)) if (d.policy.traits.get(notifier)?.pager) await d.alerts.endRepeats(alert.key, notifier);
  }
  const old = open.filter((a) => Object.entries(a.told).some(([notifier, told]) => pagedAlone(d.policy, notifier, told)));
  if (old.length === 0) return 0;
  const silences = d.silences ? await d.silences.list(now) : [];
  let carried = 0;
  for (const alert of old) {
    // The alert as if it failed now for the first time: the group it would join today.
    const state: DecisionState = { now, silences, alert: (key) => (key === alert.key ? undefined : open.find((a) => a.key === key)), openAlerts: () => open };
    const { decisions } = decideEvent(d.policy, state, alert.event);
    for (const [notifier, told] of Object.entries(alert.told)) {
      if (!pagedAlone(d.policy, notifier, told)) continue;
      const decision = decisions.find((x) => x.notifier === notifier);
      const join = decision && incidentJoinOf(d.policy, 'open', alert.key, decision);
      await resolveAlone(d, alert, notifier, now);
      if (join) await d.incidents.join(join.groupId, join.settings, { key: alert.key, openedBy: alert.openedBy }, now, join.notBefore);
      // Noted last: a start that dies before this carries the alert again, under the same ids.
      await d.alerts.carried(alert.key, notifier, join ? incidentMarker(join.groupId) : undefined);
      carried++;
    }
  }
  return carried;
}

/** A pager was sent a message of this alert of its own (not an incident group's). */
function pagedAlone(policy: AlertPolicy, notifier: string, told: string): boolean {
  return Boolean(policy.traits.get(notifier)?.pager) && told !== '' && groupOfMarker(told) === undefined;
}

/** The pager's incident of the alert alone, resolved (the same resolve its recovery would have sent). */
async function resolveAlone(d: CarryOverDeps, alert: OpenAlert, notifier: string, now: number): Promise<void> {
  const resolved = alertResolvedEvent(alert.key, alert, alert.event, now, {});
  const event = { ...resolved, id: `${alert.openedBy}-carried` };
  const id = `${alert.openedBy}-${notifier}-carried`;
  const summary = `carried into its incident group: ${summarize(alert.event)}`;
  await d.deliveries.ensureMany([{ id, eventId: event.id, notifier, eventType: event.type, summary }], now);
  await d.deliverQueue.add(notifier, { deliveryId: id, notifier, event }, { jobId: deliveryJobId(id) });
}
