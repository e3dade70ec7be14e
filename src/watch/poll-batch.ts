// A poll job's polls (claims due close together): their tracks read in one round trip, then each polled as its own
// poll at its own due time (sharing a job saves BullMQ's per-job work, not time: a poll run early would be polled
// more often than its interval says, and take more than its share of a short request budget), at most `slots` polls
// at once in this process whatever the jobs carry. One poll's Redis error fails the job (it is not retried: the due
// set claims the track again) only once the others have ended.
import type { PollClaim } from '../store/queues';
import type { Slots } from '../util/slots';
import { pollAsRead, type PollDeps, type PollOutcome } from './poll';
import { readTracks } from './poll-read';

export async function pollBatch(deps: PollDeps, polls: PollClaim[], slots: Slots, onOutcome: (o: PollOutcome) => void): Promise<void> {
  const reads = await readTracks(
    deps,
    polls.map((p) => p.trackId),
  );
  const settled = await Promise.allSettled(
    reads.map(async (read, i) => {
      const wait = polls[i]!.dueAt - deps.clock.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await slots.run(async () => onOutcome(await pollAsRead(deps, read)));
    }),
  );
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
}
