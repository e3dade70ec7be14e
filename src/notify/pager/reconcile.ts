// What the pager holds, checked against what the daemon holds: the incidents PagerDuty has open for the service
// (its REST API) compared with the incident groups whose notification log says the pager holds them. Drift is
// listed, and with `fix` mended: an incident of ours open there with no group open here is resolved (the Events API,
// through the notifier); a group open here with no incident there is triggered again, and one acknowledged here but
// not there is acknowledged again, by the group's own flush (the log is told what the pager holds).
import type { IncidentStore } from '../../alerts/incidents';
import { groupIdOfIncidentKey, incidentKeyOf } from '../../alerts/incident';
import type { WatchEvent } from '../../store/events';
import type { Logger } from '../../util/logger';
import type { Notifier } from '../notifier';
import { openIncidents, type PagerDutyApiOptions } from './pagerduty-api';

export interface PagerDrift {
  notifier: string;
  /** Incident keys open at PagerDuty (ours: `steprun-watch/…`) that no open group here holds. */
  openThereOnly: string[];
  /** Groups whose log says the pager holds them, with no open incident there. */
  openHereOnly: string[];
  /** Acknowledged here, triggered there. */
  ackedHereOnly: string[];
  /** What `fix` sent or made the groups send. */
  fixed: string[];
}

export interface ReconcileDeps {
  name: string;
  api: PagerDutyApiOptions;
  incidents: IncidentStore;
  /** The pager notifier: `fix` sends its resolves through it (routing key, retries, signing as configured). */
  notifier: Notifier;
  logger: Logger;
}

/** The drift between what the daemon holds and what PagerDuty holds open; mended with `fix`. */
export async function reconcilePager(d: ReconcileDeps, o: { fix: boolean; now: number }): Promise<PagerDrift> {
  const there = new Map((await openIncidents(d.api)).map((i) => [i.key, i]));
  const here = new Map<string, { groupId: string; acked: boolean }>();
  for (const group of await d.incidents.list(100_000)) {
    if (group.settings.notifier !== d.name) continue;
    const action = group.pending?.log.action ?? group.log?.action;
    if (action === 'trigger' || action === 'acknowledge') here.set(incidentKeyOf(group.id), { groupId: group.id, acked: action === 'acknowledge' });
  }
  const drift: PagerDrift = { notifier: d.name, openThereOnly: [], openHereOnly: [], ackedHereOnly: [], fixed: [] };
  for (const key of there.keys()) if (key.startsWith('steprun-watch/') && !here.has(key)) drift.openThereOnly.push(key);
  for (const [key, h] of here) {
    const incident = there.get(key);
    if (!incident) drift.openHereOnly.push(key);
    else if (h.acked && incident.status === 'triggered') drift.ackedHereOnly.push(key);
  }
  if (!o.fix) return drift;
  for (const key of drift.openThereOnly) {
    await d.notifier.deliver(resolveEvent(key, o.now), {
      deliveryId: `reconcile-${key}-${o.now}`,
      attempt: 1,
      logger: d.logger,
      signal: AbortSignal.timeout(30_000),
    });
    drift.fixed.push(`resolved ${key}`);
  }
  for (const key of drift.openHereOnly) {
    await d.incidents.noteHeld(groupIdOfIncidentKey(key)!, 'resolve', o.now);
    drift.fixed.push(`triggering ${key} again`);
  }
  for (const key of drift.ackedHereOnly) {
    await d.incidents.noteHeld(groupIdOfIncidentKey(key)!, 'trigger', o.now);
    drift.fixed.push(`acknowledging ${key} again`);
  }
  return drift;
}

/** A resolve of `key` as the PagerDuty format writes one: the incident's key and the action, nothing else. */
function resolveEvent(key: string, now: number): WatchEvent {
  const time = new Date(now).toISOString();
  return {
    id: `reconcile-${now}`,
    type: 'alert.resolved',
    time,
    detectedAt: now,
    trackId: '',
    provider: '',
    experiment: '',
    labels: {},
    incident: { action: 'resolve', key, title: 'resolved: no open group holds it (reconcile)', reason: 'reconcile', firing: [], firingCount: 0, resolved: [] },
  };
}
