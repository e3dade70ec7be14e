// The alerts of one pipeline run's steps and pipeline, on its run page: open since, acknowledged by whom, silenced
// until — what someone following a message's link needs to know before acting.
import type { ApiDeps } from '../../deps';
import { activeSilencesFor } from '../../../alerts/silences';
import type { PipelineRunSnapshot, StepRunSnapshot } from '../../../model/provider';
import { annotationsCell } from '../annotations';
import { html, table, timeAgo, type SafeHtml } from '../html';

export async function runAlerts(d: ApiDeps, providerName: string, pipeline: PipelineRunSnapshot, steps: StepRunSnapshot[]): Promise<SafeHtml> {
  if (!d.alerts) return html``;
  const base = `${providerName}/${pipeline.experiment}`;
  const keys = [...steps.map((s) => `${base}/step/${s.name}`), `${base}/pipeline/${pipeline.name ?? pipeline.experiment}`];
  const now = d.clock.now();
  const [open, silences] = await Promise.all([d.alerts.views(keys), d.silences?.list(now) ?? []]);
  const rows = [...open.values()].map((a) => {
    const silencedUntil = Math.max(0, ...activeSilencesFor(silences, a.event, now).map((s) => s.endsAt));
    const until = new Date(silencedUntil).toISOString();
    return html`<tr data-alert="${a.key}">
      <td><code>${a.key}</code></td>
      <td>${timeAgo(a.openedAt, now)}</td>
      <td>${a.failures}</td>
      <td>${annotationsCell(d.policy, a.event)}</td>
      <td>${a.acked ? html`by ${a.acked.by}, ${timeAgo(a.acked.at, now)}` : html`<button type="button" data-ack-alert="${a.id}">Acknowledge</button>`}</td>
      <td>${silencedUntil ? html`until <time datetime="${until}">${until.slice(0, 16).replace('T', ' ')} UTC</time>` : 'no'}</td>
    </tr>`;
  });
  return html`<section aria-labelledby="run-alerts-h">
    <h2 id="run-alerts-h">Alerts</h2>
    ${table({ head: ['Alert', 'Open since', 'Failures', 'Runbook', 'Acknowledged', 'Silenced'], rows, empty: 'No open alert for this run’s steps.' })}
  </section>`;
}
