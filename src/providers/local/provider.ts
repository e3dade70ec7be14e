// The local provider: answers the model's questions from the file run store.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { copyTree } from '../../fs/copy-tree';
import { assertSafeName, resolveInside } from '../../fs/safe-path';
import { isSrwError, OutputNotFoundError, UnsafePathError } from '../../model/errors';
import { isTerminal, Status, type StepStatus } from '../../model/status';
import { watchChanges } from './change-feed';
import { canReadInThread, ThreadedReader, type RecordReader } from './record-reader';
import { SettledRuns } from './settled-runs';
import type {
  ChangedRun,
  DownloadOptions,
  DownloadResult,
  ExperimentRef,
  ListPipelineRunsOptions,
  LogKind,
  OutputRef,
  PipelineRunRef,
  PipelineRunSnapshot,
  ReadLogOptions,
  RunLocation,
  RunProvider,
  StepRunListing,
  StepRunRef,
  StepRunSnapshot,
} from '../../model/provider';
import type { PipelineRecord, StepRecord } from './records';
import { LOG_FILES, RunStore } from './store';

export interface LocalProviderOptions {
  /** The run store folder (`<data-dir>/runs`). */
  root: string;
  /** Polls read records in a thread of their own (record-reader.ts): for the daemon, not a one-shot command. */
  readInThread?: boolean;
}

export class LocalProvider implements RunProvider {
  readonly kind = 'local';
  readonly store: RunStore;
  /** Records reused while a run's change marker stands still (settled-runs.ts): a quiet run's poll is one stat. */
  private readonly settled: SettledRuns;
  /** Where polls read records: the store, or a thread reading it. */
  private readonly reader: RecordReader;

  constructor(options: LocalProviderOptions) {
    this.store = new RunStore(options.root);
    this.reader = options.readInThread && canReadInThread() ? new ThreadedReader(this.store.root) : this.store;
    this.settled = new SettledRuns(this.reader);
  }

  async close(): Promise<void> {
    await this.reader.close?.();
  }

  async getStepRun(ref: StepRunRef): Promise<StepRunSnapshot> {
    return toStepSnapshot(await this.store.readStep(ref.stepRunId, ref.pipelineRunId));
  }

  async getPipelineRun(ref: PipelineRunRef): Promise<PipelineRunSnapshot> {
    const record = await this.settled.pipeline(ref.pipelineRunId, ref.experiment);
    const listing = record.status === null ? await this.settled.steps(ref.pipelineRunId, ref.experiment) : { steps: [], unreadable: [] };
    return toPipelineSnapshot(record, listing.steps, listing.unreadable.length > 0);
  }

  async listStepRuns(ref: PipelineRunRef): Promise<StepRunListing> {
    const { steps, unreadable } = await this.settled.steps(ref.pipelineRunId, ref.experiment);
    return {
      steps: steps.map(toStepSnapshot),
      unreadable: unreadable.map((u) => ({ stepRunId: u.stepRunId, error: { code: u.error.code, message: u.error.message } })),
    };
  }

  async listPipelineRuns(exp: ExperimentRef, opts: ListPipelineRunsOptions = {}): Promise<PipelineRunSnapshot[]> {
    const sinceMs = opts.since?.getTime() ?? 0;
    // The markers carry the creation time: with `active`, every run is read to learn its status.
    const markers = await this.store.pipelineMarkersOf(exp.experiment, opts.active ? 0 : sinceMs);
    const runs: PipelineRunSnapshot[] = [];
    for (const { pipelineRunId, createdMs } of markers) {
      let run: PipelineRunSnapshot;
      try {
        run = await this.getPipelineRun({ pipelineRunId });
      } catch (err) {
        if (!isSrwError(err) || err.code === 'SRW_RUN_NOT_FOUND') throw err;
        // Unreadable: listed all the same, so that its own track says which file is wrong.
        const createdTime = new Date(createdMs).toISOString();
        run = {
          pipelineRunId,
          experiment: exp.experiment,
          status: Status.NotStarted,
          rawStatus: 'Unreadable',
          createdTime,
          error: { code: err.code, message: err.message },
        };
      }
      if (createdMs >= sinceMs || !isTerminal(run.status)) runs.push(run);
    }
    return runs;
  }

  async locateRun(runId: string): Promise<RunLocation> {
    if (await this.store.isStep(runId)) {
      const step = await this.store.readStep(runId);
      return { kind: 'step', experiment: step.experiment, pipelineRunId: step.pipelineRunId, stepRunId: runId };
    }
    const pipeline = await this.store.readPipeline(runId);
    return { kind: 'pipeline', experiment: pipeline.experiment, pipelineRunId: runId };
  }

  async readLog(ref: StepRunRef, which: LogKind, opts: ReadLogOptions = {}): Promise<string> {
    const step = await this.store.readStep(ref.stepRunId, ref.pipelineRunId);
    const file = this.store.logFile(step.pipelineRunId, step.stepRunId, which);
    return readTail(file, opts.tailBytes);
  }

