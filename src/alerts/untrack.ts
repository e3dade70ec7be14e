// Untracking: the track goes, and its own alert — a track.error that can no longer recover, since nothing polls the
// track — is resolved, saying so (else it would stay open, and repeat, for good).
import type { TrackStore } from '../store/tracks';
import { trackAlertKey } from './alert-key';
import type { AlertStore } from './alert-store';

/** Removes the track; false when there was none. Without an alert store (an API with no alerts) only the track goes. */
export async function untrack(tracks: TrackStore, alerts: AlertStore | undefined, trackId: string, now: number): Promise<boolean> {
  if (!(await tracks.remove(trackId))) return false;
  await alerts?.resolveByHand(trackAlertKey(trackId), 'untracked (the track is no longer watched)', now, 'untracked');
  return true;
}
