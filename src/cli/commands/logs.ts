// steprun-watch logs <stepRunId>: print a step run's stderr, stdout or job log (default: stdout).
import type { Command } from 'commander';
import { defineCommand, report } from '../command';
import { workspaceOf } from '../context';
import { parsePositiveInt } from '../options';
import { openStep } from './runs-support';

export function logsCommand(program: Command): void {
  defineCommand(
    program,
    'logs <stepRunId>',
    "print a step run's stderr, stdout or job log (default: stdout)",
    'steprun-watch logs s_0f3a9c2e1b7d4a60 --stderr --tail 20',
  )
    .option('--stdout', 'the standard output log (default)')
    .option('--stderr', 'the standard error log')
    .option('--job', 'the job (lifecycle) log')
    .option('--tail <lines>', 'only the last N lines', (v) => parsePositiveInt(v, '--tail'))
    .action(async (stepRunId: string, o: { stderr?: boolean; job?: boolean; tail?: number }, cmd: Command) => {
      const { workspace } = await workspaceOf(cmd);
      const step = await openStep(workspace, stepRunId);
      const which = o.stderr ? 'stderr' : o.job ? 'job' : 'stdout';
      const tailBytes = o.tail ? Math.max(o.tail * 400, 4096) : undefined;
      let text =
        which === 'stderr'
          ? await step.getStderrLog({ tailBytes })
          : which === 'job'
            ? await step.getJobLog({ tailBytes })
            : await step.getStdoutLog({ tailBytes });
      if (o.tail) text = lastLines(text, o.tail);
      report(cmd, { stepRunId, log: which, text }, () => text);
    });
}

function lastLines(text: string, n: number): string {
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  const kept = lines.slice(-n).join('\n');
  return kept ? kept + '\n' : '';
}
