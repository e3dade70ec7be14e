// steprun-watch status <runId>: show the status of a step run or a pipeline run.
import type { Command } from 'commander';
import { defineCommand, report } from '../command';
import { workspaceOf } from '../context';
import { describePipeline, describeStep } from '../format';
import { openRun, snapshotsOf } from './runs-support';

export function statusCommand(program: Command): void {
  defineCommand(program, 'status <runId>', 'show the status of a step run or a pipeline run', 'steprun-watch status s_0f3a9c2e1b7d4a60 --json').action(
    async (runId: string, _o, cmd: Command) => {
      const { workspace } = await workspaceOf(cmd);
      const run = await openRun(workspace, runId);
      if (run.kind === 'step') return report(cmd, await run.stepRun.getSnapshot(), describeStep);
      const [p, steps] = await Promise.all([run.pipelineRun.getSnapshot(), snapshotsOf(run.pipelineRun)]);
      report(cmd, { ...p, steps }, () => describePipeline(p, steps));
    },
  );
}
