// Acknowledging an open alert, the one way every door does it (CLI, API, dashboard, Slack button, PagerDuty).
import { AlertNotFoundError } from '../model/errors';
import type { AlertStore, OpenAlert } from './alert-store';
import { groupOfMarker } from './incident';
import type { IncidentStore } from './incidents';

export interface AckResult {
  alert: OpenAlert;
  /** 'acked' now, or 'already' (the first acknowledgement stands: a replayed webhook changes nothing). */
  outcome: 'acked' | 'already';
  /** Who it stands for: the first one to acknowledge. */
  by: string;
}

/**
 * Acknowledges the open alert named by id or key; AlertNotFoundError when none is open. The pagers holding it through
 * an incident group hear of it at once: each of its groups flushes now (`acknowledge` once all its firing alerts are).
 */
export async function acknowledge(
  alerts: AlertStore,
  idOrKey: string,
  by: string,
  now: number,
  comment?: string,
  incidents?: IncidentStore,
): Promise<AckResult> {
  const alert = await alerts.find(idOrKey);
  if (!alert) throw new AlertNotFoundError(idOrKey);
  const outcome = await alerts.ack(alert.id, by, now, comment || undefined);
  if (outcome === 'not-open') throw new AlertNotFoundError(idOrKey);
  const after = (await alerts.byId(alert.id)) ?? alert;
  if (outcome === 'acked') await incidents?.flushSoon(incidentGroupsOf(after), now);
  return { alert: after, outcome, by: after.acked?.by ?? by };
}

/** Takes an acknowledgement back (from anywhere): repeats resume, and its pagers' incidents are triggered again. */
export async function unacknowledge(alerts: AlertStore, idOrKey: string, now: number, incidents?: IncidentStore): Promise<OpenAlert> {
  const alert = await alerts.find(idOrKey);
  if (!alert) throw new AlertNotFoundError(idOrKey);
  await alerts.unack(alert.id);
  await incidents?.flushSoon(incidentGroupsOf(alert), now);
  return (await alerts.byId(alert.id)) ?? alert;
}

/** The incident groups an open alert belongs to (one per pager it was routed to). */
export function incidentGroupsOf(alert: Pick<OpenAlert, 'told'>): string[] {
  return Object.values(alert.told)
    .map(groupOfMarker)
    .filter((g): g is string => g !== undefined);
}
