// steprun-watch download <stepRunId> <output> <path>: download one output of a step run into a folder.
import type { Command } from 'commander';
import { downloadTargetError } from '../../fs/target-errors';
import { defineCommand } from '../command';
import { globalsOf, workspaceOf } from '../context';
import { printJson } from '../format';
import { progressBar } from '../progress';
import { openStep } from './runs-support';

export function downloadCommand(program: Command): void {
  defineCommand(
    program,
    'download <stepRunId> <output> <path>',
    'download one output of a step run into a folder',
    'steprun-watch download s_0f3a9c2e1b7d4a60 model ./model',
  )
    .option('--overwrite', 'replace existing files whose content differs')
    .action(async (stepRunId: string, output: string, localPath: string, o: { overwrite?: boolean }, cmd: Command) => {
      const { workspace } = await workspaceOf(cmd);
      const step = await openStep(workspace, stepRunId);
      const data = await step.getOutputData(output);
      const bar = globalsOf(cmd).json ? undefined : progressBar(`${output}`);
      const result = await data.download(localPath, { overwrite: o.overwrite, onProgress: bar?.update }).catch((err: unknown) => {
        throw downloadTargetError(err, localPath) ?? err;
      });
      bar?.done();
      if (globalsOf(cmd).json) return printJson({ stepRunId, output, ...result });
      process.stderr.write(`downloaded ${result.files.length} file(s), ${result.bytes} bytes into ${result.localPath}\n`);
    });
}
