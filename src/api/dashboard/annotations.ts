// An alert's annotations on the dashboard: the runbook as a link, the summary and description as text — rendered
// from the routes that take its event and its track's own, as its messages carry them.
import { routeAnnotationsOf } from '../../alerts/route-choice';
import type { AlertPolicy } from '../../alerts/decision-types';
import { withAnnotations } from '../../notify/deliver/run-link';
import type { WatchEvent } from '../../store/events';
import { html, type SafeHtml } from './html';

export function annotationsCell(policy: AlertPolicy | undefined, e: WatchEvent): SafeHtml {
  const annotations = policy ? routeAnnotationsOf(policy, e) : (e.annotations ?? {});
  if (Object.keys(annotations).length === 0) return html``;
  const shown = withAnnotations({ ...e, annotations }).annotations ?? {};
  const { runbook, ...rest } = shown;
  const link = runbook && /^https?:\/\//.test(runbook) ? html`<a href="${runbook}" data-runbook rel="noopener">Runbook</a>` : runbook ? html`${runbook}` : '';
  const text = Object.entries(rest).map(([name, value]) => html`<div data-annotation="${name}">${value}</div>`);
  return html`${link}${text}`;
}
