// The scheduler against a real Redis: each due track claimed once however many schedulers tick, only what is due,
// polls delayed to their due times, and a restart that polls what is due at once.
import { waitFor } from '../../support/wait-for';
import { Worker } from 'bullmq';
import { systemClock } from '../../../src/util/clock';
import { pollJobs, pollQueue, pollsOfJob } from '../../../src/store/queues';
import { Scheduler } from '../../../src/watch/scheduler';
import { trackFromRequest } from '../../../src/store/tracks';
import { watcherRig } from '../../support/watcher-rig';

const { logger, redis, keys, tracks } = watcherRig('scheduler');

describe('scheduler', () => {
  it('two schedulers ticking at once enqueue each due track once', async () => {
    const queue = pollQueue(redis, keys, 'local');
    try {
      for (let i = 0; i < 50; i++) await tracks.add(trackFromRequest({ provider: 'local', pipelineRun: `p${i}` }, 'cli', Date.now()));
      const make = () => new Scheduler({ redis, keys, queues: new Map([['local', queue]]), clock: systemClock, batch: 1000, leaseMs: 60000, logger });
      const [a, b] = await Promise.all([make().tick(), make().tick()]);
      expect(a + b).toBe(50);
      const queued = (await queue.getJobs(['waiting'])).flatMap((j) => pollsOfJob(j.data).map((c) => c.trackId));
      expect(queued).toHaveLength(50);
      expect(new Set(queued).size).toBe(50);
      // Still leased: a third tick finds nothing due.
      expect(await make().tick()).toBe(0);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('a tick claims only due tracks: its cost follows the number due, not the number tracked', async () => {
    const queue = pollQueue(redis, keys, 'local');
    try {
      for (let i = 0; i < 20; i++) await tracks.add(trackFromRequest({ provider: 'local', pipelineRun: `q${i}` }, 'cli', Date.now()));
      const ids = (await tracks.list()).map((t) => t.id).slice(0, 15);
      for (const id of ids) await redis.zadd(keys.due('local'), Date.now() + 60000, id);
      const s = new Scheduler({ redis, keys, queues: new Map([['local', queue]]), clock: systemClock, batch: 1000, leaseMs: 60000, logger });
      expect(await s.tick()).toBe(5);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
  it('issue 13: a tick also claims the tracks due before the next tick, each as a poll delayed to its exact due time', async () => {
    const queue = pollQueue(redis, keys, 'local');
    try {
      const now = Date.now();
      const dueIn = [0, 1200, 3900, 4500, 9000];
      for (const [i, ms] of dueIn.entries()) {
        const t = trackFromRequest({ provider: 'local', pipelineRun: `la${i}` }, 'cli', now);
        await tracks.add(t);
        await redis.zadd(keys.due('local'), now + ms, t.id);
      }
      const s = new Scheduler({ redis, keys, queues: new Map([['local', queue]]), clock: { now: () => now }, batch: 1000, leaseMs: 60000, logger });
      // The next tick is 5 s away: everything due before it is claimed now, not left to wait for that tick.
      expect(await s.tick(5000)).toBe(4);
      const delays = (await queue.getJobs(['waiting', 'delayed'])).map((j) => j.opts.delay ?? 0).sort((a, b) => a - b);
      expect(delays).toEqual([0, 1200, 3900, 4500]);
      // A claimed track is leased from its due time: the next tick does not claim it again.
      expect(await s.tick(5000)).toBe(0);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('a started scheduler ticks at once: after a restart, what is due is polled now, not at the first cron tick', async () => {
    const queue = pollQueue(redis, keys, 'local');
    // A tick that never comes during the test (midnight on January 1st).
    const s = new Scheduler({ redis, keys, queues: new Map([['local', queue]]), clock: systemClock, batch: 1000, leaseMs: 60000, logger });
    try {
      await tracks.add(trackFromRequest({ provider: 'local', pipelineRun: 'restarted' }, 'cli', Date.now()));
      s.start('0 0 0 1 1 *');
      await waitFor(async () => (await queue.getJobCountByTypes('waiting', 'delayed')) > 0, { timeoutMs: 2000, what: 'the start-up claim' });
      expect(await queue.getJobCountByTypes('waiting', 'delayed')).toBe(1);
    } finally {
      await s.stop();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('a track claimed while its last poll job is still finishing gets a poll of its own, not one dropped as a duplicate', async () => {
    // A poll commits the track's next due time, then its job still runs a little (stuck notes, recovery) before it
    // completes: a tick in that gap claims the track. Its add must not be a no-op on the finishing job's id, or the
    // track waits out its whole lease (90 s at the defaults) with no poll at all.
    const queue = pollQueue(redis, keys, 'local');
    const connection = redis.duplicate();
    const worker = new Worker(queue.name, null, { connection, prefix: keys.bullPrefix, autorun: false });
    try {
      const t = trackFromRequest({ provider: 'local', pipelineRun: 'finishing' }, 'cli', Date.now());
      await tracks.add(t);
      const [first] = pollJobs([{ trackId: t.id, dueAt: Date.now() }], Date.now());
      await queue.add(first!.name, first!.data, first!.opts);
      const active = (await worker.getNextJob('tok'))!;
      expect(pollsOfJob(active.data).map((c) => c.trackId)).toEqual([t.id]);
      await redis.zadd(keys.due('local'), Date.now() + 5, t.id); // the commit's next due time
      const s = new Scheduler({ redis, keys, queues: new Map([['local', queue]]), clock: systemClock, batch: 1000, leaseMs: 60000, logger });
      expect(await s.tick(1000)).toBe(1);
      await active.moveToCompleted('done', 'tok', false);
      const pending = await queue.getJobs(['waiting', 'delayed']);
      expect(pending.flatMap((j) => pollsOfJob(j.data).map((c) => c.trackId))).toEqual([t.id]);
    } finally {
      await worker.close();
      connection.disconnect();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
