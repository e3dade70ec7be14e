// Human-readable output of the CLI: tables and one-line summaries (machine output is --json).
import type { PipelineRunSnapshot, StepRunSnapshot } from '../model/provider';

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

export function duration(start?: string, end?: string): string {
  if (!start) return '-';
  const ms = (end ? Date.parse(end) : Date.now()) - Date.parse(start);
  if (ms < 1000) return `${ms}ms`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${s % 60}s` : `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

export function stepsTable(steps: StepRunSnapshot[]): string {
  return table([
    ['STEP', 'STEP RUN ID', 'STATUS', 'DURATION', 'REUSED FROM', 'ERROR'],
    ...steps.map((s) => [s.name, s.stepRunId, s.status, duration(s.startTime, s.endTime), s.isReused ? (s.reusedRunId ?? 'yes') : '-', s.error?.message ?? '']),
  ]);
}

export function describeStep(s: StepRunSnapshot): string {
  const lines = [
    `step run   ${s.stepRunId}  (${s.name}, node ${s.nodeId})`,
    `pipeline   ${s.pipelineRunId}  experiment ${s.experiment}`,
    `status     ${s.status}${s.rawStatus !== s.status ? ` (${s.rawStatus})` : ''}`,
    `times      start ${s.startTime ?? '-'}  end ${s.endTime ?? '-'}  (${duration(s.startTime, s.endTime)})`,
  ];
  if (s.error) lines.push(`error      ${s.error.code}: ${s.error.message}`);
  if (s.isReused) lines.push(`reused     run ${s.reusedRunId} node ${s.reusedNodeId} of pipeline run ${s.reusedPipelineRunId}`);
  if (s.outputNames.length) lines.push(`outputs    ${s.outputNames.join(', ')}`);
  return lines.join('\n') + '\n';
}

export function describePipeline(p: PipelineRunSnapshot, steps: StepRunSnapshot[]): string {
  return (
    `pipeline run ${p.pipelineRunId}  experiment ${p.experiment}\n` +
    `status       ${p.status}  (${duration(p.startTime, p.endTime)})\n` +
    (p.error ? `error        ${p.error.code}: ${p.error.message}\n` : '') +
    '\n' +
    stepsTable(steps)
  );
}
