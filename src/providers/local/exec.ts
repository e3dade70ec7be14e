// Runs one command as a step run of the local store: lifecycle records, teed logs, captured outputs.
import { spawn } from 'node:child_process';
import { createWriteStream, promises as fs, type WriteStream } from 'node:fs';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { copyTree } from '../../fs/copy-tree';
import { assertSafeName } from '../../fs/safe-path';
import { UnsafePathError } from '../../model/errors';
import { Status, type StepStatus } from '../../model/status';
import type { StepRecord } from './records';
import { newStepRunId, nodeIdFor, type RunStore } from './store';

export interface StepCommand {
  /** Shown in records and logs. */
  display: string;
  file: string;
  args: string[];
}

export interface ExecuteStepOptions {
  store: RunStore;
  experiment: string;
  pipelineRunId: string;
  stepName: string;
  command: StepCommand;
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Output name -> path (relative to cwd) captured into the store when the step ends. */
  outputs?: Record<string, string>;
  /** A declared output that is missing (or cannot be captured) fails a step that would have Finished. */
  requireOutputs?: boolean;
  /** Told what the person running it must know (a missing output), besides the job log: the CLI's stderr. */
  warn?(line: string): void;
  /** Where the command's own stdout/stderr are echoed (the terminal); the logs get them anyway. */
  echoStdout?: Writable;
  echoStderr?: Writable;
  /** Aborting cancels the step: the child is stopped and the step recorded Canceled. */
  signal?: AbortSignal;
  /** A record made beforehand (NotStarted) by the pipeline runner. */
  existing?: StepRecord;
  now?: () => Date;
}

export interface StepResult {
  stepRunId: string;
  pipelineRunId: string;
  status: StepStatus;
  exitCode: number;
  record: StepRecord;
}

/** Grace period between SIGTERM and SIGKILL when a step is canceled. */
const KILL_GRACE_MS = 5000;

/** Makes the NotStarted record of a step run (the pipeline runner writes these up front). */
export function newStepRecord(o: {
  experiment: string;
  pipelineRunId: string;
  stepName: string;
  command: string;
  outputs?: Record<string, string>;
  now: Date;
}): StepRecord {
  for (const name of Object.keys(o.outputs ?? {})) assertSafeName(name, 'output name');
  const nodeId = nodeIdFor(o.experiment, o.stepName);
  return {
    schema: 1,
    stepRunId: newStepRunId(),
    pipelineRunId: o.pipelineRunId,
    experiment: o.experiment,
    nodeId,
    name: o.stepName,
    status: Status.NotStarted,
    rawStatus: 'NotStarted',
    createdTime: o.now.toISOString(),
    command: o.command,
    isReused: false,
    currentNodeId: nodeId,
    outputs: {},
  };
}

export async function executeStep(o: ExecuteStepOptions): Promise<StepResult> {
  const now = o.now ?? (() => new Date());
  let record =
    o.existing ??
    newStepRecord({
      experiment: o.experiment,
      pipelineRunId: o.pipelineRunId,
      stepName: o.stepName,
      command: o.command.display,
      outputs: o.outputs,
      now: now(),
    });
  await o.store.writeStep(record);
  const dir = o.store.stepDir(record.pipelineRunId, record.stepRunId);
  const jobLog = await openLog(path.join(dir, 'job.log'));
  const logJob = (line: string): void => void jobLog.write(`${now().toISOString()} ${line}\n`);
  logJob(`step ${record.name} (${record.stepRunId}) of pipeline run ${record.pipelineRunId}: ${o.command.display}`);

  if (o.signal?.aborted) {
    return finish(o, record, jobLog, logJob, {
      status: Status.Canceled,
      exitCode: 130,
      error: { code: 'Canceled', message: `${cancelReason(o.signal)} (before it started)` },
    });
  }
  // Opened before the child starts: a failure to open (EMFILE) is an error of this call, not a crash of the process.
  let logs: { stdout: WriteStream; stderr: WriteStream };
  try {
    logs = { stdout: await openLog(path.join(dir, 'stdout.log')), stderr: await openLog(path.join(dir, 'stderr.log')) };
  } catch (err) {
    await closeStream(jobLog);
    throw err;
  }
  const outcome = await runChild(o, record, logs, logJob, async (pid) => {
    record = { ...record, status: Status.Running, rawStatus: 'Running', startTime: now().toISOString() };
    await o.store.writeStep(record);
    logJob(`status Running (pid ${pid})`);
  });
  return finish(o, record, jobLog, logJob, outcome);
}

interface ChildOutcome {
  status: StepStatus;
  exitCode: number;
  error?: { code: string; message: string };
}

/** The command's environment: ours, the step's own, and who it is (SRW_STEP_RUN_ID, …). */
function stepEnv(o: ExecuteStepOptions, record: StepRecord): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...o.env,
    SRW_STEP_RUN_ID: record.stepRunId,
    SRW_PIPELINE_RUN_ID: record.pipelineRunId,
    SRW_STEP_NAME: record.name,
    SRW_EXPERIMENT: record.experiment,
  };
}

