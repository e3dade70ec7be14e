// THE alert decision (pure): what happens to an event, a due repeat, a group's flush or a send, per notifier.
// Alertmanager's pipeline — inhibit → silence → (already told?) → hold → group → notify, with repeat and resolve —
// in one place. The dispatcher, the group flush, repeats, resolves, the live Slack message and `routes test` all ask
// it; nothing re-derives it. Inputs are values (the routes, silences, the alert's state as read, the clock).
import type { RouteConfig } from '../config/schema';
import { deliveryId, groupOfDelivery } from '../store/ids';
import type { WatchEvent } from '../store/events';
import { alertActionOf, fieldOf } from './alert-key';
import type { AlertPolicy, AlertView, Decision, DecisionState, EventDecision, NotifierTraits } from './decision-types';
import { inhibitorOf } from './inhibit';
import { alertKeyFor, chooseRoutes } from './route-choice';
import { matchingRoutes } from './routing';
import { activeSilencesFor } from './silences';

export type * from './decision-types';
export { alertKeyFor, chooseRoutes, holdOf } from './route-choice';
export { inhibitorOf, stepFailureOf } from './inhibit';

/**
 * A resolve goes to the notifiers that were sent the alert, whatever the routes say now: their last word must be it.
 * One told in a group hears it in that group's next notification, with the group's other resolves (Alertmanager).
 */
function resolveDecisions(e: WatchEvent): Decision[] {
  return (e.alert?.notifiers ?? []).map((notifier) => {
    const intoGroup = groupOfDelivery(e.alert?.lastMessages?.[notifier], notifier);
    return intoGroup
      ? { notifier, route: -1, outcome: 'send' as const, reason: `it was sent the alert in group ${intoGroup}: its next message`, intoGroup }
      : { notifier, route: -1, outcome: 'send' as const, reason: 'it was sent the alert' };
  });
}

/** An event from the outbox: per notifier, what to do with it. */
export function decideEvent(policy: AlertPolicy, state: DecisionState, e: WatchEvent): EventDecision {
  if (e.type === 'alert.resolved') return { decisions: resolveDecisions(e) };
  const { now } = state;
  const action = alertActionOf(e);
  // The tree is walked once per event: the alert key and the notifiers' routes both follow from the routes taking it.
  const taken = matchingRoutes(policy.routes, e);
  const key = action ? alertKeyFor(policy, e, taken) : undefined;
  // The alert as it was before this event; a replay of the event that opened it is not "another failure".
  const view = key && action === 'open' ? state.alert(key) : undefined;
  const silencedBy = activeSilencesFor(state.silences, e, now).map((s) => s.id);
  const decisions: Decision[] = [];
  for (const [notifier, { route: index, holdUntil }] of chooseRoutes(policy, e, now, taken)) {
    const route = policy.routes[index]!;
    const traits = policy.traits.get(notifier) ?? {};
    const base = {
      notifier,
      route: index,
      ...(action === 'open' && (traits.resendMs ?? route.repeat) ? { repeatEveryMs: traits.resendMs ?? (route.repeat as { every: number }).every } : {}),
      ...(route.severity ? { severity: route.severity } : {}),
      ...(Object.keys(route.annotations).length ? { annotations: route.annotations } : {}),
    };
    // An Alertmanager receiver groups by its own config: each alert goes to it as it comes.
    const group = traits.resendMs ? undefined : (route.group ?? policy.defaultGroups.get(notifier));
    const grouped = group ? { group: { ...group, values: group.by.map((f) => fieldOf(e, f) ?? '-') } } : {};
    const inhibitedBy = inhibitorOf(policy, state, e, key, notifier);
    if (inhibitedBy) {
      decisions.push(
        traits.live
          ? { ...base, outcome: 'update', reason: `inhibited as a page by ${inhibitedBy}; the live message still shows it`, inhibitedBy }
          : { ...base, outcome: 'inhibited', reason: `inhibited by ${inhibitedBy}`, inhibitedBy },
      );
      continue;
    }
    if (silencedBy.length) {
      // The group it would join: a pager's incident group holds a silenced alert too, and pages it when the silence ends.
      decisions.push({ ...base, ...grouped, outcome: 'silenced', reason: `silenced by ${silencedBy.join(', ')}`, silencedBy });
      continue;
    }
    if (view && alreadyTold(view, e, notifier, traits)) {
      decisions.push(renotify(base, route, traits, view));
      continue;
    }
    if (holdUntil) {
      decisions.push({ ...base, ...grouped, outcome: 'held', holdUntil, reason: `held until ${new Date(holdUntil).toISOString()} (${holdReason(route)})` });
      continue;
    }
    if (group) {
      decisions.push({
        ...base,
        ...grouped,
        outcome: 'group',
        reason: `grouped by ${group.by.join(', ')} (sent ${Math.round(group.wait / 1000)}s after the first)`,
      });
      continue;
    }
    decisions.push({ ...base, outcome: 'send', reason: 'matched' });
  }
  return { ...(action ? { action } : {}), ...(key ? { key } : {}), decisions };
}

