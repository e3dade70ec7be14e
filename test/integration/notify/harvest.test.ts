// The harvest notifier (type download): outputs with a manifest, refused paths, idempotent re-delivery, retention.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Status } from '../../../src/model/status';
import { LocalProvider } from '../../../src/providers/local/provider';
import { type WatchEvent } from '../../../src/store/events';
import { stepEvent } from '../../../src/store/event-builders';
import { trackFromRequest } from '../../../src/store/tracks';
import { execStep } from '../../support/local-runs';
import { buildNotifier, deliveryContext } from '../../support/notifiers';
import { tempDir } from '../../support/tmp';

const dataDir = tempDir('harvest');
const work = path.join(dataDir, 'work');
const local = new LocalProvider({ root: path.join(dataDir, 'runs') });
const providers = new Map([['local', local]]);
const track = trackFromRequest({ provider: 'local', experiment: 'hx' }, 'cli', 0);

async function finishedEvent(): Promise<WatchEvent> {
  await fs.mkdir(work, { recursive: true });
  const r = await execStep(local.store, {
    experiment: 'hx',
    step: 'train',
    cwd: work,
    outputs: { model: 'model', report: 'report.txt' },
    script: 'mkdir -p model/sub && printf weights > model/w.bin && printf deep > model/sub/x.txt && printf hello > report.txt',
  });
  return stepEvent(track, await local.getStepRun({ stepRunId: r.stepRunId }), Status.Running, 2, Date.now());
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

describe('download notifier', () => {
  it('harvests every output of a finished step with a correct manifest', async () => {
    const event = await finishedEvent();
    const harvest = await buildNotifier({ type: 'download' }, { dataDir, providers });
    await harvest.deliver(event, deliveryContext('d1'));
    const folder = path.join(dataDir, 'harvest', 'hx', event.pipelineRunId!, 'train', 'model');
    const manifest = JSON.parse(await fs.readFile(path.join(folder, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      experiment: 'hx',
      pipelineRunId: event.pipelineRunId,
      stepName: 'train',
      stepRunId: event.stepRun!.stepRunId,
      output: 'model',
      isReused: false,
      sourceRunIds: { stepRunId: event.stepRun!.stepRunId },
      totalBytes: 11,
    });
    for (const f of manifest.files as { path: string; size: number; sha256: string }[]) {
      const bytes = await fs.readFile(path.join(folder, f.path));
      expect(f.sha256).toBe(sha256(bytes));
      expect(f.size).toBe(bytes.length);
    }
    expect((manifest.files as { path: string }[]).map((f) => f.path).sort()).toEqual(['sub/x.txt', 'w.bin']);
    expect(await fs.readFile(path.join(dataDir, 'harvest', 'hx', event.pipelineRunId!, 'train', 'report', 'report.txt'), 'utf8')).toBe('hello');
    expect(await fs.readdir(path.join(dataDir, 'harvest', '.partial'))).toEqual([]);
  });

  it('a re-delivered event leaves the harvest unchanged', async () => {
    const event = await finishedEvent();
    const harvest = await buildNotifier({ type: 'download' }, { dataDir, providers });
    await harvest.deliver(event, deliveryContext('d2'));
    const file = path.join(dataDir, 'harvest', 'hx', event.pipelineRunId!, 'train', 'model', 'w.bin');
    const manifestFile = path.join(path.dirname(file), 'manifest.json');
    const [before, manifestBefore] = await Promise.all([fs.stat(file), fs.readFile(manifestFile, 'utf8')]);
    await harvest.deliver(event, deliveryContext('d2'));
    const [after, manifestAfter] = await Promise.all([fs.stat(file), fs.readFile(manifestFile, 'utf8')]);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    expect(manifestAfter).toBe(manifestBefore);
  });

  it('only named or globbed outputs when asked, and skips what is not a finished step', async () => {
    const event = await finishedEvent();
    const harvest = await buildNotifier({ type: 'download', dir: path.join(dataDir, 'only'), outputs: ['rep*'] }, { dataDir, providers });
    await harvest.deliver(event, deliveryContext('d3'));
    expect(await fs.readdir(path.join(dataDir, 'only', 'hx', event.pipelineRunId!, 'train'))).toEqual(['report']);
    expect((await harvest.deliver({ ...event, type: 'steprun.failed' }, deliveryContext()))?.detail).toMatch(/skipped/);
  });

  it.each([
    ['an output name with ..', { outputNames: ['../../../escaped'] }],
    ['an absolute output name', { outputNames: ['/etc/passwd'] }],
    ['a step name with a slash', { name: '../x' }],
  ])('refuses %s, writing nothing outside the folder', async (_label, patch) => {
    const event = await finishedEvent();
    const evil = { ...event, stepRun: { ...event.stepRun!, ...patch } };
    const harvest = await buildNotifier({ type: 'download', dir: path.join(dataDir, 'safe') }, { dataDir, providers });
    await expect(harvest.deliver(evil, deliveryContext())).rejects.toMatchObject({
      code: 'SRW_DELIVERY_FAILED',
      retryable: false,
      message: expect.stringContaining('harvest refused'),
    });
    expect(await fs.readdir(dataDir)).not.toContain('escaped');
  });

  it('refuses an output holding a symbolic link (it could point anywhere)', async () => {
    const event = await finishedEvent();
    const stored = path.join(local.store.outputsDir(event.pipelineRunId!, event.stepRun!.stepRunId), 'model');
    await fs.symlink('/etc/passwd', path.join(stored, 'link'));
    const harvest = await buildNotifier({ type: 'download', dir: path.join(dataDir, 'links') }, { dataDir, providers });
    await expect(harvest.deliver(event, deliveryContext())).rejects.toMatchObject({
      code: 'SRW_DELIVERY_FAILED',
      retryable: false,
      message: expect.stringContaining('symbolic links'),
    });
  });

  it('keep: {runs: 2} leaves the newest two runs of the experiment after each harvest, never one in flight', async () => {
    const dir = path.join(dataDir, 'kept');
    const harvest = await buildNotifier({ type: 'download', dir, keep: { runs: 2 } }, { dataDir, providers });
    const runs: string[] = [];
    for (let i = 0; i < 3; i++) {
      const event = await finishedEvent();
      runs.push(event.pipelineRunId!);
      await harvest.deliver(event, deliveryContext(`k${i}`));
      await new Promise((r) => setTimeout(r, 20)); // folders' times tell the runs' order apart
    }
    expect((await fs.readdir(path.join(dir, 'hx'))).sort()).toEqual([runs[1], runs[2]].sort());

    // A harvest of the oldest kept run under way elsewhere (its marker, as another worker writes it): not removed,
    // although a fourth run pushes it past the limit.
    const busy = path.join(dir, 'hx', runs[1]!, '.in-flight', 'other-worker-delivery');
    await fs.mkdir(path.dirname(busy));
    await fs.writeFile(busy, 'in flight\n');
    await fs.utimes(path.join(dir, 'hx', runs[1]!), new Date(0), new Date(0));
    const fourth = await finishedEvent();
    await harvest.deliver(fourth, deliveryContext('k3'));
    expect((await fs.readdir(path.join(dir, 'hx'))).sort()).toEqual([runs[1], runs[2], fourth.pipelineRunId].sort());
    // Once that harvest is done, the next harvest applies the limit to it too.
    await fs.rm(path.join(dir, 'hx', runs[1]!, '.in-flight'), { recursive: true });
    await fs.utimes(path.join(dir, 'hx', runs[1]!), new Date(0), new Date(0));
    const fifth = await finishedEvent();
    await harvest.deliver(fifth, deliveryContext('k4'));
    expect((await fs.readdir(path.join(dir, 'hx'))).sort()).toEqual([fourth.pipelineRunId, fifth.pipelineRunId].sort());
  });

  it('keep: {days: 7} removes runs harvested more than 7 days ago', async () => {
    const dir = path.join(dataDir, 'kept-days');
    const harvest = await buildNotifier({ type: 'download', dir, keep: { days: 7 } }, { dataDir, providers });
    const old = await finishedEvent();
    await harvest.deliver(old, deliveryContext('old'));
    const eightDaysAgo = new Date(Date.now() - 8 * 86_400_000);
    await fs.utimes(path.join(dir, 'hx', old.pipelineRunId!), eightDaysAgo, eightDaysAgo);
    const recent = await finishedEvent();
    await harvest.deliver(recent, deliveryContext('recent'));
    expect(await fs.readdir(path.join(dir, 'hx'))).toEqual([recent.pipelineRunId]);
  });

  it('keep needs runs or days (the field is named)', async () => {
    await expect(buildNotifier({ type: 'download', keep: {} }, { dataDir, providers })).rejects.toThrow(/notifiers\.\w+\.keep.*give runs or days/);
  });
});
