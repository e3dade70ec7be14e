// Alerts a silence or an inhibition kept from a notifier that was never told of them, looked at again on the
// scheduler's tick: once nothing mutes one and it still fails, the notifier hears "Still failing since 02:14 UTC
// (7 failures)", whether or not its route repeats (Alertmanager's group flush after a silence expires). A pager's
// alerts are its incident group's business (incident.ts), not this.
import { summarize } from '../store/events';
import { unmutedDeliveryId } from '../store/ids';
import { Scripts } from '../store/scripts';
import { decideUnmuted, type Decision } from './decide';
import { LOOK_AGAIN_MS } from './incident';
import { sendOrRecord, stillFailingEvent, tickState, type RepeatDeps } from './repeats';
import type { Silence } from './silences';

/** Tells the notifiers of the muted alerts that are due, where nothing mutes them now. Returns how many were sent. */
export async function sendDueUnmuted(d: RepeatDeps, now: number, limit = 500): Promise<number> {
  // Claimed with a lease, as repeats are: another daemon's tick does not take the same look meanwhile.
  const due = await new Scripts(d.redis, d.keys).claimDue({ schedule: d.keys.alertsMuted, now, limit, leaseMs: LOOK_AGAIN_MS });
  if (due.length === 0) return 0;
  const stateOf = await tickState(d, now);
  let sent = 0;
  for (const { member } of due) {
    const [alertId, notifier] = member.split('|') as [string, string];
    const alert = await d.alerts.byId(alertId);
    const state = alert && (await stateOf(alert));
    if (!alert || !state) {
      await d.redis.zrem(d.keys.alertsMuted, member); // resolved meanwhile: nothing to tell
      continue;
    }
    const decision = decideUnmuted(d.policy, state, alert, notifier);
    if (isMuted(decision)) {
      await d.redis.zadd(d.keys.alertsMuted, 'XX', nextLookAt(decision, state.silences, now), member);
      continue;
    }
    if (decision.outcome === 'send') {
      const event = stillFailingEvent(alert);
      const id = unmutedDeliveryId(alert.openedBy, notifier, alert.failures);
      if (await sendOrRecord(d, alert, decision, { id, event, summary: `still failing: ${summarize(event)}` }, now)) sent++;
    }
    // Sent now, or told already, acknowledged, routed elsewhere: nothing more to look at.
    await d.redis.zrem(d.keys.alertsMuted, member);
  }
  return sent;
}

function isMuted(d: Decision): boolean {
  return d.outcome === 'silenced' || d.outcome === 'inhibited' || d.outcome === 'held';
}

/**
 * When a muted alert is looked at again: when the silences that mute it end or the hold lapses, and at least once a
 * minute (an inhibition lifts when its source resolves; a silence may be replaced by a longer one). A silence expired
 * by hand brings every look forward (SilenceStore.expire).
 */
export function nextLookAt(d: Pick<Decision, 'silencedBy' | 'holdUntil'>, silences: Pick<Silence, 'id' | 'endsAt'>[], now: number): number {
  const ends = silences.filter((s) => d.silencedBy?.includes(s.id)).map((s) => s.endsAt);
  return Math.max(now + 1, Math.min(now + LOOK_AGAIN_MS, d.holdUntil ?? Infinity, ...ends));
}
