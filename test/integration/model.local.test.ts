// Every public method of the object model, against the local provider and real processes.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Experiment, PipelineRun, Status, StepRun, Workspace } from '../../src';
import { LocalProvider } from '../../src/providers/local/provider';
import { execStep, runPipelineText } from '../support/local-runs';
import { tempDir } from '../support/tmp';

const PIPELINE = `
experiment: exp1
steps:
  - name: prep
    allowReuse: true
    inputs: [in.txt]
    run: mkdir -p out && cp in.txt out/prepared.txt && echo prep-stdout
    outputs: { data: out/prepared.txt }
  - name: train
    needs: [prep]
    run: 'echo "training"; echo "boom: bad things" >&2; [ "$FAIL" = 1 ] && exit 7; mkdir -p model && echo w > model/weights.bin'
    outputs: { model: model }
`;

describe('object model over the local provider', () => {
  let dataDir: string;
  let work: string;
  let ws: Workspace;
  let exp: Experiment;
  let store: LocalProvider['store'];
  let first: Awaited<ReturnType<typeof runPipelineText>>;
  let second: Awaited<ReturnType<typeof runPipelineText>>;

  beforeAll(async () => {
    dataDir = tempDir('model');
    work = path.join(dataDir, 'work');
    await fs.mkdir(work, { recursive: true });
    await fs.writeFile(path.join(work, 'in.txt'), 'hello\n');
    ws = Workspace.local({ dataDir, pollIntervalMs: 50 });
    exp = new Experiment(ws, 'exp1');
    store = (ws.provider as LocalProvider).store;
    first = await runPipelineText(store, PIPELINE, work);
    second = await runPipelineText(store, PIPELINE, work, { FAIL: '1' });
  });

  it('PipelineRun.getSteps returns every step with names and node ids', async () => {
    const steps = await new PipelineRun(exp, first.pipelineRunId).getSteps();
    expect(steps.map((s) => s.name)).toEqual(['prep', 'train']);
    expect(steps.every((s) => s instanceof StepRun && /^[0-9a-f]{8}$/.test(s.nodeId))).toBe(true);
  });

  it('PipelineRun.findStepRun finds steps by name', async () => {
    const found = await new PipelineRun(exp, first.pipelineRunId).findStepRun('train');
    expect(found).toHaveLength(1);
    expect(found[0]!.stepRunId).toBe(first.steps[1]!.stepRunId);
    expect(await new PipelineRun(exp, first.pipelineRunId).findStepRun('nope')).toEqual([]);
  });

  it('PipelineRun.getStatus and waitForCompletion report the final status', async () => {
    expect(await new PipelineRun(exp, first.pipelineRunId).getStatus()).toBe(Status.Finished);
    expect(await new PipelineRun(exp, second.pipelineRunId).waitForCompletion({ showOutput: false, raiseOnError: false })).toBe(Status.Failed);
  });

  it('StepRun.getStatus returns the normalized status', async () => {
    const [prep, train] = await new PipelineRun(exp, second.pipelineRunId).getSteps();
    expect(await prep!.getStatus()).toBe(Status.Finished);
    expect(await train!.getStatus()).toBe(Status.Failed);
  });

  it('a reused step carries the earlier run ids, as the seed describes', async () => {
    const [prep] = await new PipelineRun(exp, second.pipelineRunId).getSteps();
    expect(prep!.isReused).toBe(true);
    expect(prep!.reusedRunId).toBe(first.steps[0]!.stepRunId);
    expect(prep!.reusedPipelineRunId).toBe(first.pipelineRunId);
    expect(prep!.reusedNodeId).toBe(prep!.nodeId);
    expect(prep!.currentNodeId).toBe(prep!.nodeId);
    // Its output is the earlier run's data.
    const out = path.join(dataDir, 'dl-reused');
    await (await prep!.getOutputData('data')).download(out);
    expect(await fs.readFile(path.join(out, 'prepared.txt'), 'utf8')).toBe('hello\n');
  });

  it('a step whose input changed is not reused', async () => {
    await fs.writeFile(path.join(work, 'in.txt'), 'changed\n');
    const third = await runPipelineText(store, PIPELINE, work);
    expect(third.steps[0]!.isReused).toBe(false);
    await fs.writeFile(path.join(work, 'in.txt'), 'hello\n');
  });

  it('the constructor keeps the seed arguments, reuse fields included', () => {
    const s = new StepRun(exp, 'sid', 'pid', 'nid', {
      serviceEndpoint: 'http://x',
      isReused: true,
      currentNodeId: 'c',
      reusedRunId: 'r',
      reusedNodeId: 'n',
      reusedPipelineRunId: 'p',
    });
    expect([
      s.experiment,
      s.stepRunId,
      s.pipelineRunId,
      s.nodeId,
      s.serviceEndpoint,
      s.isReused,
      s.currentNodeId,
      s.reusedRunId,
      s.reusedNodeId,
      s.reusedPipelineRunId,
    ]).toEqual([exp, 'sid', 'pid', 'nid', 'http://x', true, 'c', 'r', 'n', 'p']);
    expect(new StepRun(exp, 'a', 'b', 'c').isReused).toBe(false);
  });

  it('reads the stdout, stderr and job logs', async () => {
    const [, train] = await new PipelineRun(exp, second.pipelineRunId).getSteps();
    expect(await train!.getStdoutLog()).toBe('training\n');
    expect(await train!.getStderrLog()).toBe('boom: bad things\n');
    const job = await train!.getJobLog();
    expect(job).toMatch(/status Running/);
    expect(job).toMatch(/status Failed \(exit code 7\)/);
  });

  it('getDetailsWithLogs returns status, error and log contents', async () => {
    const [, train] = await new PipelineRun(exp, second.pipelineRunId).getSteps();
    const details = await train!.getDetailsWithLogs();
    expect(details.status).toBe(Status.Failed);
    expect(details.error).toEqual({ code: 'ExitCode7', message: 'exited with code 7' });
    expect(details.logFiles.stderr).toBe('boom: bad things\n');
    expect(details.startTime && details.endTime).toBeTruthy();
  });

  it('getOutputs, getOutput and getOutputData describe the outputs; download copies them', async () => {
    const [, train] = await new PipelineRun(exp, first.pipelineRunId).getSteps();
    const outputs = await train!.getOutputs();
    expect([...outputs.keys()]).toEqual(['model']);
    const output = await train!.getOutput('model');
    expect(output.name).toBe('model');
    const ref = await train!.getOutputData('model');
    expect(ref.datastoreName).toBe('local');
    const dest = path.join(dataDir, 'dl-model');
    const result = await ref.download(dest);
    expect(result.files).toEqual([{ path: 'weights.bin', size: 2 }]);
    expect(await fs.readFile(path.join(dest, 'weights.bin'), 'utf8')).toBe('w\n');
  });

  it('download refuses to replace different content unless overwrite is set', async () => {
    const [, train] = await new PipelineRun(exp, first.pipelineRunId).getSteps();
    const dest = path.join(dataDir, 'dl-ow');
    await fs.mkdir(dest, { recursive: true });
    await fs.writeFile(path.join(dest, 'weights.bin'), 'other');
    const ref = await train!.getOutputData('model');
    await expect(ref.download(dest)).rejects.toMatchObject({ code: 'SRW_ALREADY_EXISTS' });
    await ref.download(dest, { overwrite: true });
    expect(await fs.readFile(path.join(dest, 'weights.bin'), 'utf8')).toBe('w\n');
  });

  it('getOutput of a missing name throws OutputNotFound listing the real ones', async () => {
    const [, train] = await new PipelineRun(exp, first.pipelineRunId).getSteps();
    await expect(train!.getOutput('nope')).rejects.toMatchObject({ code: 'SRW_OUTPUT_NOT_FOUND', available: ['model'] });
    await expect(train!.getOutputData('nope')).rejects.toMatchObject({ code: 'SRW_OUTPUT_NOT_FOUND' });
  });

  it('childRun, complete and fail throw the typed not-implemented error', () => {
    const s = new StepRun(exp, 'a', 'b', 'c');
    expect(() => s.childRun()).toThrow(expect.objectContaining({ code: 'SRW_NOT_IMPLEMENTED', method: 'childRun' }));
    expect(() => s.complete()).toThrow(expect.objectContaining({ code: 'SRW_NOT_IMPLEMENTED' }));
    expect(() => s.fail()).toThrow(expect.objectContaining({ code: 'SRW_NOT_IMPLEMENTED' }));
  });

  it('an unknown run id is SRW_RUN_NOT_FOUND', async () => {
    await expect(new StepRun(exp, 'no_such_run', 'no_such_pipeline', 'x').getStatus()).rejects.toMatchObject({ code: 'SRW_RUN_NOT_FOUND' });
    await expect(new PipelineRun(exp, 'no_such_pipeline').getSteps()).rejects.toMatchObject({ code: 'SRW_RUN_NOT_FOUND' });
  });

  describe('waitForCompletion', () => {
    it('returns Finished, streaming status and stdout when showOutput is on', async () => {
      const controller = new AbortController();
      const running = execStep(store, { experiment: 'exp1', step: 'slow', script: 'sleep 0.3; echo done-now', cwd: work, signal: controller.signal });
      const stepRunId = await firstStepOf(store, 'exp1', 'slow');
      const step = new StepRun(exp, stepRunId, (await store.readStep(stepRunId)).pipelineRunId, 'x');
      const chunks: string[] = [];
      const output = { write: (c: string) => chunks.push(c) } as unknown as NodeJS.WritableStream;
      expect(await step.waitForCompletion({ output })).toBe(Status.Finished);
      await running;
      expect(chunks.join('')).toMatch(new RegExp(`${stepRunId}: Finished`));
      expect(chunks.join('')).toMatch(/done-now/);
    });

    it('throws a typed timeout error while the step is still running', async () => {
      const controller = new AbortController();
      const running = execStep(store, { experiment: 'exp1', step: 'sleeper', script: 'sleep 30', cwd: work, signal: controller.signal });
      const stepRunId = await firstStepOf(store, 'exp1', 'sleeper');
      const step = new StepRun(exp, stepRunId, (await store.readStep(stepRunId)).pipelineRunId, 'x');
      await expect(step.waitForCompletion({ showOutput: false, timeoutSeconds: 0.3 })).rejects.toMatchObject({ code: 'SRW_TIMEOUT' });
      controller.abort();
      expect((await running).status).toBe(Status.Canceled);
      expect(await step.getStatus()).toBe(Status.Canceled);
    });

    it('throws StepFailed on a failed step when raiseOnError is on, and returns Failed when off', async () => {
      const failed = second.steps[1]!;
      const step = new StepRun(exp, failed.stepRunId, second.pipelineRunId, 'x');
      await expect(step.waitForCompletion({ showOutput: false })).rejects.toMatchObject({ code: 'SRW_STEP_FAILED', error: { code: 'ExitCode7' } });
      expect(await step.waitForCompletion({ showOutput: false, raiseOnError: false })).toBe(Status.Failed);
    });
  });
});

/** The step run id of the newest step with this name, once its record exists. */
async function firstStepOf(store: LocalProvider['store'], experiment: string, name: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    for (const pid of (await store.pipelineIdsOf(experiment)).reverse()) {
      const { steps } = await store.readSteps(pid).catch(() => ({ steps: [] as { name: string; stepRunId: string }[] }));
      const hit = steps.find((s) => s.name === name);
      if (hit) return hit.stepRunId;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no step ${name}`);
}
