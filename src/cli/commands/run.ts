// steprun-watch run <pipelineFile>: run a pipeline file as a local pipeline run; exit 0 when it Finished.
import type { Command } from 'commander';
import { defineCommand } from '../command';
import * as path from 'node:path';
import { Status } from '../../model/status';
import { loadPipelineFile } from '../../providers/local/pipeline-file';
import { runPipeline } from '../../providers/local/pipeline-runner';
import { assertValidId } from '../../providers/local/store';
import { EXIT } from '../../model/error-catalogue';
import { globalsOf } from '../context';
import { parsePositiveInt } from '../options';
import { cancelOnSignals, localStore } from './exec-support';

export function runCommand(program: Command): void {
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