function runChild(
  o: ExecuteStepOptions,
  record: StepRecord,
  logs: { stdout: WriteStream; stderr: WriteStream },
  logJob: (line: string) => void,
  onStarted: (pid: number) => Promise<void>,
): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    const { stdout: stdoutLog, stderr: stderrLog } = logs;
    // Its own process group, so a cancel reaches the whole tree (a shell's children too), not just the shell.
    const child = spawn(o.command.file, o.command.args, { cwd: o.cwd, env: stepEnv(o, record), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const signalGroup = (sig: NodeJS.Signals): void => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        // The group is gone already.
      }
    };
    let canceled = false;
    let started: Promise<void> = Promise.resolve();
    let killTimer: NodeJS.Timeout | undefined;
    const cancel = (): void => {
      canceled = true;
      logJob('cancel requested: sending SIGTERM');
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };
    o.signal?.addEventListener('abort', cancel, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutLog.write(chunk);
      o.echoStdout?.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderrLog.write(chunk);
      o.echoStderr?.write(chunk);
    });
    child.once('spawn', () => {
      started = onStarted(child.pid ?? 0);
    });
    const done = (outcome: ChildOutcome): void => {
      clearTimeout(killTimer);
      o.signal?.removeEventListener('abort', cancel);
      void Promise.all([started.catch(() => undefined), closeStream(stdoutLog), closeStream(stderrLog)]).then(() => resolve(outcome));
    };
    child.once('error', (err) => {
      done({ status: Status.Failed, exitCode: 127, error: { code: 'SpawnFailed', message: `could not start ${o.command.file}: ${err.message}` } });
    });
    child.once('close', (code, signal) => {
      if (canceled) return done({ status: Status.Canceled, exitCode: 130, error: { code: 'Canceled', message: cancelReason(o.signal) } });
      if (code === 0) return done({ status: Status.Finished, exitCode: 0 });
      const exitCode = code ?? 128 + signalNumber(signal);
      const message = code !== null ? `exited with code ${code}` : `killed by ${signal}`;
      done({ status: Status.Failed, exitCode, error: { code: code !== null ? `ExitCode${code}` : `Signal${signal}`, message } });
    });
  });
}

async function finish(
  o: ExecuteStepOptions,
  record: StepRecord,
  jobLog: WriteStream,
  logJob: (line: string) => void,
  outcome: ChildOutcome,
): Promise<StepResult> {
  const now = o.now ?? (() => new Date());
  // Only a Finished step's outputs are kept: a failed step may leave stale files from an earlier run.
  const { captured: outputs, missing } = outcome.status === Status.Finished ? await captureOutputs(o, record, logJob) : { captured: {}, missing: [] };
  if (outcome.status !== Status.Finished && Object.keys(o.outputs ?? {}).length) logJob(`outputs not captured: step ${outcome.status}`);
  for (const line of missing) o.warn?.(line);
  if (missing.length > 0 && o.requireOutputs) {
    const message = `required output${missing.length > 1 ? 's' : ''} missing: ${missing.join('; ')}`;
    outcome = { status: Status.Failed, exitCode: 1, error: { code: 'OutputMissing', message } };
  }
  const final: StepRecord = {
    ...record,
    status: outcome.status,
    rawStatus: outcome.status,
    endTime: now().toISOString(),
    exitCode: outcome.exitCode,
    error: outcome.error,
    outputs,
  };
  await o.store.writeStep(final);
  logJob(`status ${outcome.status} (exit code ${outcome.exitCode})`);
  await closeStream(jobLog);
  return { stepRunId: final.stepRunId, pipelineRunId: final.pipelineRunId, status: final.status, exitCode: outcome.exitCode, record: final };
}

/**
 * Copies each declared output into the store as an independent copy; a missing one is noted, not fatal.
 * The path is resolved through every link first: what it really names must lie inside the step's working folder.
 */
async function captureOutputs(
  o: ExecuteStepOptions,
  record: StepRecord,
  logJob: (line: string) => void,
): Promise<{ captured: Record<string, string>; missing: string[] }> {
  const captured: Record<string, string> = {};
  const missing: string[] = [];
  const root = await fs.realpath(o.cwd);
  for (const [name, declared] of Object.entries(o.outputs ?? {})) {
    const real = await fs.realpath(path.resolve(o.cwd, declared)).catch(() => undefined);
    if (!real) {
      logJob(`output ${name}: ${declared} does not exist, not captured`);
      missing.push(`output ${name}: ${declared} does not exist, not captured`);
      continue;
    }
    try {
      if (real !== root && !real.startsWith(root + path.sep)) throw new UnsafePathError(declared, `resolves to ${real}, outside the step's folder ${root}`);
      const files = await copyTree(real, path.join(o.store.outputsDir(record.pipelineRunId, record.stepRunId), name), { overwrite: true });
      captured[name] = declared;
      logJob(`output ${name}: captured ${files.length} file(s) from ${declared}`);
    } catch (err) {
      logJob(`output ${name}: not captured: ${(err as Error).message}`);
      missing.push(`output ${name}: not captured: ${(err as Error).message}`);
    }
  }
  return { captured, missing };
}

/** An append stream that is open (or an error now); a later write error is kept quiet rather than crash the process. */
function openLog(file: string): Promise<WriteStream> {
  return new Promise((resolve, reject) => {
    const stream = createWriteStream(file, { flags: 'a' });
    stream.once('open', () => {
      stream.off('error', reject);
      stream.on('error', () => undefined); // the log is best effort once the step runs; its record is what counts
      resolve(stream);
    });
    stream.once('error', reject);
  });
}

/** Ctrl-C and SIGTERM cancel "by the user"; a runner that stops its steps says why (its abort reason). */
function cancelReason(signal?: AbortSignal): string {
  const reason: unknown = signal?.reason;
  const text = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : '';
  return text && !/^SIG[A-Z]+$/.test(text) && !/aborted/i.test(text) ? `canceled: ${text}` : 'canceled by the user';
}

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve) => stream.end(() => resolve()));
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15, SIGSEGV: 11, SIGABRT: 6 };
  return (signal && numbers[signal]) || 1;
}