  /** The run store's change feed: a marker per pipeline run, rewritten on each write (change-feed.ts). */
  watchChanges(onChange: (run: ChangedRun) => Promise<void>, onError: (err: Error) => void): Promise<() => Promise<void>> {
    return watchChanges(this.store.root, onChange, onError);
  }

  async listOutputs(ref: StepRunRef): Promise<OutputRef[]> {
    const step = await this.store.readStep(ref.stepRunId, ref.pipelineRunId);
    const root = this.store.outputsDir(step.pipelineRunId, step.stepRunId);
    // Names come from a record on disk: one edited to `../../etc/x` must not lead a download out of the store.
    return Object.keys(step.outputs)
      .map((name) => assertSafeName(name, 'output name'))
      .sort()
      .map((name) => ({
        stepRunId: step.stepRunId,
        pipelineRunId: step.pipelineRunId,
        experiment: step.experiment,
        name,
        datastore: 'local',
        pathOnDatastore: path.relative(this.store.root, path.join(root, name)),
      }));
  }

  async download(output: OutputRef, localPath: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
    const source = resolveInside(this.store.root, output.pathOnDatastore);
    if (!(await exists(source))) {
      throw new OutputNotFoundError(output.stepRunId, output.name, []);
    }
    const real = await fs.realpath(source);
    const root = await fs.realpath(this.store.root);
    if (!real.startsWith(root + path.sep)) throw new UnsafePathError(output.pathOnDatastore, `resolves to ${real}, outside the run store`);
    const total = await treeSize(source);
    let done = 0;
    const files = await copyTree(source, localPath, {
      overwrite: opts.overwrite,
      onFile: (f) => {
        done += f.size;
        opts.onProgress?.(done, total);
      },
    });
    return { localPath: path.resolve(localPath), files, bytes: done };
  }
}

export function toStepSnapshot(r: StepRecord): StepRunSnapshot {
  return {
    stepRunId: r.stepRunId,
    pipelineRunId: r.pipelineRunId,
    experiment: r.experiment,
    nodeId: r.nodeId,
    name: r.name,
    status: r.status,
    rawStatus: r.rawStatus,
    createdTime: r.createdTime,
    startTime: r.startTime,
    endTime: r.endTime,
    error: r.error,
    isReused: r.isReused,
    currentNodeId: r.currentNodeId,
    reusedRunId: r.reusedRunId,
    reusedNodeId: r.reusedNodeId,
    reusedPipelineRunId: r.reusedPipelineRunId,
    outputNames: Object.keys(r.outputs).sort(),
    logNames: Object.values(LOG_FILES),
    ...(r.needs ? { needs: r.needs } : {}),
  };
}

/** An open run (made by `exec`) has its status derived from its steps; an unreadable step keeps it from looking done. */
function toPipelineSnapshot(r: PipelineRecord, steps: StepRecord[], someUnreadable = false): PipelineRunSnapshot {
  const derived = r.status ?? deriveStatus(steps.map((s) => s.status));
  const status = someUnreadable && isTerminal(derived) ? Status.Running : derived;
  return {
    pipelineRunId: r.pipelineRunId,
    experiment: r.experiment,
    name: r.name ?? r.experiment,
    status,
    rawStatus: status,
    createdTime: r.createdTime,
    startTime:
      r.startTime ??
      steps
        .map((s) => s.startTime)
        .filter(Boolean)
        .sort()[0],
    endTime:
      r.endTime ??
      (isTerminal(status)
        ? steps
            .map((s) => s.endTime ?? '')
            .sort()
            .at(-1)
        : undefined),
    error: r.error ?? steps.find((s) => s.status === Status.Failed)?.error,
    ...(r.status === null ? { open: true } : {}),
  };
}

/** The status of an open pipeline run (made by `exec`): what its steps say together. */
export function deriveStatus(steps: StepStatus[]): StepStatus {
  if (steps.length === 0) return Status.NotStarted;
  if (!steps.every(isTerminal)) {
    return steps.some((s) => s === Status.Running || isTerminal(s)) ? Status.Running : steps.includes(Status.Queued) ? Status.Queued : Status.NotStarted;
  }
  if (steps.includes(Status.Failed)) return Status.Failed;
  if (steps.includes(Status.Canceled)) return Status.Canceled;
  return Status.Finished;
}

async function readTail(file: string, tailBytes?: number): Promise<string> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
  try {
    const { size } = await handle.stat();
    const start = tailBytes !== undefined && tailBytes < size ? size - tailBytes : 0;
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    let text = buffer.toString('utf8');
    if (start > 0) {
      const firstBreak = text.indexOf('\n');
      if (firstBreak >= 0 && firstBreak < text.length - 1) text = text.slice(firstBreak + 1);
    }
    return text;
  } finally {
    await handle.close();
  }
}

async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(
    () => true,
    () => false,
  );
}

async function treeSize(p: string): Promise<number> {
  const stat = await fs.lstat(p);
  if (stat.isFile()) return stat.size;
  if (!stat.isDirectory()) return 0;
  let total = 0;
  for (const name of await fs.readdir(p)) total += await treeSize(path.join(p, name));
  return total;
}
