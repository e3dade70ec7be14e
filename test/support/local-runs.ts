// Makes real local step runs (real processes) for tests.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { executeStep, type StepResult } from '../../src/providers/local/exec';
import { parsePipelineText } from '../../src/providers/local/pipeline-file';
import { runPipeline } from '../../src/providers/local/pipeline-runner';
import { newPipelineRunId, type RunStore } from '../../src/providers/local/store';

export async function execStep(
  store: RunStore,
  o: { experiment: string; step: string; script: string; pipelineRunId?: string; outputs?: Record<string, string>; cwd: string; signal?: AbortSignal },
): Promise<StepResult> {
  const pipelineRunId = o.pipelineRunId ?? newPipelineRunId(o.experiment, new Date());
  await store.createPipeline({ schema: 1, pipelineRunId, experiment: o.experiment, createdTime: new Date().toISOString(), status: null, source: 'exec' });
  return executeStep({
    store,
    experiment: o.experiment,
    pipelineRunId,
    stepName: o.step,
    command: { display: o.script, file: '/bin/sh', args: ['-c', o.script] },
    cwd: o.cwd,
    outputs: o.outputs,
    signal: o.signal,
  });
}

export async function runPipelineText(store: RunStore, yaml: string, dir: string, env: Record<string, string> = {}) {
  await fs.mkdir(dir, { recursive: true });
  const pipeline = parsePipelineText(yaml);
  for (const step of pipeline.steps) step.env = { ...step.env, ...env };
  return runPipeline({ store, pipeline, baseDir: path.resolve(dir) });
}
