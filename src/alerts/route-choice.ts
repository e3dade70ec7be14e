// Which route decides for each notifier, the alert key it gives an event, and until when it holds it (pure).
import type { RouteConfig } from '../config/schema';
import { isFailure } from './alert-key';
import { matchingRoutes } from './routing';
import type { WatchEvent } from '../store/events';
import { alertKeyOf, type KeyField } from './alert-key';
import type { AlertPolicy } from './decision-types';
import { holdsUntil, intervalActive, quietRange, rangeHolds } from './time-intervals';

/** A notifier's route for an event: the first matching route that does not hold it, else the one holding it least. */
export interface Chosen {
  route: number;
  holdUntil?: number;
}

/**
 * The event with its route's annotations (runbook, summary, ...) under its own (a track's, which say more about
 * their pipeline): Mustache still, rendered as the message is sent.
 */
export function annotated(e: WatchEvent, annotations: Record<string, string> | undefined): WatchEvent {
  if (!annotations || Object.keys(annotations).length === 0) return e;
  return { ...e, annotations: { ...annotations, ...e.annotations } };
}

/** The annotations of the routes that take an event (the first route to name one wins), under the event's own. */
export function routeAnnotationsOf(policy: AlertPolicy, e: WatchEvent): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const i of matchingRoutes(policy.routes, e)) for (const [name, value] of Object.entries(policy.routes[i]!.annotations)) merged[name] ??= value;
  return { ...merged, ...e.annotations };
}

/** The alert key of an event: a route's `key` (the first matching route that sets one) or the default. */
export function alertKeyFor(policy: AlertPolicy, e: WatchEvent, taken = matchingRoutes(policy.routes, e)): string {
  const keyRoute = taken.map((i) => policy.routes[i]!).find((r) => r.key);
  return alertKeyOf(e, keyRoute?.key as KeyField[] | undefined);
}

/** The notifiers an event goes to, each with the route that decides for it. */
export function chooseRoutes(policy: AlertPolicy, e: WatchEvent, now: number, taken = matchingRoutes(policy.routes, e)): Map<string, Chosen> {
  const chosen = new Map<string, Chosen>();
  for (const index of taken) {
    const route = policy.routes[index]!;
    const holdUntil = holdOf(policy, route, e, now);
    for (const notifier of route.notify) {
      const known = chosen.get(notifier);
      if (!known || (known.holdUntil && (!holdUntil || holdUntil < known.holdUntil)))
        chosen.set(notifier, { route: index, ...(holdUntil ? { holdUntil } : {}) });
    }
  }
  return chosen;
}

/** Until when a route holds an event back: its quiet period (not failures), a `mute` interval, outside `activeOnly`. */
export function holdOf(policy: AlertPolicy, route: RouteConfig, e: WatchEvent, now: number): number | undefined {
  return holdUntilOf(policy, route, now, route.quiet && !isFailure(e));
}

/** Until when a route's time intervals (`mute`, outside `activeOnly`) hold every notification of it back: an incident group's. */
export function mutedUntil(policy: AlertPolicy, route: RouteConfig, now: number): number | undefined {
  return holdUntilOf(policy, route, now, false);
}

function holdUntilOf(policy: AlertPolicy, route: RouteConfig, now: number, quietHolds: boolean | undefined): number | undefined {
  const ranges = (names: string[]) => names.flatMap((n) => policy.timeIntervals[n] ?? []);
  const muted = ranges(route.mute);
  const active = ranges(route.activeOnly);
  const quiet = quietHolds && route.quiet ? [quietRange(route.quiet)] : [];
  const holds = (t: number) => quiet.some((r) => rangeHolds(r, t)) || intervalActive(muted, t) || (active.length > 0 && !intervalActive(active, t));
  if (!holds(now)) return undefined;
  return holdsUntil(holds, now) ?? now + 8 * 86_400_000;
}
