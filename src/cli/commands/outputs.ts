// steprun-watch outputs <stepRunId>: list the outputs of a step run.
import type { Command } from 'commander';
import { defineCommand, report } from '../command';
import { workspaceOf } from '../context';
import { table } from '../format';
import { openStep } from './runs-support';

export function outputsCommand(program: Command): void {
  defineCommand(program, 'outputs <stepRunId>', 'list the outputs of a step run', 'steprun-watch outputs s_0f3a9c2e1b7d4a60').action(
    async (stepRunId: string, _o, cmd: Command) => {
      const { workspace } = await workspaceOf(cmd);
      const step = await openStep(workspace, stepRunId);
      const outputs = [...(await step.getOutputs()).values()].map((o) => {
        const ref = o.getPortDataReference();
        return { name: o.name, datastore: ref.datastoreName, pathOnDatastore: ref.pathOnDatastore };
      });
      report(cmd, { stepRunId, outputs }, () =>
        outputs.length === 0
          ? `step run ${stepRunId} has no outputs\n`
          : table([['OUTPUT', 'DATASTORE', 'PATH'], ...outputs.map((o) => [o.name, o.datastore, o.pathOnDatastore])]),
      );
    },
  );
}
