// Runs a pipeline file as one local pipeline run: steps in dependency order, failure cancels the rest, reuse.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { copyTree } from '../../fs/copy-tree';
import { isTerminal, Status, type StepStatus } from '../../model/status';
import { executeStep, newStepRecord } from './exec';
import type { PipelineFile, PipelineStep } from './pipeline-file';
import type { StepRecord } from './records';
import { findReusable, rememberReusable, stepFingerprint } from './reuse';
import { newPipelineRunId, type RunStore } from './store';
import { CanceledError } from '../../model/errors';

export interface RunPipelineOptions {
  store: RunStore;
  pipeline: PipelineFile;
  /** Folder of the pipeline file: relative workdir, inputs and outputs resolve from it. */
  baseDir: string;
  pipelineRunId?: string;
  /** The pipeline's name, the same across its runs (the CLI gives the file's base name); default: the experiment. */
  name?: string;
  /** Steps running at once at most; default: the pipeline file's `parallel`, else the number of cores. */
  parallel?: number;
  signal?: AbortSignal;
  echoStdout?: Writable;
  echoStderr?: Writable;
  /** The runner's own messages (never mixed into the commands' stdout). */
  say?(line: string): void;
  /** `run --require-outputs`: every step fails on a missing output, whatever the file says. */
  requireOutputs?: boolean;
  now?: () => Date;
}

export interface PipelineResult {
  pipelineRunId: string;
  status: StepStatus;
  steps: { name: string; stepRunId: string; status: StepStatus; isReused: boolean; reusedRunId?: string }[];
}

/** One run of a pipeline file as it goes: its record's fixed fields, its steps' records, and what it reports. */
interface PipelineRunState {
  o: RunPipelineOptions;
  base: Omit<PipelineRecordFields, 'status' | 'startTime'>;
  started: string;
  cwd: string;
  records: Map<string, StepRecord>;
  say: (line: string) => void;
  now: () => Date;
}

type PipelineRecordFields = Parameters<RunStore['writePipeline']>[0];

export async function runPipeline(o: RunPipelineOptions): Promise<PipelineResult> {
  const now = o.now ?? (() => new Date());
  const say = o.say ?? (() => undefined);
  const { pipeline } = o;
  const cwd = path.resolve(o.baseDir, pipeline.workdir ?? '.');
  await fs.mkdir(cwd, { recursive: true });
  const pipelineRunId = o.pipelineRunId ?? newPipelineRunId(pipeline.experiment, now());
  const started = now().toISOString();
  const base = {
    schema: 1 as const,
    pipelineRunId,
    experiment: pipeline.experiment,
    createdTime: started,
    source: 'run' as const,
    ...(o.name ? { name: o.name } : {}),
    steps: pipeline.steps.map((s) => s.name),
  };
  await o.store.createNewPipeline({ ...base, status: Status.Running, startTime: started });
  say(`pipeline run ${pipelineRunId} (experiment ${pipeline.experiment})`);
  const run: PipelineRunState = { o, base, started, cwd, records: await recordStepsUpFront(o, pipelineRunId, now), say, now };
  await runSteps(run);
  return finishPipeline(run);
}

/** Every step recorded NotStarted before any runs, so watchers see the whole graph at once. */
async function recordStepsUpFront(o: RunPipelineOptions, pipelineRunId: string, now: () => Date): Promise<Map<string, StepRecord>> {
  const records = new Map<string, StepRecord>();
  for (const step of o.pipeline.steps) {
    const record = {
      ...newStepRecord({ experiment: o.pipeline.experiment, pipelineRunId, stepName: step.name, command: step.run, now: now() }),
      ...(step.needs.length ? { needs: step.needs } : {}),
    };
    await o.store.writeStep(record);
    records.set(step.name, record);
  }
  return records;
}

/**
 * Starts each step once what it needs has Finished, up to the parallel limit; cancels those that can no longer run.
 * A crash of the runner itself (EMFILE, a full disk) stops every child, records what did not finish, and throws.
 */
