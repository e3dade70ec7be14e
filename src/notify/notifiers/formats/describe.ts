// Human wording of an event, shared by every format (email, Slack, Teams, PagerDuty): one place for what an alert says.
import { formatDuration } from '../../../util/duration';
import { stillFailingSince } from '../../../alerts/incident-message';
import { summarize, type WatchEvent } from '../../../store/events';

export { formatDuration } from '../../../util/duration';

/**
 * `[Failed] train · pipeline 1234 · experiment churn`: what happened at a glance. An alert the receiver knows, or hears
 * of only now (a silence ended), says so first: `Still failing since 02:14 UTC (3 failures): …`, `Repeat 2: …`.
 */
export function subjectOf(e: WatchEvent): string {
  return `${noticeOf(e)}${summarize(e, { detail: false })}`;
}

function noticeOf(e: WatchEvent): string {
  if (e.stillFailing) return `${stillFailingSince(Date.parse(e.stillFailing.openedAt), e.stillFailing.failures)}: `;
  if (e.repeat) return `Repeat ${e.repeat}: `;
  return '';
}

/**
 * `Still failing since 02:00 UTC (3 failures): … · open since 2026-12-05T02:00:00Z` — the whole of a renotify "update"
 * message (renotify: update). Not for a receiver that hears of the alert only now: it gets the full message.
 */
export function stillFailingLine(e: WatchEvent): string | undefined {
  if (!e.stillFailing || e.stillFailing.firstWord) return undefined;
  return `${subjectOf(e)} · open since ${e.stillFailing.openedAt}`;
}

export { isFailure } from '../../../alerts/alert-key';

/** Label/value lines describing the event, in reading order. */
export function factsOf(e: WatchEvent): [string, string][] {
  const facts: [string, string][] = [['Experiment', e.experiment || '-']];
  if (e.stuck) {
    facts.push(['Stuck', `${e.stuck.reason} for ${formatDuration(e.stuck.forMs)}, limit ${formatDuration(e.stuck.limitMs)}`]);
    if (e.stuck.p95Ms !== undefined) facts.push(['Learned from', `p95 ${formatDuration(e.stuck.p95Ms)} of the last ${e.stuck.samples} Finished runs`]);
  }
  if (e.subState) facts.push(['Sub-state', e.subState.from ? `${e.subState.from} → ${e.subState.to}` : e.subState.to]);
  if (e.missing) {
    facts.push(['Window', `${e.missing.windowStart} → ${e.missing.deadline}${e.missing.by ? ` (by ${e.missing.by})` : ''}`]);
    facts.push(['Last run started', e.missing.lastRunAt ?? 'none seen']);
  }
  if (e.alert) {
    const a = e.alert;
    facts.push(
      ['Resolved', `${a.openedSummary}`],
      ['Open for', formatDuration(a.durationMs)],
      ['Opened by run', a.openedRun ?? '-'],
      a.resolvedByHuman
        ? ['Resolved by', `${a.resolvedByHuman} (${a.key.startsWith('track/') ? 'the track' : 'the step'} had not recovered)`]
        : ['Fixed by run', a.resolvedRun ?? '-'],
    );
    if (a.acked) facts.push(['Acknowledged', `by ${a.acked.by} at ${a.acked.at}${a.acked.comment ? `: ${a.acked.comment}` : ''}`]);
    facts.push(['Alert', a.key]);
  }
  // Annotations as written (the runbook is a link of its own when it is an address).
  for (const [name, value] of Object.entries(e.annotations ?? {})) {
    if (value && !(name === 'runbook' && /^https?:\/\//.test(value))) facts.push([name.charAt(0).toUpperCase() + name.slice(1), value]);
  }
  if (e.pipelineRunId) facts.push(['Pipeline run', e.pipelineRunId]);
  if (e.stepRun) {
    const s = e.stepRun;
    facts.push(['Step', `${s.name} (${s.stepRunId}, node ${s.nodeId})`]);
    facts.push(['Status', `${s.previousStatus ?? '(first seen)'} → ${s.status}${s.rawStatus !== s.status ? ` (${s.rawStatus})` : ''}`]);
    facts.push(['Started', s.startTime ?? '-'], ['Ended', s.endTime ?? '-'], ['Duration', formatDuration(s.durationMs)]);
    if (s.error) facts.push(['Error', `${s.error.code}: ${s.error.message}`]);
    if (s.isReused) facts.push(['Reused', `from step run ${s.reusedRunId} (node ${s.reusedNodeId}) of pipeline run ${s.reusedPipelineRunId}`]);
    if (s.outputNames.length) facts.push(['Outputs', s.outputNames.join(', ')]);
  }
  if (e.pipelineRun) {
    const p = e.pipelineRun;
    facts.push(['Status', p.status], ['Duration', formatDuration(p.durationMs)]);
    if (p.error) facts.push(['Error', `${p.error.code}: ${p.error.message}`]);
  }
  if (e.error) facts.push(['Error', `${e.error.code}: ${e.error.message}`]);
  const labels = Object.entries(e.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  if (labels) facts.push(['Labels', labels]);
  if (e.grouped?.length) facts.push(['Also', e.grouped.map((g) => g.summary).join('\n')]);
  facts.push(['Provider', e.provider], ['Detected', e.time]);
  return facts;
}

/** How to look closer, as commands a reader can paste. */
export function nextStepsOf(e: WatchEvent): string[] {
  const provider = e.provider === 'local' ? '' : ` --provider ${e.provider}`;
  if (e.stepRun) {
    const lines = [`steprun-watch logs ${e.stepRun.stepRunId} --stderr${provider}`, `steprun-watch status ${e.stepRun.stepRunId}${provider}`];
    if (e.stepRun.outputNames.length) lines.push(`steprun-watch outputs ${e.stepRun.stepRunId}${provider}`);
    return lines;
  }
  if (e.pipelineRunId) return [`steprun-watch steps ${e.pipelineRunId}${provider}`];
  return ['steprun-watch tracks'];
}

/** The steps of a pipeline event, as rows: name, status, duration, note. */
export function stepRowsOf(e: WatchEvent): [string, string, string, string][] {
  return (e.pipelineRun?.steps ?? []).map((s) => [s.name, s.status, formatDuration(s.durationMs), s.isReused ? 'reused' : (s.error?.message ?? '')]);
}
