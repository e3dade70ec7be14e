// PipelineRun: a run of a pipeline and its step runs (the seed's `PipelineRun(experiment, id)`).
import type { PipelineRunSnapshot } from './provider';
import { SrwError, type ErrorCode } from './errors';
import type { StepStatus } from './status';
import { StepRun } from './step-run';
import { waitUntilTerminal, type WaitOptions } from './wait';
import type { Experiment } from './workspace';

export class PipelineRun {
  constructor(
    readonly experiment: Experiment,
    readonly pipelineRunId: string,
  ) {}

  private get ref() {
    return { pipelineRunId: this.pipelineRunId, experiment: this.experiment.name };
  }

  async getSnapshot(): Promise<PipelineRunSnapshot> {
    return this.experiment.provider.getPipelineRun(this.ref);
  }

  async getStatus(): Promise<StepStatus> {
    return (await this.getSnapshot()).status;
  }

  /** Every step run of this pipeline run, from one provider call. */
  async getSteps(): Promise<StepRun[]> {
    const { steps, unreadable } = await this.experiment.provider.listStepRuns(this.ref);
    // The model promises every step: one that cannot be read is an error here, with its own code and message.
    if (unreadable[0]) throw new SrwError(unreadable[0].error.code as ErrorCode, unreadable[0].error.message);
    return steps.map((s) => StepRun.fromSnapshot(this.experiment, s));
  }

  /** The step runs with this name (a list, as in the seed: a name can appear more than once). */
  async findStepRun(name: string): Promise<StepRun[]> {
    return (await this.getSteps()).filter((s) => s.name === name);
  }

  async waitForCompletion(options: WaitOptions = {}): Promise<StepStatus> {
    return waitUntilTerminal(
      { runId: this.pipelineRunId, poll: () => this.getSnapshot() },
      { pollIntervalMs: this.experiment.workspace.pollIntervalMs, ...options },
    );
  }
}
