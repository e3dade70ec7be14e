// Read commands over the object model: status, steps, logs, outputs, download, wait.
import type { Command } from 'commander';
import { downloadTargetError } from '../../fs/target-errors';
import { defineCommand, report } from '../command';
import { EXIT } from '../exit-codes';
import { InvalidInputError } from '../../model/errors';
import { PipelineRun } from '../../model/pipeline-run';
import { Status } from '../../model/status';
import { StepRun } from '../../model/step-run';
import type { Workspace } from '../../model/workspace';
import { experimentOf, globalsOf, workspaceOf } from '../context';
import { describePipeline, describeStep, printJson, stepsTable, table } from '../format';
import { parsePositiveInt, parsePositiveNumber } from '../options';
import { progressBar } from '../progress';

type Opened = { kind: 'step'; stepRun: StepRun } | { kind: 'pipeline'; pipelineRun: PipelineRun };

/** Finds what an id names and opens it as a StepRun or a PipelineRun. */
async function openRun(workspace: Workspace, runId: string): Promise<Opened> {
  const at = await workspace.provider.locateRun(runId);
  const experiment = experimentOf(workspace, at.experiment);
  if (at.kind === 'pipeline') return { kind: 'pipeline', pipelineRun: new PipelineRun(experiment, at.pipelineRunId) };
  const snapshot = await workspace.provider.getStepRun(at);
  return { kind: 'step', stepRun: StepRun.fromSnapshot(experiment, snapshot) };
}

async function openStep(workspace: Workspace, runId: string): Promise<StepRun> {
  const run = await openRun(workspace, runId);
  if (run.kind !== 'step') throw new InvalidInputError(`${runId} is a pipeline run; this command takes a step run id (see: steprun-watch steps ${runId})`);
  return run.stepRun;
}

export function registerRunCommands(program: Command): void {
  statusCommand(program);
  stepsCommand(program);
  logsCommand(program);
  outputsCommand(program);
  downloadCommand(program);
  waitCommand(program);
}

function statusCommand(program: Command): void {
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

function stepsCommand(program: Command): void {
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

function logsCommand(program: Command): void {
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

function outputsCommand(program: Command): void {
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

function downloadCommand(program: Command): void {
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

function waitCommand(program: Command): void {
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

/** The step runs of a pipeline run as data, from PipelineRun.getSteps (one provider call). */
async function snapshotsOf(pipelineRun: PipelineRun) {
  return (await pipelineRun.getSteps()).map((s) => s.lastSnapshot!);
}

function lastLines(text: string, n: number): string {
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  const kept = lines.slice(-n).join('\n');
  return kept ? kept + '\n' : '';
}
