// The steprun-watch command as a process, on the local provider: run, exec, and the read commands.
import { cpSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { cli, ROOT } from '../support/cli';
import { tempDir } from '../support/tmp';
import { waitFor } from '../support/wait-for';

describe('steprun-watch CLI on the local provider', () => {
  const dir = tempDir('cli');
  const env = { SRW_DATA_DIR: path.join(dir, 'data') };
  const pipelineFile = path.join(dir, 'pipelines/demo.yaml');
  let firstRun: {
    pipelineRunId: string;
    status: string;
    steps: { name: string; stepRunId: string; status: string; isReused: boolean; reusedRunId?: string }[];
  };
  let secondRun: typeof firstRun;

  beforeAll(async () => {
    cpSync(path.join(ROOT, 'examples/pipelines'), path.join(dir, 'pipelines'), { recursive: true, filter: (p) => !p.includes('/out') });
    const a = await cli(['run', pipelineFile, '--json'], { env });
    expect(a.code).toBe(0);
    firstRun = JSON.parse(a.stdout.trim().split('\n').at(-1)!);
    const b = await cli(['run', pipelineFile, '--json'], { env: { ...env, DEMO_FAIL: '1' } });
    expect(b.code).toBe(1);
    secondRun = JSON.parse(b.stdout.trim().split('\n').at(-1)!);
  });

  it('run twice: the second run reports the reusable step as reused, with the first run ids', () => {
    expect(firstRun.status).toBe('Finished');
    expect(firstRun.steps.map((s) => [s.name, s.status, s.isReused])).toEqual([
      ['prepare', 'Finished', false],
      ['train', 'Finished', false],
      ['report', 'Finished', false],
    ]);
    expect(secondRun.status).toBe('Failed');
    expect(secondRun.steps[0]).toMatchObject({ name: 'prepare', status: 'Finished', isReused: true, reusedRunId: firstRun.steps[0]!.stepRunId });
    expect(secondRun.steps[1]).toMatchObject({ name: 'train', status: 'Failed' });
    expect(secondRun.steps[2]).toMatchObject({ name: 'report', status: 'Canceled' });
  });

  it('the commands stdout stays clean: only the JSON line and the steps own output', async () => {
    const r = await cli(['run', pipelineFile, '--json'], { env });
    expect(r.stdout).not.toMatch(/steprun-watch:/);
    expect(r.stderr).toMatch(/steprun-watch: step prepare: reused/);
  });

  it('status --json of a reused step shows its reuse fields', async () => {
    const r = await cli(['status', secondRun.steps[0]!.stepRunId, '--json'], { env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      name: 'prepare',
      status: 'Finished',
      isReused: true,
      reusedRunId: firstRun.steps[0]!.stepRunId,
      reusedPipelineRunId: firstRun.pipelineRunId,
    });
  });

  it('status of a pipeline run shows every step', async () => {
    const r = await cli(['status', secondRun.pipelineRunId], { env });
    expect(r.stdout).toMatch(/status\s+Failed/);
    expect(r.stdout).toMatch(/train\s+s_\w+\s+Failed/);
  });

  it('steps --json lists the steps with status and error', async () => {
    const r = await cli(['steps', secondRun.pipelineRunId, '--json'], { env });
    const body = JSON.parse(r.stdout);
    expect(body.steps.map((s: { name: string }) => s.name)).toEqual(['prepare', 'train', 'report']);
    expect(body.steps[1]).toMatchObject({ status: 'Failed', error: { code: 'ExitCode3' } });
  });

  it('logs --stderr shows the failed step stderr', async () => {
    const r = await cli(['logs', secondRun.steps[1]!.stepRunId, '--stderr'], { env });
    expect(r.stdout).toBe('CUDA error: out of memory (demo failure)\n');
    const tail = await cli(['logs', secondRun.steps[1]!.stepRunId, '--job', '--tail', '1'], { env });
    expect(tail.stdout).toMatch(/^\S+ status Failed \(exit code 3\)\n$/);
  });

  it('outputs and download show and copy real content', async () => {
    const outputs = await cli(['outputs', firstRun.steps[1]!.stepRunId, '--json'], { env });
    expect(JSON.parse(outputs.stdout).outputs.map((o: { name: string }) => o.name)).toEqual(['model']);
    const dest = path.join(dir, 'downloaded');
    const r = await cli(['download', secondRun.steps[0]!.stepRunId, 'data', dest], { env });
    expect(r.code).toBe(0);
    expect(await fs.readFile(path.join(dest, 'data.csv'), 'utf8')).toBe('ID,CITY\n1,SEOUL\n2,BUSAN\n3,DAEGU\n');
  });

  it('wait exits 0 for Finished and 1 for Failed', async () => {
    expect((await cli(['wait', firstRun.pipelineRunId], { env })).code).toBe(0);
    expect((await cli(['wait', secondRun.pipelineRunId], { env })).code).toBe(1);
    expect((await cli(['wait', secondRun.steps[2]!.stepRunId], { env })).code).toBe(2);
  });

  it('wait --timeout exits 124 while a step is still running', async () => {
    const pr = 'waitpr_1';
    const exec = cli(['exec', '--experiment', 'w', '--step', 's', '--pipeline-run', pr, '--', 'sleep', '4'], { env });
    await waitFor(
      async () => {
        const s = await cli(['status', pr, '--json'], { env });
        return s.code === 0 && JSON.parse(s.stdout).steps?.[0]?.status === 'Running';
      },
      { timeoutMs: 30000, what: 'the step running' },
    );
    const r = await cli(['wait', pr, '--timeout', '0.5', '--interval', '0.1'], { env });
    expect(r.code).toBe(124);
    expect(r.stderr).toMatch(/SRW_TIMEOUT/);
    expect((await exec).code).toBe(0);
  });

  it('exec records the exit code, captures outputs and exits with the command code', async () => {
    const work = path.join(dir, 'execwork');
    await fs.mkdir(work, { recursive: true });
    const r = await cli(['exec', '--experiment', 'x', '--step', 'mk', '--output', 'f=made.txt', '--', 'sh', '-c', 'echo made > made.txt; echo out; exit 0'], {
      env,
      cwd: work,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('out\n');
    const id = /step run (s_\w+)/.exec(r.stderr)![1]!;
    const outputs = JSON.parse((await cli(['outputs', id, '--json'], { env })).stdout);
    expect(outputs.outputs.map((o: { name: string }) => o.name)).toEqual(['f']);
    const failed = await cli(['exec', '--experiment', 'x', '--step', 'bad', '--', 'sh', '-c', 'exit 9'], { env });
    expect(failed.code).toBe(9);
    const fid = /step run (s_\w+)/.exec(failed.stderr)![1]!;
    expect(JSON.parse((await cli(['status', fid, '--json'], { env })).stdout)).toMatchObject({
      status: 'Failed',
      error: { code: 'ExitCode9', message: 'exited with code 9' },
    });
  });

  it('exec: SIGINT stops the child and records Canceled', async () => {
    const { startCli } = await import('../support/cli');
    const child = startCli(['exec', '--experiment', 'x', '--step', 'long', '--pipeline-run', 'sigint_1', '--', 'sleep', '30'], { env });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    // Signal only once the step runs (its handlers are installed by then), however slow the machine is.
    await waitFor(
      async () => {
        const r = await cli(['status', 'sigint_1', '--json'], { env });
        return r.code === 0 && JSON.parse(r.stdout).steps?.[0]?.status === 'Running';
      },
      { timeoutMs: 30000, what: 'the step running' },
    );
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(130);
    const id = /step run (s_\w+)/.exec(stderr)![1]!;
    expect(JSON.parse((await cli(['status', id, '--json'], { env })).stdout).status).toBe('Canceled');
  });

  it('20 exec step runs started at once into one pipeline run are all recorded, none corrupt', async () => {
    const pr = 'many_1';
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        cli(['exec', '--experiment', 'many', '--step', `s${i}`, '--pipeline-run', pr, '--', 'sh', '-c', `echo ${i}; exit ${i % 3 === 0 ? 1 : 0}`], {
          env,
          timeoutMs: 60000,
        }),
      ),
    );
    expect(results.map((r) => r.code)).toEqual(Array.from({ length: 20 }, (_, i) => (i % 3 === 0 ? 1 : 0)));
    const steps = JSON.parse((await cli(['steps', pr, '--json'], { env })).stdout).steps as { name: string; status: string }[];
    expect(steps).toHaveLength(20);
    expect(steps.map((s) => s.name).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `s${i}`).sort());
    expect(steps.filter((s) => s.status === 'Failed')).toHaveLength(7);
    expect(JSON.parse((await cli(['status', pr, '--json'], { env })).stdout).status).toBe('Failed');
  });

  describe('bad input gives one clear line and a non-zero exit, never a stack trace', () => {
    const oneLine = (r: { stderr: string }) => {
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    };

    it('an unknown run id', async () => {
      const r = await cli(['status', 'no_such_run'], { env });
      expect(r.code).toBe(3);
      expect(r.stderr).toBe('steprun-watch: run not found: no_such_run [SRW_RUN_NOT_FOUND]\n');
    });

    it('a run id with path characters', async () => {
      const r = await cli(['status', '../../etc'], { env });
      expect(r.code).toBe(4);
      oneLine(r);
    });

    it('a missing output name', async () => {
      const r = await cli(['download', firstRun.steps[1]!.stepRunId, 'nope', path.join(dir, 'x')], { env });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/has no output named "nope" \(outputs: model\)/);
      oneLine(r);
    });

    it('a corrupt record file', async () => {
      const stepDir = path.join(env.SRW_DATA_DIR, 'runs/pipelines', firstRun.pipelineRunId, 'steps', firstRun.steps[2]!.stepRunId);
      await fs.writeFile(path.join(stepDir, 'step.json'), '{"schema": 1, "stepRunId": ');
      const r = await cli(['status', firstRun.steps[2]!.stepRunId], { env });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/corrupt run record .*step\.json: not valid JSON \[SRW_RECORD_CORRUPT\]/);
      oneLine(r);
    });

    it('an invalid pipeline file names the line and field', async () => {
      const bad = path.join(dir, 'bad.yaml');
      await fs.writeFile(bad, 'experiment: e\nsteps:\n  - name: a\n    run: echo\n    needs: [ghost]\n');
      const r = await cli(['run', bad], { env });
      expect(r.code).toBe(4);
      expect(r.stderr).toBe(`steprun-watch: ${bad}:5: steps[0].needs[0]: no step named "ghost" [SRW_PIPELINE_INVALID]\n`);
    });

    it('a pipeline run id that exists already', async () => {
      const r = await cli(['run', pipelineFile, '--run-id', firstRun.pipelineRunId], { env });
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/exists already/);
    });
  });
});
