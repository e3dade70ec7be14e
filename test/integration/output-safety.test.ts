// A stored output never changes under the user, and no output path leaves its folder.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { LocalProvider } from '../../src/providers/local/provider';
import { execStep } from '../support/local-runs';
import { tempDir } from '../support/tmp';

const dataDir = tempDir('output-safety');
const local = new LocalProvider({ root: path.join(dataDir, 'runs') });

async function workDir(name: string): Promise<string> {
  const dir = path.join(dataDir, name);
  await fs.mkdir(path.join(dir, 'out'), { recursive: true });
  return dir;
}

describe('6. captured outputs are independent copies', () => {
  it('a second step writing the same file does not change the first step run’s output', async () => {
    const cwd = await workDir('w6');
    const first = await execStep(local.store, { experiment: 'copies', step: 's', script: 'echo v1 > out/m.txt', outputs: { m: 'out/m.txt' }, cwd });
    await execStep(local.store, { experiment: 'copies', step: 's', script: 'echo v2 > out/m.txt', outputs: { m: 'out/m.txt' }, cwd });
    const stored = path.join(local.store.outputsDir(first.pipelineRunId, first.stepRunId), 'm', 'm.txt');
    expect(await fs.readFile(stored, 'utf8')).toBe('v1\n');
    // And the other way round: editing the working file later leaves the store alone.
    await fs.appendFile(path.join(cwd, 'out/m.txt'), 'edited\n');
    expect(await fs.readFile(stored, 'utf8')).toBe('v1\n');
  });
});

describe('7. symlinked folders cannot take an output out of the step’s folder', () => {
  it('capture refuses an output reached through a link to /etc', async () => {
    const cwd = await workDir('w7');
    const r = await execStep(local.store, { experiment: 'links', step: 's', script: 'ln -s /etc link', outputs: { x: 'link/hostname' }, cwd });
    expect(r.status).toBe('Finished');
    expect(r.record.outputs).toEqual({});
    const outputs = local.store.outputsDir(r.pipelineRunId, r.stepRunId);
    expect(await fs.readdir(outputs).catch(() => [])).toEqual([]);
    const jobLog = await fs.readFile(path.join(local.store.stepDir(r.pipelineRunId, r.stepRunId), 'job.log'), 'utf8');
    expect(jobLog).toMatch(/output x: not captured: .*outside/);
  });

  it('download refuses an output name from a tampered record', async () => {
    const cwd = await workDir('w7b');
    const r = await execStep(local.store, { experiment: 'tamper', step: 's', script: 'echo ok > out/m.txt', outputs: { m: 'out/m.txt' }, cwd });
    const file = path.join(local.store.stepDir(r.pipelineRunId, r.stepRunId), 'step.json');
    const record = JSON.parse(await fs.readFile(file, 'utf8'));
    record.outputs = { '../../../../../../etc/hostname': 'x' };
    await fs.writeFile(file, JSON.stringify(record));
    await expect(local.listOutputs({ stepRunId: r.stepRunId })).rejects.toMatchObject({ code: 'SRW_UNSAFE_PATH' });
  });

  it('download refuses a destination folder that is a symbolic link', async () => {
    const cwd = await workDir('w7c');
    const r = await execStep(local.store, { experiment: 'dest', step: 's', script: 'echo ok > out/m.txt', outputs: { m: 'out/m.txt' }, cwd });
    const elsewhere = path.join(dataDir, 'elsewhere');
    await fs.mkdir(elsewhere, { recursive: true });
    const linked = path.join(dataDir, 'linked-dest');
    await fs.symlink(elsewhere, linked);
    const [output] = await local.listOutputs({ stepRunId: r.stepRunId });
    await expect(local.download(output!, linked)).rejects.toMatchObject({ code: 'SRW_UNSAFE_PATH' });
    expect(await fs.readdir(elsewhere)).toEqual([]);
    // A link inside the destination is refused too.
    const dest = path.join(dataDir, 'dest-with-link');
    await fs.mkdir(dest, { recursive: true });
    await fs.symlink(elsewhere, path.join(dest, 'm'));
    await expect(local.download({ ...output!, pathOnDatastore: path.dirname(output!.pathOnDatastore) }, dest)).rejects.toMatchObject({
      code: 'SRW_UNSAFE_PATH',
    });
    expect(await fs.readdir(elsewhere)).toEqual([]);
  });
});
