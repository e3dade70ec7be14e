// One repeat per group, never per alert (Alertmanager's repeat_interval is a group's): when a repeat of a grouped
// route comes due, the group's other open alerts that would repeat to the same notifier go in the same message —
// the oldest leads, the rest are listed — and their next repeats are set with it. A 40-step storm on a chat route
// repeats as one message, not forty. Silenced, inhibited, held or acknowledged alerts are not listed (decideRepeat).
import { fieldOf } from './alert-key';
import type { OpenAlert } from './alert-store';
import { decideRepeat, type AlertPolicy, type Decision, type DecisionState } from './decide';
import { chooseRoutes } from './route-choice';

export interface RepeatGroupContext {
  policy: AlertPolicy;
  now: number;
  /** The open alerts (read once per tick, when a grouped repeat first needs them). */
  open(): Promise<OpenAlert[]>;
  stateOf(alert: OpenAlert): Promise<DecisionState>;
}

/**
 * The alerts whose repeats to `notifier` go out with `alert`'s, the oldest first (it leads), each with its decision;
 * just `alert` when its route does not group, or its receiver is a pager, the live Slack message or an Alertmanager
 * (they hold their own groups).
 */
export async function repeatGroupOf(
  c: RepeatGroupContext,
  alert: OpenAlert,
  notifier: string,
  decision: Decision,
): Promise<{ alert: OpenAlert; decision: Decision }[]> {
  const alone = [{ alert, decision }];
  const group = c.policy.routes[decision.route]?.group;
  const traits = c.policy.traits.get(notifier) ?? {};
  if (!group || traits.pager || traits.live || traits.resendMs) return alone;
  const valuesOf = (a: OpenAlert) => group.by.map((f) => fieldOf(a.event, f) ?? '-').join('\u0000');
  const values = valuesOf(alert);
  const members = [...alone];
  for (const other of await c.open()) {
    if (other.key === alert.key || !other.repeats[notifier] || other.told[notifier] === undefined || valuesOf(other) !== values) continue;
    if (chooseRoutes(c.policy, other.event, c.now).get(notifier)?.route !== decision.route) continue;
    const theirs = decideRepeat(c.policy, await c.stateOf(other), other, notifier);
    if (theirs.outcome === 'send') members.push({ alert: other, decision: theirs });
  }
  return members.sort((a, b) => a.alert.openedAt - b.alert.openedAt || a.alert.key.localeCompare(b.alert.key));
}
