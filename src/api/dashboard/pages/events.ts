// The event timeline: newest first, filtered by experiment, type and status, paged by stream id.
import type { ApiDeps } from '../../deps';
import { STATUSES } from '../../../model/status';
import { EVENT_TYPES, statusOf, type WatchEvent } from '../../../store/events';
import { html, query, table, type SafeHtml } from '../html';
import { recentEvents } from '../runs';
import { formatDuration } from '../../../util/duration';
import { runHref, statusBadge } from './runs';

const PAGE_SIZE = 50;
/** Events read at most per page while filtering (a rare filter stops here and offers "older"). */
const SCAN_LIMIT = 10_000;
const SCAN_CHUNK = 500;

export interface EventFilter {
  experiment?: string;
  type?: string;
  status?: string;
  before?: string;
}

function matches(e: WatchEvent, f: EventFilter): boolean {
  const status = statusOf(e);
  return (!f.experiment || e.experiment === f.experiment) && (!f.type || e.type === f.type) && (!f.status || status === f.status);
}

export async function eventsPage(d: ApiDeps, f: EventFilter): Promise<SafeHtml> {
  const found: { id: string; event: WatchEvent }[] = [];
  let cursor = f.before;
  let scanned = 0;
  let end = false;
  while (found.length < PAGE_SIZE && scanned < SCAN_LIMIT) {
    const chunk = await recentEvents(d.redis, d.keys, SCAN_CHUNK, cursor);
    if (chunk.length === 0) {
      end = true;
      break;
    }
    for (const e of chunk) {
      cursor = e.id;
      if (matches(e.event, f) && found.length < PAGE_SIZE) found.push(e);
      if (found.length === PAGE_SIZE) break;
    }
    scanned += chunk.length;
  }
  const older = !end && cursor ? `/ui/events${query({ experiment: f.experiment, type: f.type, status: f.status, before: cursor })}` : undefined;
  const newest = `/ui/events${query({ experiment: f.experiment, type: f.type, status: f.status })}`;
  return html`<form method="get" action="/ui/events" class="filters" role="search">
      <label>Experiment <input name="experiment" value="${f.experiment ?? ''}" /></label>
      ${choice('Type', 'type', EVENT_TYPES, f.type)} ${choice('Status', 'status', STATUSES, f.status)}
      <button type="submit">Filter</button>
    </form>
    ${table({
      head: ['Time', 'Type', 'Experiment', 'Pipeline run', 'Step', 'Status', 'Detail'],
      rows: found.map(({ id, event: e }) => row(id, e)),
      empty: `No events${f.experiment || f.type || f.status ? ' match these filters' : ' yet'}.`,
    })}
    <nav class="pager" aria-label="Pages">${f.before ? html`<a href="${newest}">Newest</a>` : ''}${older ? html`<a href="${older}">Older →</a>` : ''}</nav>`;
}

function row(id: string, e: WatchEvent): SafeHtml {
  const status = statusOf(e);
  const detail = e.error?.message ?? e.stepRun?.error?.message ?? e.pipelineRun?.error?.message ?? (e.stuck ? `stuck: ${e.stuck.reason}` : '');
  return html`<tr data-event="${id}">
    <td><time datetime="${e.time}">${e.time.replace('T', ' ').slice(0, 19)} UTC</time></td>
    <td>${e.type}</td>
    <td>${e.experiment}</td>
    <td>${e.pipelineRunId ? html`<a href="${runHref(e.provider, e.pipelineRunId, e.experiment)}">${e.pipelineRunId}</a>` : ''}</td>
    <td>${e.stepRun?.name ?? (e.alert ? stepOfKey(e.alert.key) : '')}</td>
    <td>${status ? statusBadge(status) : ''}</td>
    <td>${e.alert ? resolvedDetail(e.alert) : detail}</td>
  </tr>`;
}

/** The step an alert key names (`provider/experiment/step/<name>`), if it names one. */
function stepOfKey(key: string): string {
  return /\/step\/([^/]+)/.exec(key)?.[1] ?? '';
}

/** An alert.resolved row: which alert, after how long, and by what (a run, or a person). */
function resolvedDetail(a: NonNullable<WatchEvent['alert']>): string {
  const by = a.resolvedByHuman ? `closed by ${a.resolvedByHuman}` : a.resolvedRun ? `by run ${a.resolvedRun}` : 'recovered';
  return `${a.key} resolved after ${formatDuration(a.durationMs)}, ${by}`;
}

/** A filter's drop-down: "any", then every value; the current one selected. */
function choice(label: string, name: string, values: readonly string[], current: string | undefined): SafeHtml {
  const options = values.map((v) => html`<option${v === current ? html` selected` : ''}>${v}</option>`);
  return html`<label
    >${label}
    <select name="${name}">
      <option value="">any</option>
      ${options}
    </select></label
  >`;
}
