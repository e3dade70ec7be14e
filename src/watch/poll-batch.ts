// A poll job's tracks (claims due close together): read in one round trip, then each polled as its own poll, at
// most `slots` polls at once in this process whatever the jobs carry. One poll's Redis error fails the job (it is
// not retried: the due set claims the track again) only once the others have ended.
import type { Slots } from '../util/slots';
import { pollAsRead, type PollDeps, type PollOutcome } from './poll';
import { readTracks } from './poll-read';

export async function pollBatch(deps: PollDeps, trackIds: string[], slots: Slots, onOutcome: (o: PollOutcome) => void): Promise<void> {
  const reads = await readTracks(deps, trackIds);
  const settled = await Promise.allSettled(
    reads.map((read) =>
      slots.run(async () => {
        const outcome = await pollAsRead(deps, read);
        onOutcome(outcome);
      }),
    ),
  );
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
}
