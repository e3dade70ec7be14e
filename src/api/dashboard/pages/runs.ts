// The front page: the pipeline runs seen lately (from the events stream) and what is tracked.
import { STATUSES } from '../../../model/status';
import type { ApiDeps } from '../../deps';
import { TrackStore } from '../../../store/tracks';
import { html, table, timeAgo, type SafeHtml } from '../html';
import { countByStatus, recentRuns } from '../runs';

export function runHref(provider: string, pipelineRunId: string, experiment?: string): string {
  const q = experiment ? `?experiment=${encodeURIComponent(experiment)}` : '';
  return `/ui/runs/${encodeURIComponent(provider)}/${encodeURIComponent(pipelineRunId)}${q}`;
}

/** A status as a badge: its colour and its name (colour is never the only sign). */
export function statusBadge(status: string | undefined, text = status ?? '—'): SafeHtml {
  return html`<span class="badge status-${status ?? 'none'}">${text}</span>`;
}

export async function runsPage(d: ApiDeps): Promise<SafeHtml> {
  const now = d.clock.now();
  const [runs, tracks] = await Promise.all([recentRuns(d.redis, d.keys), new TrackStore(d.redis, d.keys, d.clock).list()]);
  const runRows = runs.map((r) => {
    const counts = countByStatus(r.steps);
    return html`<tr data-run="${r.pipelineRunId}" class="${r.failures ? 'has-failures' : ''}">
      <td>${r.experiment}</td>
      <td><a href="${runHref(r.provider, r.pipelineRunId, r.experiment)}">${r.pipelineRunId}</a></td>
      <td>${statusBadge(r.status ?? 'Running', r.status ?? 'in progress')}</td>
      <td class="counts">${STATUSES.filter((s) => counts[s]).map((s) => statusBadge(s, `${counts[s]} ${s}`))}</td>
      <td>${timeAgo(r.lastChangeAt, now)}</td>
      <td>${r.failures ? html`<strong class="fail-text">${r.failures}</strong>` : '0'}</td>
    </tr>`;
  });
  const trackRows = tracks.map(
    (t) =>
      html`<tr>
        <td>${t.kind}</td>
        <td>${t.kind === 'experiment' ? t.experiment : t.kind === 'pipeline' ? t.pipelineRunId : t.stepRunId}</td>
        <td>${t.experiment ?? ''}</td>
        <td>${t.provider}</td>
        <td>${t.nextPollAt ? `${Math.max(0, Math.round((t.nextPollAt - now) / 1000))} s` : '—'}</td>
        <td>${t.failures ? html`<strong class="fail-text">${t.failures}</strong>` : '0'}</td>
      </tr>`,
  );
  return html`<section aria-labelledby="runs-h">
      <h2 id="runs-h">Pipeline runs</h2>
      ${table({
        head: ['Experiment', 'Pipeline run', 'Status', 'Steps', 'Last change', 'Failures'],
        rows: runRows,
        empty: html`No pipeline run seen yet. Track one: <code>steprun-watch track --experiment NAME</code>.`,
        caption: 'Pipeline runs seen in recent events, most recently changed first',
      })}
    </section>
    <section aria-labelledby="tracks-h">
      <h2 id="tracks-h">Tracked targets</h2>
      ${table({ head: ['Kind', 'Target', 'Experiment', 'Provider', 'Next poll in', 'Failed polls'], rows: trackRows, empty: 'Nothing is tracked.' })}
    </section>`;
}
