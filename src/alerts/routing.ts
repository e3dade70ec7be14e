// Routing rules (pure): whether a route matches an event, and which routes of the tree take it. What then happens
// per notifier is the alert decision's (src/alerts/decide.ts).
import type { RouteConfig } from '../config/schema';
import { globToRegExp } from '../store/event-fields';
import { statusOf, type WatchEvent } from '../store/events';
import { matcherHolds, type Matcher } from '../store/matchers';
import { alertActionOf, fieldOf } from './alert-key';

/** How the walk of the tree met one route. */
export interface RouteVisit {
  /** Its parent matched, and no earlier sibling stopped the walk. */
  reached: boolean;
  /** Its own conditions hold (looked at only when reached). */
  matched: boolean;
  /** It takes the event: it matched, names notifiers, and none of its children took it. */
  taken: boolean;
  /** One of its children (or theirs) took it. */
  childTook: boolean;
  /** Not reached because this earlier sibling matched and does not continue. */
  stoppedBy?: number;
}

/**
 * Alertmanager's walk of the tree: among siblings, each that matches (its own conditions; its parent's matched
 * already) takes the event through its children, or itself when none of them does; the walk stops at the first that
 * matched unless it continues. Top-level routes continue by default. A matching route that names no notifier and
 * whose children all pass takes the event to nobody.
 */
export function visitRoutes(routes: readonly RouteConfig[], e: WatchEvent): RouteVisit[] {
  const visits: RouteVisit[] = routes.map(() => ({ reached: false, matched: false, taken: false, childTook: false }));
  const walk = (siblings: readonly number[]): boolean => {
    let tookAny = false;
    let stopper: number | undefined;
    for (const index of siblings) {
      const visit = visits[index]!;
      if (stopper !== undefined) {
        visit.stoppedBy = stopper;
        continue;
      }
      const route = routes[index]!;
      visit.reached = true;
      visit.matched = routeMatches(route, e);
      if (!visit.matched) continue;
      visit.childTook = walk(route.children);
      visit.taken = !visit.childTook && route.notify.length > 0;
      tookAny ||= visit.childTook || visit.taken;
      if (!route.continue) stopper = index;
    }
    return tookAny;
  };
  walk(routes.flatMap((r, i) => (r.parent === undefined ? [i] : [])));
  return visits;
}

/** The routes that take an event (visitRoutes), in the order they are written. */
export function matchingRoutes(routes: readonly RouteConfig[], e: WatchEvent): number[] {
  return visitRoutes(routes, e).flatMap((v, i) => (v.taken ? [i] : []));
}

/** Whether every matcher holds for the event (a field it lacks is the empty string, as in Alertmanager). */
export function matchersHold(matchers: readonly Matcher[], e: WatchEvent): boolean {
  return matchers.every((m) => matcherHolds(m, fieldOf(e, m.name)));
}

function list(v: string | string[] | undefined): string[] | undefined {
  return v === undefined ? undefined : Array.isArray(v) ? v : [v];
}

function anyGlob(patterns: string[] | undefined, value: string | undefined): boolean {
  if (!patterns) return true;
  if (value === undefined) return false;
  return patterns.some((p) => globToRegExp(p).test(value));
}

/** The route's own conditions (`match` and `matchers`), not its parent's. */
export function routeMatches(route: RouteConfig, e: WatchEvent): boolean {
  const m = route.match;
  // A summary route speaks once per pipeline run: step events are not its business.
  if (route.summary && e.type.startsWith('steprun.')) return false;
  const status = statusOf(e);
  // Raw sub-state changes (Queued → Preparing, Running → Finalizing) are many and rarely news: a route takes them
  // only by naming `steprun.substate`. Entering or leaving an alerting one (NotResponding) matches as any event.
  if (e.type === 'steprun.substate' && !alertActionOf(e) && !list(m.type)?.includes('steprun.substate')) return false;
  if (!anyGlob(list(m.type), e.type)) return false;
  if (m.status && !(list(m.status) ?? []).some((s) => s.toLowerCase() === status?.toLowerCase())) return false;
  if (!anyGlob(list(m.experiment), e.experiment)) return false;
  if (!anyGlob(list(m.pipeline), e.pipelineRunId)) return false;
  // A step pattern only matches step events.
  if (!anyGlob(list(m.step), e.stepRun?.name)) return false;
  for (const [k, v] of Object.entries(m.labels ?? {})) if (e.labels[k] !== v) return false;
  return matchersHold(route.matchers, e);
}
