// StepRun, StepRunOutput and PortDataReference: the seed's class over any provider.
import type { DownloadOptions, DownloadResult, LogKind, OutputRef, RunError, StepRunSnapshot } from './provider';
import { NotImplementedError, OutputNotFoundError } from './errors';
import type { Experiment } from './workspace';
import type { StepStatus } from './status';
import { waitUntilTerminal, type WaitOptions } from './wait';

/** The seed's optional constructor arguments (`_service_endpoint`, `_is_reused`, ...). */
export interface StepRunOptions {
  serviceEndpoint?: string;
  isReused?: boolean;
  currentNodeId?: string;
  reusedRunId?: string;
  reusedNodeId?: string;
  reusedPipelineRunId?: string;
}

/** Run details with the contents of the log files (`getDetailsWithLogs`). */
export interface StepRunDetails extends StepRunSnapshot {
  logFiles: Record<string, string>;
}

/** A step run of a pipeline run. */
export class StepRun {
  readonly serviceEndpoint?: string;
  readonly isReused: boolean;
  readonly currentNodeId?: string;
  readonly reusedRunId?: string;
  readonly reusedNodeId?: string;
  readonly reusedPipelineRunId?: string;
  /** The step's name in the pipeline, when known (set by PipelineRun.getSteps). */
  name?: string;
  /** The last snapshot this object saw (from getSteps or getSnapshot); getStatus always asks anew. */
  lastSnapshot?: StepRunSnapshot;

  constructor(
    readonly experiment: Experiment,
    readonly stepRunId: string,
    readonly pipelineRunId: string,
    readonly nodeId: string,
    options: StepRunOptions = {},
  ) {
    this.serviceEndpoint = options.serviceEndpoint;
    this.isReused = options.isReused ?? false;
    this.currentNodeId = options.currentNodeId;
    this.reusedRunId = options.reusedRunId;
    this.reusedNodeId = options.reusedNodeId;
    this.reusedPipelineRunId = options.reusedPipelineRunId;
  }

  /** Builds a StepRun from a provider snapshot, carrying its reuse fields. */
  static fromSnapshot(experiment: Experiment, s: StepRunSnapshot): StepRun {
    const run = new StepRun(experiment, s.stepRunId, s.pipelineRunId, s.nodeId, s);
    run.name = s.name;
    run.lastSnapshot = s;
    return run;
  }

  private get ref() {
    return { stepRunId: this.stepRunId, pipelineRunId: this.pipelineRunId, experiment: this.experiment.name };
  }

  /** The latest snapshot from the service. */
  async getSnapshot(): Promise<StepRunSnapshot> {
    this.lastSnapshot = await this.experiment.provider.getStepRun(this.ref);
    this.name = this.lastSnapshot.name;
    return this.lastSnapshot;
  }

  /** The latest status from the service (normalized; the raw one is in getSnapshot()). */
  async getStatus(): Promise<StepStatus> {
    return (await this.getSnapshot()).status;
  }

  /** Waits until the step run is terminal and returns its final status. */
  async waitForCompletion(options: WaitOptions = {}): Promise<StepStatus> {
    let shown = 0;
    return waitUntilTerminal(
      {
        runId: this.stepRunId,
        poll: () => this.getSnapshot(),
        newOutput: async () => {
          const log = await this.getStdoutLog();
          const fresh = log.slice(shown);
          shown = log.length;
          return fresh;
        },
      },
      { pollIntervalMs: this.experiment.workspace.pollIntervalMs, ...options },
    );
  }

  /** Run details including the contents of every log file. */
  async getDetailsWithLogs(): Promise<StepRunDetails> {
    const snapshot = await this.getSnapshot();
    const [job, stdout, stderr] = await Promise.all([this.getJobLog(), this.getStdoutLog(), this.getStderrLog()]);
    return { ...snapshot, logFiles: { job, stdout, stderr } };
  }

  getJobLog(options: { tailBytes?: number } = {}): Promise<string> {
    return this.readLog('job', options);
  }

  getStdoutLog(options: { tailBytes?: number } = {}): Promise<string> {
    return this.readLog('stdout', options);
  }

  getStderrLog(options: { tailBytes?: number } = {}): Promise<string> {
    return this.readLog('stderr', options);
  }

  private readLog(which: LogKind, options: { tailBytes?: number }): Promise<string> {
    return this.experiment.provider.readLog(this.ref, which, options);
  }

  /** Every output of the step, by name. */
  async getOutputs(): Promise<Map<string, StepRunOutput>> {
    const refs = await this.experiment.provider.listOutputs(this.ref);
    return new Map(refs.map((r) => [r.name, new StepRunOutput(this, r)]));
  }

  /** One output by name; OutputNotFoundError names the ones that exist. */
  async getOutput(name: string): Promise<StepRunOutput> {
    const outputs = await this.getOutputs();
    const output = outputs.get(name);
    if (!output) throw new OutputNotFoundError(this.stepRunId, name, [...outputs.keys()]);
    return output;
  }

  /** The data reference of one output: what `download` reads. */
  async getOutputData(name: string): Promise<PortDataReference> {
    return (await this.getOutput(name)).getPortDataReference();
  }

  /** Not implemented for StepRun (as in the seed). */
  childRun(_options?: { name?: string; runId?: string; outputs?: string }): never {
    throw new NotImplementedError('childRun');
  }

  /** Not implemented for StepRun (as in the seed). */
  complete(): never {
    throw new NotImplementedError('complete');
  }

  /** Not implemented for StepRun (as in the seed). */
  fail(_error?: RunError): never {
    throw new NotImplementedError('fail');
  }
}

/** One named output of a step run. */
export class StepRunOutput {
  constructor(
    readonly stepRun: StepRun,
    readonly ref: OutputRef,
  ) {}

  get name(): string {
    return this.ref.name;
  }

  getPortDataReference(): PortDataReference {
    return new PortDataReference(this.stepRun, this.ref);
  }
}

/** Where an output's data lives (datastore + path), and how to download it. */
export class PortDataReference {
  constructor(
    readonly stepRun: StepRun,
    readonly ref: OutputRef,
  ) {}

  get datastoreName(): string {
    return this.ref.datastore;
  }

  get pathOnDatastore(): string {
    return this.ref.pathOnDatastore;
  }

  /** Downloads the data into the folder `localPath`; identical files are skipped, others need `overwrite`. */
  download(localPath: string, options: DownloadOptions = {}): Promise<DownloadResult> {
    return this.stepRun.experiment.provider.download(this.ref, localPath, options);
  }
}
