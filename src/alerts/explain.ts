// "Who would get this event, and why": every route, matched or not and the reason, then the alert decision itself
// (decide.ts, the same call the dispatcher makes) — never a copy of it. Pure.
import type { RouteConfig } from '../config/schema';
import type { DeliveryRecord } from '../store/deliveries';
import { globToRegExp } from '../store/event-fields';
import { formatMatcher, matcherHolds } from '../store/matchers';
import { visitRoutes, type RouteVisit } from './routing';
import { statusOf, summarize, type WatchEvent } from '../store/events';
import { fieldOf, type AlertAction } from './alert-key';
import { decideEvent, holdOf, type AlertPolicy, type DecisionState, type Outcome } from './decide';
import { groupOfMarker, incidentKeyOf } from './incident';
import { heldByOf, incidentDecision, incidentJoinOf } from './incident-join';
import { activeSilencesFor } from './silences';

export interface RouteExplanation {
  route: number;
  /** Where it is written in the tree: `routes[1].routes[0]`. */
  at: string;
  /** How deep in the tree (0: a top-level route). */
  depth: number;
  /** Its own conditions hold (and its parent's did). */
  matched: boolean;
  /** It takes the event (Alertmanager's walk: none of its children took it, no earlier sibling stopped the walk). */
  taken: boolean;
  /** Why it matched, or the first condition that did not. */
  why: string;
  notify: string[];
  group?: { by: string[]; values: string[]; waitMs: number };
  /** A quiet period or time interval holds its deliveries until then. */
  holdUntil?: string;
  repeatEveryMs?: number;
}

export interface IncidentExplanation {
  groupId: string;
  /** The key the pager holds (PagerDuty's dedup_key). */
  key: string;
  /** The notification log (filled in by IncidentStore.explain): what the pager was last sent, and when. */
  log?: { action: string; firing: number; resolved: number; at: string; notifications: number } | null;
  /** A message noted and not yet answered (a flush will send it again as it is). */
  pending?: boolean;
  /** When the group is looked at next. */
  nextFlushAt?: string | null;
}

export interface Explanation {
  event: { id: string; type: string; summary: string };
  alert?: { action: AlertAction; key: string; open?: { since: string; failures: number; told: string[] } };
  routes: RouteExplanation[];
  silencedBy: { id: string; comment: string; endsAt: string }[];
  /**
   * What the routes would do with it now: the alert decision (decide.ts), per notifier, with why; for a pager, the
   * incident group that holds the alert (its key at the pager, and what its notification log says was last sent).
   */
  deliveries: { notifier: string; route: number; outcome: Outcome; reason: string; incident?: IncidentExplanation }[];
  /** What happened to it (routes test --event-id): each delivery record, apart from what would happen now. */
  history?: DeliveryRecord[];
}

/** Who would get this event now, and why: every route, then the decision the dispatcher would make. */
export function explainRouting(policy: AlertPolicy, state: DecisionState, e: WatchEvent, history?: DeliveryRecord[]): Explanation {
  const { now } = state;
  const visits = visitRoutes(policy.routes, e);
  const explained = policy.routes.map((route, i) => explainRoute(policy, route, i, visits[i]!, e, now));
  const decision = decideEvent(policy, state, e);
  const open = decision.key ? state.alert(decision.key) : undefined;
  return {
    event: { id: e.id, type: e.type, summary: summarize(e) },
    ...(decision.action && decision.key
      ? {
          alert: {
            action: decision.action,
            key: decision.key,
            ...(open ? { open: { since: new Date(open.openedAt).toISOString(), failures: open.failures, told: Object.keys(open.told).sort() } } : {}),
          },
        }
      : {}),
    routes: explained,
    silencedBy: activeSilencesFor(state.silences, e, now).map((s) => ({ id: s.id, comment: s.comment, endsAt: new Date(s.endsAt).toISOString() })),
    deliveries: decision.decisions.map((decided) => {
      // A pager's alert joins its incident group: what the dispatcher records (incidentDecision), said here alike.
      const join = incidentJoinOf(policy, decision.action, decision.key, decided, heldByOf(open, e, decided.notifier));
      const d = join ? incidentDecision(decided, join) : decided;
      const groupId = join?.groupId ?? groupOfMarker(open?.told[d.notifier]);
      const incident = groupId ? { incident: { groupId, key: incidentKeyOf(groupId) } } : {};
      return { notifier: d.notifier, route: d.route, outcome: d.outcome, reason: d.reason, ...incident };
    }),
    ...(history ? { history } : {}),
  };
}

function explainRoute(policy: AlertPolicy, route: RouteConfig, index: number, visit: RouteVisit, e: WatchEvent, now: number): RouteExplanation {
  const base = { route: index, at: route.at, depth: route.at.split('.').length - 1, notify: route.notify, taken: visit.taken };
  if (!visit.reached) {
    const why =
      visit.stoppedBy !== undefined
        ? `not reached: ${policy.routes[visit.stoppedBy]!.at} matched first and does not continue`
        : 'not reached: its parent does not match';
    return { ...base, matched: false, why };
  }
  if (!visit.matched) return { ...base, matched: false, why: firstMismatch(route, e) };
  const hold = holdOf(policy, route, e, now);
  const conditions = [...Object.keys(route.match), ...route.matchers.map(formatMatcher)];
  const matches = conditions.length === 0 ? 'matches every event' : `matches ${conditions.join(', ')}`;
  const why = visit.childTook
    ? `${matches}; a child route takes it`
    : visit.taken
      ? matches
      : `${matches}; names no notifier and no child route takes it: nobody is told here`;
  return {
    ...base,
    matched: true,
    why,
    ...(route.group ? { group: { by: route.group.by, values: route.group.by.map((f) => fieldOf(e, f) ?? '-'), waitMs: route.group.wait } } : {}),
    ...(hold ? { holdUntil: new Date(hold).toISOString() } : {}),
    ...(route.repeat ? { repeatEveryMs: route.repeat.every } : {}),
  };
}

/** The first condition of a route that the event fails, in words. */
function firstMismatch(route: RouteConfig, e: WatchEvent): string {
  if (route.summary && e.type.startsWith('steprun.')) return 'a summary route takes pipeline events only';
  const m = route.match;
  const checks: [string, string | string[] | undefined, string | undefined][] = [
    ['type', m.type, e.type],
    ['status', m.status, statusOf(e)],
    ['experiment', m.experiment, e.experiment],
    ['pipeline', m.pipeline, e.pipelineRunId],
    ['step', m.step, e.stepRun?.name],
  ];
  for (const [field, want, value] of checks) {
    if (want === undefined) continue;
    const list = Array.isArray(want) ? want : [want];
    const ok =
      field === 'status' ? list.some((s) => s.toLowerCase() === value?.toLowerCase()) : value !== undefined && list.some((p) => globToRegExp(p).test(value));
    if (!ok) return `${field} is ${value === undefined ? 'absent' : `"${value}"`}, the route wants ${list.join(' | ')}`;
  }
  for (const [k, v] of Object.entries(m.labels ?? {})) if (e.labels[k] !== v) return `label ${k} is ${e.labels[k] ?? 'absent'}, the route wants ${v}`;
  for (const matcher of route.matchers) {
    const value = fieldOf(e, matcher.name);
    if (!matcherHolds(matcher, value)) return `${matcher.name} is ${value === undefined ? 'absent' : `"${value}"`}, the route wants ${formatMatcher(matcher)}`;
  }
  return 'does not match';
}