/** The receiver was sent this open alert already (a pager: or it is in a group on its way). */
function alreadyTold(view: AlertView, e: WatchEvent, notifier: string, traits: NotifierTraits): boolean {
  if (view.openedBy === e.id) return false;
  const told = view.told[notifier];
  if (told !== undefined && told !== deliveryId(e.id, notifier)) return true;
  return Boolean(traits.pager && view.pending[notifier]);
}

/** Another failure of an open alert the receiver knows: the route's `renotify`; a pager pages once. */
function renotify(base: Pick<Decision, 'notifier' | 'route'>, route: RouteConfig, traits: NotifierTraits, view: AlertView): Decision {
  const failures = view.failures + 1;
  const since = `open since ${new Date(view.openedAt).toISOString()}, failure ${failures}`;
  if (traits.live) return { ...base, outcome: 'update', failures, reason: `still failing (${since}): a line in the live message's thread` };
  if (traits.pager) return { ...base, outcome: 'suppressed', reason: `already paged (${since}): a pager keeps one incident per alert` };
  if (route.renotify === 'never') return { ...base, outcome: 'suppressed', reason: `already told (${since}); renotify: never` };
  if (route.renotify === 'always') return { ...base, outcome: 'send', reason: `already told (${since}); renotify: always` };
  return { ...base, outcome: 'update', failures, reason: `already told (${since}): a short "still failing" message` };
}

function holdReason(route: RouteConfig): string {
  const parts = [
    route.quiet && `quiet ${route.quiet.from}–${route.quiet.to}`,
    route.mute.length && `mute ${route.mute.join(', ')}`,
    route.activeOnly.length && `active only ${route.activeOnly.join(', ')}`,
  ];
  return parts.filter(Boolean).join('; ');
}

/** A due repeat of an open alert to one notifier. */
export function decideRepeat(policy: AlertPolicy, state: DecisionState, alert: AlertView, notifier: string): Decision {
  const r = routeNow(policy, state, alert, notifier);
  if ('outcome' in r) return r;
  const { route } = r;
  const { resendMs } = policy.traits.get(notifier) ?? {};
  const every = resendMs ?? (route.repeat ? route.repeat.every : undefined);
  if (!every) return { ...r.base, outcome: 'suppressed', reason: `${route.at} no longer repeats` };
  const quiet = quietNow(policy, state, alert, notifier, r);
  if (quiet) return quiet;
  if (alert.pending[notifier] && alert.told[notifier] === undefined) return { ...r.base, outcome: 'held', reason: 'its grouped page has not been sent yet' };
  const why = resendMs
    ? `posted again every ${Math.round(every / 1000)}s while open (Alertmanager expires what is not)`
    : `repeats every ${Math.round(every / 1000)}s`;
  return { ...r.base, outcome: 'send', reason: `open since ${new Date(alert.openedAt).toISOString()}; ${why}` };
}

/**
 * An open alert a silence, an inhibition or a time interval kept from a notifier that was never told of it, looked
 * at again: once nothing mutes it, the notifier is told it is still failing (Alertmanager's flush after a silence
 * expires), whether or not the route repeats.
 */
export function decideUnmuted(policy: AlertPolicy, state: DecisionState, alert: AlertView, notifier: string): Decision {
  const r = routeNow(policy, state, alert, notifier);
  if ('outcome' in r) return r;
  if (alert.told[notifier] !== undefined || alert.pending[notifier]) return { ...r.base, outcome: 'suppressed', reason: 'told of it already' };
  const quiet = quietNow(policy, state, alert, notifier, r);
  if (quiet) return quiet;
  return { ...r.base, outcome: 'send', reason: `no longer muted; failing since ${new Date(alert.openedAt).toISOString()}` };
}

