// steprun-watch steps <pipelineRunId>: list the step runs of a pipeline run.
import type { Command } from 'commander';
import { defineCommand, report } from '../command';
import { InvalidInputError } from '../../model/errors';
import { PipelineRun } from '../../model/pipeline-run';
import { experimentOf, workspaceOf } from '../context';
import { stepsTable } from '../format';
import { snapshotsOf } from './runs-support';

export function stepsCommand(program: Command): void {
  defineCommand(program, 'steps <pipelineRunId>', 'list the step runs of a pipeline run', 'steprun-watch steps demo_1764070000_a1b2c3 --json').action(
    async (pipelineRunId: string, _o, cmd: Command) => {
      const { workspace } = await workspaceOf(cmd);
      const at = await workspace.provider.locateRun(pipelineRunId);
      if (at.kind !== 'pipeline') throw new InvalidInputError(`${pipelineRunId} is a step run of pipeline run ${at.pipelineRunId}`);
      const snapshots = await snapshotsOf(new PipelineRun(experimentOf(workspace, at.experiment), pipelineRunId));
      report(cmd, { pipelineRunId, steps: snapshots }, () => stepsTable(snapshots));
    },
  );
}
