// steprun-watch wait <runId>: wait until a step run or pipeline run ends; exit 0 Finished, 1 Failed, 2 Canceled, 124 timeout.
import type { Command } from 'commander';
import { defineCommand } from '../command';
import { EXIT } from '../../model/error-catalogue';
import { Status } from '../../model/status';
import { globalsOf, workspaceOf } from '../context';
import { printJson } from '../format';
import { parsePositiveNumber } from '../options';
import { openRun } from './runs-support';

export function waitCommand(program: Command): void {
  defineCommand(
    program,
    'wait <runId>',
    'wait until a step run or pipeline run ends; exit 0 Finished, 1 Failed, 2 Canceled, 124 timeout',
    'steprun-watch wait demo_1764070000_a1b2c3 --timeout 3600 && echo done',
  )
    .option('--timeout <seconds>', 'give up after this long', (v) => parsePositiveNumber(v, '--timeout'))
    .option('--interval <seconds>', 'poll interval', (v) => parsePositiveNumber(v, '--interval'), 2)
    .action(async (runId: string, o: { timeout?: number; interval: number }, cmd: Command) => {
      const { workspace } = await workspaceOf(cmd);
      const run = await openRun(workspace, runId);
      const json = globalsOf(cmd).json;
      const options = { timeoutSeconds: o.timeout, raiseOnError: false, showOutput: !json, output: process.stderr, pollIntervalMs: o.interval * 1000 };
      const status = run.kind === 'step' ? await run.stepRun.waitForCompletion(options) : await run.pipelineRun.waitForCompletion(options);
      if (json) printJson({ runId, status });
      process.exitCode = status === Status.Finished ? EXIT.ok : status === Status.Canceled ? EXIT.canceled : EXIT.failed;
    });
}
