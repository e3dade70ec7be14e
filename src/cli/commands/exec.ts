// The commands that make local step runs: `exec` (one command) and `run` (a pipeline file).
import type { Command } from 'commander';
import { defineCommand } from '../command';
import * as path from 'node:path';
import { InvalidInputError } from '../../model/errors';
import { Status } from '../../model/status';
import { executeStep } from '../../providers/local/exec';
import { loadPipelineFile } from '../../providers/local/pipeline-file';
import { runPipeline } from '../../providers/local/pipeline-runner';
import { LocalProvider } from '../../providers/local/provider';
import { assertValidId, newPipelineRunId, type RunStore } from '../../providers/local/store';
import { EXIT } from '../exit-codes';
import { configOf, globalsOf, providerFromConfig } from '../context';
import { parseKeyValues, parsePositiveInt } from '../options';

/** Ctrl-C and SIGTERM cancel the step runs (recorded Canceled) instead of killing the wrapper. */
function cancelOnSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    process.stderr.write(`steprun-watch: ${sig}: canceling\n`);
    controller.abort(new Error(sig));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

async function localStore(cmd: Command) {
  const config = await configOf(cmd);
  const provider = providerFromConfig(config, globalsOf(cmd).provider ?? 'local');
  if (!(provider instanceof LocalProvider)) throw new InvalidInputError('exec and run make local step runs: use a provider of type local');
  return provider.store;
}

export function registerExecCommands(program: Command): void {
  execCommand(program);
  runCommand(program);
}

function execCommand(program: Command): void {
  defineCommand(
    program,
    'exec',
    'run one command as a step run of a local pipeline run; exits with its exit code',
    'steprun-watch exec --experiment churn --step train --output model=out/model.pkl -- python train.py',
  )
    .requiredOption('--experiment <name>', 'experiment of the pipeline run')
    .requiredOption('--step <name>', 'name of the step')
    .option('--pipeline-run <id>', 'join this pipeline run (created if it does not exist); default: a new one')
    .option(
      '--output <name=path>',
      'capture this file or folder as an output when the command ends (repeatable)',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option('--require-outputs', 'a declared output the command did not produce fails the step (default: Finished, the missing output said on stderr)')
    .argument('<command...>', 'the command and its arguments (after --)')
    .action(
      async (command: string[], o: { experiment: string; step: string; pipelineRun?: string; output: string[]; requireOutputs?: boolean }, cmd: Command) => {
        const store = await localStore(cmd);
        assertValidId(o.experiment, 'experiment');
        assertValidId(o.step, 'step name');
        const outputs = parseKeyValues(o.output, '--output', 'NAME=PATH');
        const pipelineRunId = await joinOrCreatePipelineRun(store, o.experiment, o.pipelineRun);
        const json = globalsOf(cmd).json;
        const cancel = cancelOnSignals();
        try {
          const result = await executeStep({
            store,
            experiment: o.experiment,
            pipelineRunId,
            stepName: o.step,
            command: { display: command.join(' '), file: command[0]!, args: command.slice(1) },
            cwd: process.cwd(),
            outputs,
            requireOutputs: o.requireOutputs,
            warn: (line) => process.stderr.write(`steprun-watch: ${line}\n`),
            // With --json, stdout carries the JSON alone: the command's own output goes to stderr (and its log).
            echoStdout: json ? process.stderr : process.stdout,
            echoStderr: process.stderr,
            signal: cancel.signal,
          });
          process.stderr.write(`steprun-watch: step run ${result.stepRunId} (pipeline run ${pipelineRunId}): ${result.status}\n`);
          if (json)
            process.stdout.write(JSON.stringify({ stepRunId: result.stepRunId, pipelineRunId, status: result.status, exitCode: result.exitCode }) + '\n');
          process.exitCode = result.exitCode;
        } finally {
          cancel.dispose();
        }
      },
    );
}

/** The pipeline run an `exec` joins (`--pipeline-run`, made if missing) or a new one; another experiment's is refused. */
async function joinOrCreatePipelineRun(store: RunStore, experiment: string, wanted: string | undefined): Promise<string> {
  const now = new Date();
  const pipelineRunId = wanted ?? newPipelineRunId(experiment, now);
  const created = await store.createPipeline({ schema: 1, pipelineRunId, experiment, createdTime: now.toISOString(), status: null, source: 'exec' });
  if (!created) {
    const existing = await store.readPipeline(pipelineRunId);
    if (existing.experiment !== experiment)
      throw new InvalidInputError(`pipeline run ${pipelineRunId} belongs to experiment ${existing.experiment}, not ${experiment}`);
  }
  return pipelineRunId;
}

function runCommand(program: Command): void {
  defineCommand(
    program,
    'run <pipelineFile>',
    'run a pipeline file as a local pipeline run; exit 0 when it Finished',
    'steprun-watch run examples/pipelines/demo.yaml --parallel 4 --json',
  )
    .option('--run-id <id>', 'name the pipeline run (refused if it exists)')
    .option('--parallel <n>', "steps running at once at most (default: the pipeline file's `parallel:`, else the number of cores)", (v) =>
      parsePositiveInt(v, '--parallel'),
    )
    .option('--require-outputs', "a step that does not produce a declared output fails (as the pipeline file's requireOutputs: true)")
    .action(async (file: string, o: { runId?: string; parallel?: number; requireOutputs?: boolean }, cmd: Command) => {
      const store = await localStore(cmd);
      const pipeline = await loadPipelineFile(file);
      if (o.runId) assertValidId(o.runId, 'run id');
      const json = globalsOf(cmd).json;
      const cancel = cancelOnSignals();
      try {
        const result = await runPipeline({
          store,
          pipeline,
          baseDir: path.dirname(path.resolve(file)),
          pipelineRunId: o.runId,
          name: path.basename(file).replace(/\.(ya?ml|json)$/i, ''),
          parallel: o.parallel,
          requireOutputs: o.requireOutputs,
          signal: cancel.signal,
          // With --json, stdout carries the JSON alone: the steps' own output goes to stderr (and their logs).
          echoStdout: json ? process.stderr : process.stdout,
          echoStderr: process.stderr,
          say: (line) => process.stderr.write(`steprun-watch: ${line}\n`),
        });
        if (json) process.stdout.write(JSON.stringify(result) + '\n');
        process.exitCode = result.status === Status.Finished ? EXIT.ok : result.status === Status.Canceled ? EXIT.interrupted : EXIT.failed;
      } finally {
        cancel.dispose();
      }
    });
}
