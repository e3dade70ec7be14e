// steprun-watch exec: run one command as a step run of a local pipeline run; exits with its exit code.
import type { Command } from 'commander';
import { defineCommand } from '../command';
import { InvalidInputError } from '../../model/errors';
import { executeStep } from '../../providers/local/exec';
import { assertValidId, newPipelineRunId, type RunStore } from '../../providers/local/store';
import { globalsOf } from '../context';
import { parseKeyValues } from '../options';
import { cancelOnSignals, localStore } from './exec-support';

export function execCommand(program: Command): void {
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
