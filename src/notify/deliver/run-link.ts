// What a message carries back to the daemon, added as it is sent: the link to the run's dashboard page (when the
// daemon knows its public address, api.publicUrl) and the alert's action buttons (when Slack can call back, api.slack).
import type { WatchEvent } from '../../store/events';
import { alertId } from '../../store/ids';
import { isFailure } from '../notifiers/formats/describe';
import { renderTemplate } from '../notifiers/formats/template';

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

/** The label of an annotation `runbook` that is a link: Slack's button, Teams' action, PagerDuty's link, email's. */
export const RUNBOOK_LINK_LABEL = 'Runbook';

/**
 * Annotations rendered with the event's fields (Mustache, plain text: each format escapes as it writes), and the
 * runbook, when it is an address, made the first link after the dashboard's: every format shows links.
 */
export function withAnnotations(e: WatchEvent): WatchEvent {
  if (!e.annotations) return e;
  const annotations = Object.fromEntries(Object.entries(e.annotations).map(([name, template]) => [name, renderTemplate(template, e).trim()]));
  const runbook = annotations.runbook;
  if (!runbook || !/^https?:\/\/\S+$/.test(runbook)) return { ...e, annotations };
  const links = (e.links ?? []).filter((l) => l.label !== RUNBOOK_LINK_LABEL);
  links.splice(links[0]?.label === DASHBOARD_LINK_LABEL ? 1 : 0, 0, { label: RUNBOOK_LINK_LABEL, url: runbook });
  return { ...e, annotations, links };
}

/** The event as the receiver sees it: its dashboard link, its annotations and, for a failure that opened an alert, its actions. */
export function forReceiver(e: WatchEvent, o: { publicUrl?: string; alertActions?: boolean }): WatchEvent {
  const linked = withAnnotations(withDashboardLink(e, o.publicUrl));
  if (!o.alertActions || !e.alertKey || !isFailure(e)) return linked;
  return { ...linked, alertActions: { alertId: alertId(e.alertKey) } };
}