async function runSteps(run: PipelineRunState): Promise<void> {
  const { o, records, say, now } = run;
  const limit = o.parallel ?? o.pipeline.parallel ?? os.availableParallelism();
  // The runner's own stop: a crash cancels the running children, as Ctrl-C does.
  const stop = new AbortController();
  const signal = o.signal ? AbortSignal.any([o.signal, stop.signal]) : stop.signal;
  const running = new Map<string, Promise<void>>();
  let crash: Error | undefined;
  const statusOf = (name: string): StepStatus => records.get(name)!.status;
  const onCrash = (err: Error) => {
    if (crash) return;
    crash = err;
    stop.abort(new CanceledError(`runner crashed: ${err.message}`));
  };
  try {
    for (;;) {
      for (const step of o.pipeline.steps) {
        if (statusOf(step.name) !== Status.NotStarted || running.has(step.name)) continue;
        const blocked = step.needs.find((n) => isTerminal(statusOf(n)) && statusOf(n) !== Status.Finished);
        if (blocked || signal.aborted) {
          const reason = blocked
            ? `not run: ${blocked} ${statusOf(blocked)}`
            : crash
              ? `not run: runner crashed: ${crash.message}`
              : 'not run: pipeline canceled';
          records.set(step.name, await cancelUnstarted(o.store, records.get(step.name)!, reason, now));
          say(`step ${step.name}: Canceled (${reason})`);
          continue;
        }
        if (running.size >= limit || !step.needs.every((n) => statusOf(n) === Status.Finished)) continue;
        const done = runOne({ ...o, signal }, step, records.get(step.name)!, run.cwd, say, now).then((r) => void records.set(step.name, r), onCrash);
        running.set(
          step.name,
          done.finally(() => running.delete(step.name)),
        );
      }
      if (crash) throw crash;
      if (running.size === 0) return;
      await Promise.race(running.values());
    }
  } catch (err) {
    stop.abort(new CanceledError(`runner crashed: ${(err as Error).message}`));
    await Promise.allSettled(running.values());
    await recordCrash(run, err as Error);
    throw err;
  }
}

async function recordCrash(run: PipelineRunState, err: Error): Promise<void> {
  const { o, base, now } = run;
  await cancelUnfinished(o.store, base.pipelineRunId, `runner crashed: ${err.message}`, now).catch(() => undefined);
  const error = { code: 'RunnerCrashed', message: err.message };
  await o.store.writePipeline({ ...base, status: Status.Failed, startTime: run.started, endTime: now().toISOString(), error }).catch(() => undefined);
  run.say(`pipeline run ${base.pipelineRunId}: runner crashed: ${err.message}`);
}

/** The pipeline run's own status from its steps' (a failure wins, then a cancel), recorded; what `run` reports. */
async function finishPipeline(run: PipelineRunState): Promise<PipelineResult> {
  const { o, base, records, now } = run;
  const steps = o.pipeline.steps.map((s) => records.get(s.name)!);
  const statuses = steps.map((r) => r.status);
  const status = statuses.includes(Status.Failed) ? Status.Failed : statuses.includes(Status.Canceled) ? Status.Canceled : Status.Finished;
  const failed = steps.find((r) => r.status === Status.Failed);
  await o.store.writePipeline({
    ...base,
    status,
    startTime: run.started,
    endTime: now().toISOString(),
    error: failed ? { code: 'StepFailed', message: `step ${failed.name} failed: ${failed.error?.message ?? ''}`.trim() } : undefined,
  });
  run.say(`pipeline run ${base.pipelineRunId}: ${status}`);
  return {
    pipelineRunId: base.pipelineRunId,
    status,
    steps: steps.map((r) => ({ name: r.name, stepRunId: r.stepRunId, status: r.status, isReused: r.isReused, reusedRunId: r.reusedRunId })),
  };
}

