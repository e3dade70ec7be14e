// The local provider's record reads in a thread (record-reader.ts), as the daemon runs them: the compiled code (a
// thread runs JavaScript; `npm test` builds first). It answers what the store answers, records and errors alike; a
// thread that dies fails its reads and the next read starts another; it does not hold a process open.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { RunStore } from '../../src/providers/local/store';
import { seedRun } from '../support/seed-runs';
import { tempDir } from '../support/tmp';

const COMPILED = path.resolve(__dirname, '../../dist/src/providers/local/record-reader.js');
const { ThreadedReader, canReadInThread } = require(COMPILED) as typeof import('../../src/providers/local/record-reader');

const at = new Date('2026-12-01T10:00:00Z');
const root = path.join(tempDir('reader-thread'), 'runs');
const store = new RunStore(root);
let reader: InstanceType<typeof ThreadedReader>;

beforeAll(async () => {
  await seedRun(store, { experiment: 'e', pipelineRunId: 'p1', steps: 3, status: 'Running', at });
  await seedRun(store, { experiment: 'e', pipelineRunId: 'p2', steps: 2, status: 'Queued', at });
  reader = new ThreadedReader(store.root);
});
afterAll(() => reader.close());

it('the compiled reader runs in a thread (the source under ts-jest does not)', async () => {
  expect(canReadInThread()).toBe(true);
  const source = await import('../../src/providers/local/record-reader');
  expect(source.canReadInThread()).toBe(false);
});

it('answers what the store answers: the pipeline record and the steps in order', async () => {
  expect(await reader.readPipeline('p1')).toEqual(await store.readPipeline('p1'));
  const known = await store.readPipeline('p1');
  expect(await reader.readSteps('p1', known)).toEqual(await store.readSteps('p1', known));
  expect(await reader.readSteps('p2')).toEqual(await store.readSteps('p2'));
  // Many at once, each answered to its own caller.
  const all = await Promise.all(Array.from({ length: 50 }, (_, i) => reader.readSteps(i % 2 ? 'p1' : 'p2')));
  all.forEach((listing, i) => expect(listing.steps.map((s) => s.pipelineRunId)).toEqual(Array(i % 2 ? 3 : 2).fill(i % 2 ? 'p1' : 'p2')));
});

it('errors cross with their code and message: an unknown run, a corrupt step record', async () => {
  await expect(reader.readSteps('nope')).rejects.toMatchObject({ code: 'SRW_RUN_NOT_FOUND', message: 'run not found: nope', runId: 'nope' });
  await expect(reader.readPipeline('../x')).rejects.toMatchObject({ code: 'SRW_INVALID_INPUT' });

  await seedRun(store, { experiment: 'e', pipelineRunId: 'p3', steps: 2, status: 'Running', at });
  const [first] = (await store.readSteps('p3')).steps;
  writeFileSync(path.join(store.stepDir('p3', first!.stepRunId), 'step.json'), '{"schema":');
  const listing = await reader.readSteps('p3');
  expect(listing.steps).toHaveLength(1);
  expect(listing.unreadable).toEqual([{ stepRunId: first!.stepRunId, error: expect.objectContaining({ code: 'SRW_RECORD_CORRUPT', retryable: false }) }]);
  expect(listing.unreadable[0]!.error.message).toMatch(/corrupt run record .*step\.json: not valid JSON/);
});

it('a thread that dies fails the reads it had; the next read starts another', async () => {
  const local = new ThreadedReader(store.root);
  expect((await local.readSteps('p1')).steps).toHaveLength(3);
  const pending = local.readSteps('p1');
  await (local as unknown as { thread: { terminate(): Promise<number> } }).thread.terminate();
  await expect(pending).rejects.toThrow(/exited/);
  expect((await local.readSteps('p2')).steps).toHaveLength(2);
  await local.close();
  await expect(local.readSteps('p2').finally(() => local.close())).resolves.toMatchObject({ unreadable: [] });
});

it('does not hold a process open: a script that reads and never closes the reader exits', () => {
  const script = `const { ThreadedReader } = require(${JSON.stringify(COMPILED)});
    new ThreadedReader(${JSON.stringify(store.root)}).readSteps('p1').then((l) => console.log(l.steps.length));`;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
  expect(run.error).toBeUndefined();
  expect(run.status).toBe(0);
  expect(run.stdout.trim()).toBe('3');
});
