// The README's library example, run exactly as written (its code block, byte for byte) against the built package.
import { execFile } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { cli, ROOT } from '../support/cli';
import { tempDir } from '../support/tmp';

const run = promisify(execFile);

/** The first ```ts block after "## As a library". */
function readmeExample(): string {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## As a library'));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('README has no library example');
  return m[1]!;
}

describe('README library example', () => {
  it('runs as written: finds the step, waits for it, downloads its output', async () => {
    const code = readmeExample();
    expect(code).toContain("const [train] = await run.findStepRun('train');");
    // The example names pipeline run demo_1764070000_a1b2c3 in .steprun-watch of the working folder: make it.
    const cwd = tempDir('readme-lib');
    await fs.writeFile(
      path.join(cwd, 'demo.yaml'),
      "experiment: demo\nsteps:\n  - { name: train, run: 'mkdir -p m && echo w > m/w.txt && echo oops >&2', outputs: { model: m } }\n",
    );
    await cli(['run', 'demo.yaml', '--run-id', 'demo_1764070000_a1b2c3'], { cwd, env: { SRW_DATA_DIR: path.join(cwd, '.steprun-watch') } });
    // Saved inside the package, so that `from 'steprun-watch'` resolves to this package (its exports map).
    const script = path.join(ROOT, `.readme-example-${process.pid}.mjs`);
    await fs.writeFile(script, code);
    try {
      const { stdout } = await run(process.execPath, [script], { cwd });
      expect(stdout).toBe(''); // the step Finished: nothing to print
      expect(await fs.readFile(path.join(cwd, 'model', 'w.txt'), 'utf8')).toBe('w\n');
    } finally {
      await fs.rm(script, { force: true });
    }
  });
});
