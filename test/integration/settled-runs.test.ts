// The local provider's reads of quiet runs: reused while the run's change marker stands still (one stat), never
// past a write, never under a marker touched within the last second, re-read within maxAge, bounded in number.
import { utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { changesDir } from '../../src/providers/local/change-feed';
import type { StepRecord } from '../../src/providers/local/records';
import { SettledRuns } from '../../src/providers/local/settled-runs';
import { RunStore } from '../../src/providers/local/store';
import { seededStep } from '../support/seed-runs';
import { tempDir } from '../support/tmp';

const at = new Date('2026-12-01T10:00:00Z');

async function seed(store: RunStore, id: string): Promise<StepRecord> {
  await store.createPipeline({ schema: 1, pipelineRunId: id, experiment: 'e', createdTime: at.toISOString(), status: null, source: 'exec' });
  const step = seededStep('e', id, 0, 'Running', at);
  await store.writeStep(step);
  return step;
}

/** Sets a run's change marker `agoMs` into the past (as if its last write were that long ago). */
function settle(store: RunStore, id: string, agoMs = 5000): number {
  const when = new Date(Date.now() - agoMs);
  utimesSync(path.join(changesDir(store.root), `e@${id}`), when, when);
  return when.getTime();
}

/** A store whose record reads are counted. */
function counted(root: string): { store: RunStore; reads: () => number } {
  const store = new RunStore(root);
  let reads = 0;
  for (const method of ['readPipeline', 'readSteps'] as const) {
    const original = store[method].bind(store) as (id: string) => Promise<never>;
    (store as unknown as Record<string, unknown>)[method] = (id: string) => {
      reads++;
      return original(id);
    };
  }
  return { store, reads: () => reads };
}

const statusOf = async (runs: SettledRuns, id: string) => (await runs.steps(id)).steps[0]!.status;

it('a quiet run is read from disk once, then reused; a write moves its marker and the next read sees it', async () => {
  const { store, reads } = counted(path.join(tempDir('settled'), 'runs'));
  const step = await seed(store, 'p1');
  settle(store, 'p1');
  const runs = new SettledRuns(store);
  await runs.pipeline('p1'); // learns the run's experiment (its marker's name): read, not kept
  expect(await statusOf(runs, 'p1')).toBe('Running'); // read under the settled marker, kept
  await runs.pipeline('p1');
  const after = reads();
  for (let i = 0; i < 5; i++) {
    await runs.pipeline('p1');
    expect(await statusOf(runs, 'p1')).toBe('Running');
  }
  expect(reads()).toBe(after);

  await store.writeStep({ ...step, status: 'Finished', rawStatus: 'Finished', endTime: at.toISOString() });
  expect(await statusOf(runs, 'p1')).toBe('Finished');
  expect(reads()).toBeGreaterThan(after);
});

it('a run asked for with its experiment (as a poll asks) is kept from its first read: a restart reads each quiet run once, not twice', async () => {
  const { store, reads } = counted(path.join(tempDir('settled'), 'runs'));
  await seed(store, 'p2');
  settle(store, 'p2');
  const runs = new SettledRuns(store);
  expect((await runs.steps('p2', 'e')).steps[0]!.status).toBe('Running');
  const after = reads();
  expect((await runs.steps('p2', 'e')).steps[0]!.status).toBe('Running');
  expect(reads()).toBe(after);
  // A wrong experiment names no marker: nothing is reused under it.
  const other = new SettledRuns(store);
  await other.steps('p2', 'not-its-experiment');
  const before = reads();
  await other.steps('p2', 'not-its-experiment');
  expect(reads()).toBeGreaterThan(before);
});

it('a marker touched within the last second is not trusted: a second write in the same millisecond is still seen', async () => {
  const { store } = counted(path.join(tempDir('settled-ms'), 'runs'));
  const step = await seed(store, 'p2');
  const runs = new SettledRuns(store);
  await runs.pipeline('p2');
  const marker = path.join(changesDir(store.root), 'e@p2');
  const touched = new Date();
  utimesSync(marker, touched, touched);
  expect(await statusOf(runs, 'p2')).toBe('Running');
  // Another write lands with the very same marker time (two writes within one millisecond).
  await store.writeStep({ ...step, status: 'Failed', rawStatus: 'Failed', endTime: at.toISOString() });
  utimesSync(marker, touched, touched);
  expect(await statusOf(runs, 'p2')).toBe('Failed');
});

it('an edit that bypasses the store (the marker does not move) is seen within maxAge', async () => {
  let now = Date.now();
  const { store } = counted(path.join(tempDir('settled-age'), 'runs'));
  const step = await seed(store, 'p3');
  settle(store, 'p3');
  const runs = new SettledRuns(store, { maxAgeMs: 60_000, now: () => now });
  await runs.pipeline('p3');
  expect(await statusOf(runs, 'p3')).toBe('Running');
  writeFileSync(path.join(store.stepDir('p3', step.stepRunId), 'step.json'), JSON.stringify({ ...step, status: 'Canceled', rawStatus: 'Canceled' }));
  expect(await statusOf(runs, 'p3')).toBe('Running'); // reused: nothing told it
  now += 61_000;
  expect(await statusOf(runs, 'p3')).toBe('Canceled');
});

it('an unreadable record is read again each time; at most maxRuns runs are kept', async () => {
  const { store, reads } = counted(path.join(tempDir('settled-bound'), 'runs'));
  const step = await seed(store, 'p4');
  settle(store, 'p4');
  writeFileSync(path.join(store.stepDir('p4', step.stepRunId), 'step.json'), '{"truncated');
  const runs = new SettledRuns(store, { maxRuns: 2 });
  await runs.pipeline('p4');
  expect((await runs.steps('p4')).unreadable).toHaveLength(1);
  const before = reads();
  expect((await runs.steps('p4')).unreadable).toHaveLength(1);
  expect(reads()).toBeGreaterThan(before);

  for (const id of ['q1', 'q2', 'q3']) {
    await seed(store, id);
    settle(store, id);
    await runs.pipeline(id); // learns the experiment
    await runs.steps(id); // kept
  }
  const kept = reads();
  await runs.steps('q3');
  await runs.steps('q2');
  expect(reads()).toBe(kept); // the two most recent are kept
  await runs.steps('q1');
  expect(reads()).toBeGreaterThan(kept); // the oldest was dropped
});
