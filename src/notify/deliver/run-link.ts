// What a message carries back to the daemon, added as it is sent: the link to the run's dashboard page (when the
// daemon knows its public address, api.publicUrl) and the alert's action buttons (when Slack can call back, api.slack).
import type { WatchEvent } from '../../store/events';
import { alertId } from '../../store/ids';
import { isFailure } from '../notifiers/formats/describe';

export const DASHBOARD_LINK_LABEL = 'Run in steprun-watch';

/**
 * `https://srw.example.com/ui/runs/local/pr-1?experiment=churn#step-sr-2`: the run page, scrolled to the step.
 * Undefined without a public address or without a pipeline run to show (a track error).
 */
export function dashboardUrlOf(e: WatchEvent, publicUrl: string | undefined): string | undefined {
  const run = e.pipelineRunId ?? e.alert?.openedRun;
  if (!publicUrl || !run) return undefined;
  const base = publicUrl.replace(/\/+$/, '');
  const query = e.experiment ? `?experiment=${encodeURIComponent(e.experiment)}` : '';
  const anchor = e.stepRun ? `#step-${encodeURIComponent(e.stepRun.stepRunId)}` : '';
  return `${base}/ui/runs/${encodeURIComponent(e.provider)}/${encodeURIComponent(run)}${query}${anchor}`;
}

/** The event as notifiers see it: with `dashboardUrl` and the dashboard as its first link (every format renders links). */
export function withDashboardLink(e: WatchEvent, publicUrl: string | undefined): WatchEvent {
  const url = dashboardUrlOf(e, publicUrl);
  if (!url) return e;
  const others = (e.links ?? []).filter((l) => l.label !== DASHBOARD_LINK_LABEL);
  return { ...e, dashboardUrl: url, links: [{ label: DASHBOARD_LINK_LABEL, url }, ...others] };
}

/** The event as the receiver sees it: with its dashboard link and, for a failure that opened an alert, its actions. */
export function forReceiver(e: WatchEvent, o: { publicUrl?: string; alertActions?: boolean }): WatchEvent {
  const linked = withDashboardLink(e, o.publicUrl);
  if (!o.alertActions || !e.alertKey || !isFailure(e)) return linked;
  return { ...linked, alertActions: { alertId: alertId(e.alertKey) } };
}
