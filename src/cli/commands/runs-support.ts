// What the read commands (status, steps, logs, outputs, download, wait) share: opening what a run id names.
import { InvalidInputError } from '../../model/errors';
import { PipelineRun } from '../../model/pipeline-run';
import { StepRun } from '../../model/step-run';
import type { Workspace } from '../../model/workspace';
import { experimentOf } from '../context';

export type Opened = { kind: 'step'; stepRun: StepRun } | { kind: 'pipeline'; pipelineRun: PipelineRun };

/** Finds what an id names and opens it as a StepRun or a PipelineRun. */
export async function openRun(workspace: Workspace, runId: string): Promise<Opened> {
  const at = await workspace.provider.locateRun(runId);
  const experiment = experimentOf(workspace, at.experiment);
  if (at.kind === 'pipeline') return { kind: 'pipeline', pipelineRun: new PipelineRun(experiment, at.pipelineRunId) };
  const snapshot = await workspace.provider.getStepRun(at);
  return { kind: 'step', stepRun: StepRun.fromSnapshot(experiment, snapshot) };
}

export async function openStep(workspace: Workspace, runId: string): Promise<StepRun> {
  const run = await openRun(workspace, runId);
  if (run.kind !== 'step') throw new InvalidInputError(`${runId} is a pipeline run; this command takes a step run id (see: steprun-watch steps ${runId})`);
  return run.stepRun;
}

/** The step runs of a pipeline run as data, from PipelineRun.getSteps (one provider call). */
export async function snapshotsOf(pipelineRun: PipelineRun) {
  return (await pipelineRun.getSteps()).map((s) => s.lastSnapshot!);
}
