// The RunProvider interface: what the model and the watcher may ask of any run service.
import type { ContainerClient } from '@azure/storage-blob';
import type { StepStatus } from './status';

/** Names a step run. Providers that can find a step run by its id alone accept the other fields as hints. */
export interface StepRunRef {
  stepRunId: string;
  pipelineRunId?: string;
  experiment?: string;
}

export interface PipelineRunRef {
  pipelineRunId: string;
  experiment?: string;
}

export interface ExperimentRef {
  experiment: string;
}

export interface RunError {
  code: string;
  message: string;
}

/** What a reused step run points back to (the seed's `_reused_*` arguments). */
export interface ReuseInfo {
  isReused: boolean;
  currentNodeId?: string;
  reusedRunId?: string;
  reusedNodeId?: string;
  reusedPipelineRunId?: string;
}

/** Where a run (step or pipeline) stands: its status as normalized and as the service said it, its times (ISO-8601), its error. */
export interface RunState {
  status: StepStatus;
  rawStatus: string;
  createdTime?: string;
  startTime?: string;
  endTime?: string;
  error?: RunError;
}

/** One observation of a step run, as a provider reports it. */
export interface StepRunSnapshot extends RunState, ReuseInfo {
  stepRunId: string;
  pipelineRunId: string;
  experiment: string;
  nodeId: string;
  name: string;
  outputNames: string[];
  logNames: string[];
  /** The steps (by name) this one waits for, where the provider knows the graph (local `run`); the dashboard draws it. */
  needs?: string[];
}

export interface PipelineRunSnapshot extends RunState {
  pipelineRunId: string;
  experiment: string;
  /** What stays the same across runs of one pipeline (a display name, a published pipeline id, a file name). */
  name?: string;
  /**
   * The run has no terminal status of its own (a local run made by `exec`): its status is derived from
   * its steps, and it may still gain steps after they all ended. The watcher keeps it for a grace period.
   */
  open?: boolean;
}

/** A step run the provider knows of but cannot read (a corrupt record): it fails alone, never its siblings. */
export interface UnreadableStepRun {
  stepRunId: string;
  error: RunError;
}

/** Every step of a pipeline run, in one answer: the readable ones, and the ones that could not be read. */
export interface StepRunListing {
  steps: StepRunSnapshot[];
  unreadable: UnreadableStepRun[];
}

export interface ListPipelineRunsOptions {
  /** Runs created at or after this time. */
  since?: Date;
  /** Also every run not yet terminal, whatever its creation time. */
  active?: boolean;
}

/** A link to a run in its service's UI. */
export interface RunLink {
  label: string;
  url: string;
}

/** Where a run id leads: a pipeline run or one of its step runs. */
export type RunLocation =
  { kind: 'pipeline'; experiment: string; pipelineRunId: string } | { kind: 'step'; experiment: string; pipelineRunId: string; stepRunId: string };

export type LogKind = 'job' | 'stdout' | 'stderr';

export interface ReadLogOptions {
  /** Return at most the last N bytes (cut at a line start where possible). */
  tailBytes?: number;
}

/** The data behind one output of a step run: enough for the provider to download it. */
export interface OutputRef {
  stepRunId: string;
  pipelineRunId: string;
  experiment: string;
  name: string;
  /** Where the data lives, in the provider's own terms (a folder, a datastore name). */
  datastore: string;
  pathOnDatastore: string;
}

export interface DownloadOptions {
  overwrite?: boolean;
  onProgress?(doneBytes: number, totalBytes?: number): void;
  signal?: AbortSignal;
}

export interface DownloadedFile {
  /** Path relative to the download folder, with `/` separators. */
  path: string;
  size: number;
  /** The MD5 (hex) the service holds and the file was checked against, when it has one (Azure's Content-MD5). */
  md5?: string;
  /** The file's SHA-256 (hex), when the download computed it on the way (it saves reading the file again). */
  sha256?: string;
}

export interface DownloadResult {
  localPath: string;
  files: DownloadedFile[];
  bytes: number;
}

/** A blob container and a prefix (ending in `/`) to copy an output under. */
export interface BlobTarget {
  container: ContainerClient;
  prefix: string;
}

/** What a copy put where: files relative to the target's prefix. */
export interface CopyResult {
  files: DownloadedFile[];
  bytes: number;
}

/**
 * A run service. Implementations know nothing of Redis or BullMQ; the watcher calls
 * `listStepRuns` once per pipeline run per poll, so it must answer for every step in one call
 * (plus paging) where the service allows.
 */
export interface RunProvider {
  readonly kind: string;
  /**
   * Its calls spend a request budget shared with other processes (Azure ML's): the daemon then queues its polls one
   * per job, so that they wait for the budget one by one in due order (polls sharing a job took unequal shares of a
   * short budget).
   */
  readonly metered?: boolean;
  getStepRun(ref: StepRunRef): Promise<StepRunSnapshot>;
  getPipelineRun(ref: PipelineRunRef): Promise<PipelineRunSnapshot>;
  /** Every step of the pipeline run; one unreadable step is listed as such, it does not fail the call. */
  listStepRuns(ref: PipelineRunRef): Promise<StepRunListing>;
  /**
   * Pipeline runs of an experiment, oldest first: created at or after `since` when given, plus (with
   * `active`) every run not yet terminal. One unreadable run does not fail the call: it is listed with
   * status NotStarted and its `error`, so its own track reports it.
   */
  listPipelineRuns(exp: ExperimentRef, opts?: ListPipelineRunsOptions): Promise<PipelineRunSnapshot[]>;
  /** What an id names, when the caller does not know whether it is a pipeline or a step run. */
  locateRun(runId: string): Promise<RunLocation>;
  readLog(ref: StepRunRef, which: LogKind, opts?: ReadLogOptions): Promise<string>;
  listOutputs(ref: StepRunRef): Promise<OutputRef[]>;
  download(output: OutputRef, localPath: string, opts?: DownloadOptions): Promise<DownloadResult>;
  /**
   * Copies an output into a blob container without its bytes passing through this process, where the service can
   * (Azure: a server-side copy); undefined when it cannot for this output (the caller downloads and uploads).
   */
  copyToBlobs?(output: OutputRef, target: BlobTarget, opts?: { signal?: AbortSignal }): Promise<CopyResult | undefined>;
  /** Where a person sees the run in the service's own UI (pure: no call); none when the service has no UI. */
  linksFor?(ref: { pipelineRunId: string; stepRunId?: string }): RunLink[];
  /**
   * The provider's change feed, when it has one: `onChange` is called with each run that changed, and resolves once
   * the hint is recorded (a durable feed acknowledges its message only then). A change is a hint to look now, not a
   * fact: it may be late, repeated or missing, and polling stays the authority. Resolves to the function that stops the feed.
   */
  watchChanges?(onChange: (run: ChangedRun) => Promise<void>, onError: (err: Error) => void): Promise<() => Promise<void>>;
  /** Releases sockets and timers. */
  close?(): Promise<void>;
}

/** A run a change feed says changed; any id may be missing (more ids find more of the tracks watching it). */
export interface ChangedRun {
  experiment?: string;
  pipelineRunId?: string;
  stepRunId?: string;
}

/**
 * A request budget shared by every process watching the same service (the daemon backs it with Redis).
 * `acquire` resolves when one more request may be sent.
 */
export interface RequestBudget {
  acquire(signal?: AbortSignal): Promise<void>;
}