async function runOne(
  o: RunPipelineOptions,
  step: PipelineStep,
  record: StepRecord,
  cwd: string,
  say: (l: string) => void,
  now: () => Date,
): Promise<StepRecord> {
  const fingerprint = step.allowReuse ? await stepFingerprint({ ...step, cwd }) : undefined;
  if (fingerprint) {
    const source = await findReusable(o.store, record.experiment, fingerprint);
    if (source) {
      const reused = await recordReuse(o.store, record, source, now);
      say(`step ${step.name}: reused ${source.stepRunId} of pipeline run ${source.pipelineRunId}`);
      return reused;
    }
  }
  say(`step ${step.name}: running ${record.stepRunId}`);
  const result = await executeStep({
    store: o.store,
    experiment: record.experiment,
    pipelineRunId: record.pipelineRunId,
    stepName: step.name,
    command: { display: step.run, file: '/bin/sh', args: ['-c', step.run] },
    cwd,
    env: step.env,
    outputs: step.outputs,
    requireOutputs: o.requireOutputs || (step.requireOutputs ?? o.pipeline.requireOutputs),
    warn: (line) => say(`step ${step.name}: ${line}`),
    echoStdout: o.echoStdout,
    echoStderr: o.echoStderr,
    signal: o.signal,
    existing: record,
    now,
  });
  say(`step ${step.name}: ${result.status}` + (result.status === Status.Failed ? ` (${result.record.error?.message})` : ''));
  if (fingerprint && result.status === Status.Finished) {
    await rememberReusable(o.store, record.experiment, fingerprint, {
      stepRunId: record.stepRunId,
      pipelineRunId: record.pipelineRunId,
      nodeId: record.nodeId,
    });
  }
  return result.record;
}

/** Records a step as Finished from an earlier run: the seed's reuse, with the earlier run's ids and outputs. */
async function recordReuse(
  store: RunStore,
  record: StepRecord,
  source: { stepRunId: string; pipelineRunId: string; nodeId: string },
  now: () => Date,
): Promise<StepRecord> {
  const original = await store.readStep(source.stepRunId, source.pipelineRunId);
  const dest = store.outputsDir(record.pipelineRunId, record.stepRunId);
  for (const name of Object.keys(original.outputs)) {
    await copyTree(path.join(store.outputsDir(original.pipelineRunId, original.stepRunId), name), path.join(dest, name), { overwrite: true });
  }
  const at = now().toISOString();
  const reused: StepRecord = {
    ...record,
    status: Status.Finished,
    rawStatus: 'Completed',
    startTime: at,
    endTime: at,
    exitCode: 0,
    isReused: true,
    currentNodeId: record.nodeId,
    reusedRunId: source.stepRunId,
    reusedNodeId: source.nodeId,
    reusedPipelineRunId: source.pipelineRunId,
    outputs: original.outputs,
  };
  await store.writeStep(reused);
  await fs.appendFile(
    store.logFile(record.pipelineRunId, record.stepRunId, 'job'),
    `${at} reused step run ${source.stepRunId} of pipeline run ${source.pipelineRunId}\n`,
  );
  return reused;
}

async function cancelUnstarted(store: RunStore, record: StepRecord, reason: string, now: () => Date): Promise<StepRecord> {
  const canceled: StepRecord = {
    ...record,
    status: Status.Canceled,
    rawStatus: 'Canceled',
    endTime: now().toISOString(),
    error: { code: 'NotRun', message: reason },
  };
  await store.writeStep(canceled);
  return canceled;
}

/** After a crash: every step not terminal on disk (never started, or left Running) is recorded Canceled with the reason. */
async function cancelUnfinished(store: RunStore, pipelineRunId: string, reason: string, now: () => Date): Promise<void> {
  const { steps } = await store.readSteps(pipelineRunId);
  for (const step of steps) {
    if (isTerminal(step.status)) continue;
    await store.writeStep({
      ...step,
      status: Status.Canceled,
      rawStatus: 'Canceled',
      endTime: now().toISOString(),
      error: { code: 'RunnerCrashed', message: reason },
    });
  }
}
