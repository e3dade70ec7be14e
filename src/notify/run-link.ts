// The link from every message back to the run's dashboard page, when the daemon knows its public address (api.publicUrl).
import type { WatchEvent } from '../store/events';

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
