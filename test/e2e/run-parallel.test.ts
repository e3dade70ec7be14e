// `run` bounds its parallel steps, and a crash of the runner leaves no step Running and no child behind.
import { execFileSync, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { RunStore } from '../../src/providers/local/store';
import { BIN, cli } from '../support/cli';
import { tempDir } from '../support/tmp';

const dir = tempDir('run-parallel');
const env = { SRW_DATA_DIR: path.join(dir, 'data') };
const store = new RunStore(path.join(dir, 'data', 'runs'));

function pipelineYaml(experiment: string, steps: number, script: string, parallel?: number): string {
  const lines = [`experiment: ${experiment}`, ...(parallel ? [`parallel: ${parallel}`] : []), 'steps:'];
  for (let i = 0; i < steps; i++) lines.push(`  - { name: s${i}, run: ${JSON.stringify(script)} }`);
  return lines.join('\n') + '\n';
}

/** Each step notes how many steps run beside it; the most seen is the parallelism actually reached. */
const COUNTING = 'mkdir -p running; touch running/$SRW_STEP_NAME; ls running | wc -l >> counts; sleep 0.3; rm running/$SRW_STEP_NAME';

describe('8. run has a bound on parallel steps', () => {
  it('--parallel 3 runs at most 3 steps at once', async () => {
    const work = path.join(dir, 'p3');
    await fs.mkdir(work, { recursive: true });
    await fs.writeFile(path.join(work, 'pipe.yaml'), pipelineYaml('par3', 12, COUNTING));
    const r = await cli(['run', path.join(work, 'pipe.yaml'), '--parallel', '3', '--json'], { env });
    expect(r.code).toBe(0);
    const counts = (await fs.readFile(path.join(work, 'counts'), 'utf8')).trim().split('\n').map(Number);
    expect(counts).toHaveLength(12);
    expect(Math.max(...counts)).toBeLessThanOrEqual(3);
    expect(Math.max(...counts)).toBeGreaterThan(1);
  });

  it('the pipeline file’s parallel: is honoured, and --parallel must be a positive number', async () => {
    const work = path.join(dir, 'p2');
    await fs.mkdir(work, { recursive: true });
    await fs.writeFile(path.join(work, 'pipe.yaml'), pipelineYaml('par2', 8, COUNTING, 2));
    const r = await cli(['run', path.join(work, 'pipe.yaml')], { env });
    expect(r.code).toBe(0);
    const counts = (await fs.readFile(path.join(work, 'counts'), 'utf8')).trim().split('\n').map(Number);
    expect(Math.max(...counts)).toBeLessThanOrEqual(2);
    const bad = await cli(['run', path.join(work, 'pipe.yaml'), '--parallel', '0'], { env });
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain('--parallel');
  });

  it('a runner that crashes (EMFILE) marks unfinished steps Canceled with a reason and leaves no child running', async () => {
    const work = path.join(dir, 'crash');
    await fs.mkdir(work, { recursive: true });
    await fs.writeFile(path.join(work, 'pipe.yaml'), pipelineYaml('crash1', 150, 'sleep 30'));
    // 150 steps at once under a limit of 100 file descriptors cannot all start.
    const child = spawn('sh', ['-c', `ulimit -n 100; exec "${process.execPath}" "${BIN}" run pipe.yaml --parallel 150`], {
      cwd: work,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).not.toBe(0);
    const [pipelineRunId] = await store.pipelineIdsOf('crash1');
    const pipeline = await store.readPipeline(pipelineRunId!);
    expect(pipeline.status).not.toBe('Running');
    const { steps } = await store.readSteps(pipelineRunId!);
    expect(steps).toHaveLength(150);
    const unfinished = steps.filter((s) => s.status === 'NotStarted' || s.status === 'Running' || s.status === 'Queued');
    expect(unfinished).toEqual([]);
    expect(steps.filter((s) => s.status === 'Canceled').every((s) => /runner/.test(s.error?.message ?? ''))).toBe(true);
    // No `sleep 30` of this pipeline survives the runner.
    const left = execFileSync('sh', ['-c', `pgrep -f "^sleep 30$" | wc -l`]).toString().trim();
    expect({ left, stderr: stderr.slice(0, 300) }).toMatchObject({ left: '0' });
  });
});
