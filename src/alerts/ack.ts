// Acknowledging an open alert, the one way every door does it (CLI, API, dashboard, Slack button, PagerDuty).
import { AlertNotFoundError } from '../model/errors';
import type { AlertStore, OpenAlert } from './alert-store';

export interface AckResult {
  alert: OpenAlert;
  /** 'acked' now, or 'already' (the first acknowledgement stands: a replayed webhook changes nothing). */
  outcome: 'acked' | 'already';
  /** Who it stands for: the first one to acknowledge. */
  by: string;
}

/** Acknowledges the open alert named by id or key; AlertNotFoundError when none is open. */
export async function acknowledge(alerts: AlertStore, idOrKey: string, by: string, now: number, comment?: string): Promise<AckResult> {
  const alert = await alerts.find(idOrKey);
  if (!alert) throw new AlertNotFoundError(idOrKey);
  const outcome = await alerts.ack(alert.id, by, now, comment || undefined);
  if (outcome === 'not-open') throw new AlertNotFoundError(idOrKey);
  const after = (await alerts.byId(alert.id)) ?? alert;
  return { alert: after, outcome, by: after.acked?.by ?? by };
}