type RouteNow = { base: Pick<Decision, 'notifier' | 'route' | 'severity' | 'annotations'>; route: RouteConfig; holdUntil?: number };

/** The route that sends an open alert to `notifier` now, or why none does. */
function routeNow(policy: AlertPolicy, state: DecisionState, alert: AlertView, notifier: string): RouteNow | Decision {
  const chosen = chooseRoutes(policy, alert.event, state.now).get(notifier);
  const route = chosen && policy.routes[chosen.route];
  if (!chosen || !route) return { notifier, route: -1, outcome: 'suppressed', reason: `no route sends ${alert.key} to ${notifier} any more` };
  const base = {
    notifier,
    route: chosen.route,
    ...(route.severity ? { severity: route.severity } : {}),
    ...(Object.keys(route.annotations).length ? { annotations: route.annotations } : {}),
  };
  return { base, route, ...(chosen.holdUntil ? { holdUntil: chosen.holdUntil } : {}) };
}

/** What keeps an open alert from a notifier now: an acknowledgement, an inhibition, a silence, a time interval. */
function quietNow(policy: AlertPolicy, state: DecisionState, alert: AlertView, notifier: string, { base, route, holdUntil }: RouteNow): Decision | undefined {
  // An acknowledgement stands until the alert resolves, or until the route's ack.expires. Alertmanager knows no
  // acknowledgement: what still fails is posted to it still.
  if (alert.acked && !policy.traits.get(notifier)?.resendMs && !(route.ack && state.now >= alert.acked.at + route.ack.expires))
    return { ...base, outcome: 'suppressed', reason: `acknowledged by ${alert.acked.by}` };
  const inhibitedBy = inhibitorOf(policy, state, alert.event, alert.key, notifier);
  if (inhibitedBy) return { ...base, outcome: 'inhibited', reason: `inhibited by ${inhibitedBy}`, inhibitedBy };
  const silencedBy = activeSilencesFor(state.silences, alert.event, state.now).map((s) => s.id);
  if (silencedBy.length) return { ...base, outcome: 'silenced', reason: `silenced by ${silencedBy.join(', ')}`, silencedBy };
  if (holdUntil) return { ...base, outcome: 'held', holdUntil, reason: `held until ${new Date(holdUntil).toISOString()} (${holdReason(route)})` };
  return undefined;
}

/**
 * An event of a group whose notification is going out now: kept, or dropped because its alert resolved during the
 * wait (a late trigger would reopen what is closed) or a silence now covers it.
 */
export function decideFlushEvent(state: DecisionState, e: WatchEvent, notifier: string): Decision {
  const base = { notifier, route: -1 };
  if (alertActionOf(e) === 'open' && e.alertKey && !state.alert(e.alertKey))
    return { ...base, outcome: 'suppressed', reason: `${e.alertKey} resolved before the group was sent` };
  const silencedBy = activeSilencesFor(state.silences, e, state.now).map((s) => s.id);
  if (silencedBy.length) return { ...base, outcome: 'silenced', reason: `silenced by ${silencedBy.join(', ')} before the group was sent`, silencedBy };
  return { ...base, outcome: 'send', reason: 'in the group' };
}

/**
 * A message about an open alert as it goes out (a first page, an update, a repeat): not if the alert closed since it
 * was decided — its resolve either went already, or waits for this message (resolveOrder).
 */
export function decideAtSend(e: WatchEvent, alertOpen: boolean): Decision | undefined {
  if (!e.alertKey || e.type === 'alert.resolved' || alertActionOf(e) !== 'open' || alertOpen) return undefined;
  return { notifier: '', route: -1, outcome: 'suppressed', reason: `${e.alertKey} resolved before this was sent` };
}

/**
 * A resolve goes after the last message of its alert that the notifier was sent: `wait` while that one is still on its
 * way, `suppressed` if it never went out (nothing to resolve at the receiver), else `send`.
 */
export function resolveOrder(lastMessageStatus: string | undefined): 'send' | 'wait' | 'suppressed' {
  if (lastMessageStatus === 'pending' || lastMessageStatus === 'retrying') return 'wait';
  // A dead letter may have reached the receiver before its connection broke: resolve it to be sure.
  if (lastMessageStatus === 'suppressed' || lastMessageStatus === 'silenced' || lastMessageStatus === 'inhibited') return 'suppressed';
  return 'send';
}
