import { validateConfig } from '../../src/config/load';
import { pollsPerJobOf } from '../../src/runtime/wiring';
import type { RunProvider } from '../../src/model/provider';
import { POLL_JOB_SPREAD_MS, pollJobs, pollsOfJob } from '../../src/store/queues';
import { Slots } from '../../src/util/slots';

describe('poll jobs', () => {
  const now = 1_000_000;

  it('claims due close together share a job, delayed to the first due time, earliest first and at most perJob each', () => {
    const claims = [
      { trackId: 'c', dueAt: now + 1000 + POLL_JOB_SPREAD_MS + 1 },
      { trackId: 'a', dueAt: now + 1000 },
      { trackId: 'b', dueAt: now + 1000 + POLL_JOB_SPREAD_MS },
      { trackId: 'd', dueAt: now + 1200 },
      { trackId: 'e', dueAt: now + 1201 },
      { trackId: 'f', dueAt: now + 1202 },
      { trackId: 'late', dueAt: now - 50 },
    ];
    const jobs = pollJobs(claims, now, 2);
    expect(jobs.map((j) => [pollsOfJob(j.data).map((c) => c.trackId), j.opts.delay])).toEqual([
      [['late'], 0],
      [['a', 'b'], 1000],
      [['c', 'd'], 1000 + POLL_JOB_SPREAD_MS + 1],
      [['e', 'f'], 1201],
    ]);
  });

  it('a job id names its tracks and first due time: the same claim twice is one job, another set is another job', () => {
    const [one] = pollJobs([{ trackId: 't1', dueAt: now }], now);
    expect(one!.opts.jobId).toBe(`poll-t1-${now}`);
    const id = (ids: string[]) =>
      pollJobs(
        ids.map((trackId) => ({ trackId, dueAt: now })),
        now,
      )[0]!.opts.jobId;
    expect(id(['t1', 't2'])).toBe(id(['t1', 't2']));
    expect(id(['t1', 't2'])).not.toBe(id(['t1', 't3']));
    expect(id(['t1', 't2'])).not.toContain(':');
  });

  it('a job carries each poll with its own due time; one queued before batches (one trackId) is due at once', () => {
    const [job] = pollJobs(
      [
        { trackId: 'a', dueAt: now + 10 },
        { trackId: 'b', dueAt: now + 60 },
      ],
      now,
    );
    expect(pollsOfJob(job!.data)).toEqual([
      { trackId: 'a', dueAt: now + 10 },
      { trackId: 'b', dueAt: now + 60 },
    ]);
    expect(pollsOfJob({ trackId: 'old' })).toEqual([{ trackId: 'old', dueAt: 0 }]);
  });
});

describe('slots', () => {
  it('runs at most its size at once, the waiting ones in the order they asked, and frees a slot when work fails', async () => {
    const slots = new Slots(2);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const work = (i: number) =>
      slots.run(async () => {
        started.push(i);
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        if (i === 1) throw new Error('boom');
        return i;
      });
    const results = await Promise.allSettled([0, 1, 2, 3, 4].map(work));
    expect(most).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
  });
});

describe('polls per job', () => {
  it("a rate-limited provider's polls go one per job (BullMQ's limiter counts jobs), the others' together", () => {
    const config = validateConfig({ poll: { providers: { slow: { maxPerMinute: 60 }, quick: { concurrency: 4 } } } }, { env: {} });
    expect(pollsPerJobOf(config, 'slow')).toBe(1);
    expect(pollsPerJobOf(config, 'quick')).toBeUndefined();
    expect(pollsPerJobOf(config, 'local')).toBeUndefined();
  });

  it("a metered provider's polls (a request budget shared across processes) go one per job: they queue for it one by one", () => {
    const config = validateConfig({}, { env: {} });
    expect(pollsPerJobOf(config, 'prod', { kind: 'azureml', metered: true } as RunProvider)).toBe(1);
    expect(pollsPerJobOf(config, 'local', { kind: 'local' } as RunProvider)).toBeUndefined();
  });
});
