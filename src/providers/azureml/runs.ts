// Run-history JSON (the `Run` of run-history.json) checked and mapped onto the model's snapshots.
import { z } from 'zod';
import { ProviderResponseError } from '../../model/errors';
import { normalizeStatus } from '../../model/status';
import type { PipelineRunSnapshot, RunError, StepRunSnapshot } from '../../model/provider';

const stringMap = z.record(z.string(), z.string()).nullish();

/** The fields we read; the service sends many more, which pass through untouched. */
export const runSchema = z.looseObject({
  runId: z.string().min(1),
  parentRunId: z.string().nullish(),
  experimentId: z.string().nullish(),
  status: z.string().min(1),
  displayName: z.string().nullish(),
  name: z.string().nullish(),
  createdUtc: z.string().nullish(),
  startTimeUtc: z.string().nullish(),
  endTimeUtc: z.string().nullish(),
  error: z.looseObject({ error: z.looseObject({ code: z.string().nullish(), message: z.string().nullish() }).nullish() }).nullish(),
  properties: stringMap,
  tags: stringMap,
  outputs: z.record(z.string(), z.looseObject({ assetId: z.string().nullish(), type: z.string().nullish() }).nullable()).nullish(),
});

export type AzureRun = z.infer<typeof runSchema>;

export const pageSchema = z.looseObject({
  value: z.array(z.unknown()),
  continuationToken: z.string().nullish(),
  nextLink: z.string().nullish(),
});

export function parseRun(value: unknown, where: string): AzureRun {
  const parsed = runSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ProviderResponseError(`${where}: a run without a valid ${issue.path.join('.') || 'body'} (${issue.message})`);
  }
  return parsed.data;
}

function statusOf(run: AzureRun) {
  const status = normalizeStatus(run.status);
  if (!status) throw new ProviderResponseError(`run ${run.runId}: unknown status "${run.status}"`);
  return status;
}

function errorOf(run: AzureRun): RunError | undefined {
  const e = run.error?.error;
  if (!e || (!e.code && !e.message)) return undefined;
  return { code: e.code ?? 'Error', message: e.message ?? '' };
}

const opt = (v: string | null | undefined) => v ?? undefined;

/** What step and pipeline snapshots read the same way from a run: experiment, status, times, error. */
function common(run: AzureRun, hints: { experiment?: string }) {
  return {
    experiment: hints.experiment ?? opt(run.experimentId) ?? '',
    status: statusOf(run),
    rawStatus: run.status,
    createdTime: opt(run.createdUtc),
    startTime: opt(run.startTimeUtc),
    endTime: opt(run.endTimeUtc),
    error: errorOf(run),
  };
}

/**
 * A child run as a step run. Name from displayName (`name` is the component's, e.g. azureml_anonymous),
 * node id from tags["azureml.nodeid"], reuse from the azureml.reused* properties (docs/PROVIDERS.md, reuse).
 */
export function toStepSnapshot(run: AzureRun, hints: { experiment?: string; pipelineRunId?: string }): StepRunSnapshot {
  const props = run.properties ?? {};
  const tags = run.tags ?? {};
  const nodeId = tags['azureml.nodeid'] ?? props['azureml.nodeid'] ?? run.runId;
  const reusedRunId = props['azureml.reusedrunid'];
  return {
    stepRunId: run.runId,
    pipelineRunId: opt(run.parentRunId) ?? tags['azureml.pipeline'] ?? props['azureml.pipelinerunid'] ?? hints.pipelineRunId ?? '',
    ...common(run, hints),
    nodeId,
    name: opt(run.displayName) ?? opt(run.name) ?? run.runId,
    isReused: props['azureml.isreused'] === 'true' || Boolean(reusedRunId),
    currentNodeId: nodeId,
    reusedRunId,
    reusedNodeId: props['azureml.reusednodeid'],
    reusedPipelineRunId: props['azureml.reusedpipelinerunid'] ?? props['azureml.reusedpipeline'],
    outputNames: Object.keys(run.outputs ?? {}).sort(),
    logNames: [],
  };
}

export function toPipelineSnapshot(run: AzureRun, hints: { experiment?: string }): PipelineRunSnapshot {
  // What stays the same across runs of one pipeline: its display name, else the published pipeline's id.
  const name = opt(run.displayName) ?? run.properties?.['azureml.pipelineid'] ?? opt(run.name);
  return { pipelineRunId: run.runId, ...common(run, hints), ...(name ? { name } : {}) };
}

/** Which of a run's log files answers getStdoutLog / getStderrLog / getJobLog (v2 names first, then v1). */
export const LOG_CANDIDATES: Record<'stdout' | 'stderr' | 'job', RegExp[]> = {
  stdout: [/^user_logs\/std_log\.txt$/, /^user_logs\/std_log.*\.txt$/, /^azureml-logs\/70_driver_log.*\.txt$/, /^logs\/azureml\/stdoutlogs\.txt$/],
  stderr: [/^logs\/azureml\/stderrlogs\.txt$/, /^user_logs\/std_log\.txt$/, /^user_logs\/std_log.*\.txt$/, /^azureml-logs\/70_driver_log.*\.txt$/],
  job: [
    /^logs\/azureml\/executionlogs\.txt$/,
    /^azureml-logs\/55_azureml-execution.*\.txt$/,
    /^system_logs\/lifecycler\/execution-wrapper\.log$/,
    /^azureml-logs\/.*\.txt$/,
  ],
};

export function pickLog(logFiles: Record<string, string>, which: 'stdout' | 'stderr' | 'job'): string | undefined {
  const names = Object.keys(logFiles).sort();
  for (const re of LOG_CANDIDATES[which]) {
    const hit = names.find((n) => re.test(n));
    if (hit) return logFiles[hit];
  }
  return undefined;
}
