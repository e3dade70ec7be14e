// The README's library example runs as written against the package's main export.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Experiment, PipelineRun, Status, Workspace } from '../../src';
import { LocalProvider } from '../../src/providers/local/provider';
import { runPipelineText } from '../support/local-runs';
import { tempDir } from '../support/tmp';

describe('README library example', () => {
  it('finds a step, waits for it, reads its stderr and downloads an output', async () => {
    const readme = readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
    expect(readme).toContain("const [train] = await run.findStepRun('train');");
    const dataDir = tempDir('lib');
    const ws = Workspace.local({ dataDir });
    const result = await runPipelineText(
      (ws.provider as LocalProvider).store,
      "experiment: demo\nsteps:\n  - { name: train, run: 'mkdir -p m && echo w > m/w.txt && echo oops >&2', outputs: { model: m } }\n",
      path.join(dataDir, 'w'),
    );
    const run = new PipelineRun(new Experiment(ws, 'demo'), result.pipelineRunId);
    const [train] = await run.findStepRun('train');
    const status = await train!.waitForCompletion({ showOutput: false, timeoutSeconds: 3600, raiseOnError: false });
    expect(status).toBe(Status.Finished);
    expect(await train!.getStderrLog({ tailBytes: 2000 })).toBe('oops\n');
    const out = await (await train!.getOutputData('model')).download(path.join(dataDir, 'model'));
    expect(out.files).toEqual([{ path: 'w.txt', size: 2 }]);
  });
});
