// "Who would get this event, and why": every route, matched or not and the reason, with what holds a delivery back (pure).
import type { RouteConfig } from '../config/schema';
import { globToRegExp, quietUntil, routeMatches } from '../notify/routing';
import { isFailure } from '../notify/formats/describe';
import type { WatchEvent } from '../store/events';
import { alertActionOf, alertKeyOf, fieldOf, type AlertAction, type KeyField } from './alert-key';
import { activeSilencesFor, type Silence } from './silences';

export interface RouteExplanation {
  route: number;
  matched: boolean;
  /** Why it matched, or the first condition that did not. */
  why: string;
  notify: string[];
  group?: { by: string[]; values: string[]; waitMs: number };
  quietUntil?: string;
  repeatEveryMs?: number;
}

export interface Explanation {
  event: { id: string; type: string; summary?: string };
  alert?: { action: AlertAction; key: string };
  routes: RouteExplanation[];
  silencedBy: { id: string; comment: string; endsAt: string }[];
  /** Notifiers it would reach, and how. */
  deliveries: { notifier: string; outcome: 'send' | 'held' | 'grouped' | 'silenced' }[];
}

export function explainRouting(
  routes: RouteConfig[],
  silences: Silence[],
  e: WatchEvent,
  now: number,
  defaultGroups = new Map<string, { by: string[]; wait: number }>(),
): Explanation {
  const explained = routes.map((route, i) => explainRoute(route, i, e, now));
  const silencedBy = activeSilencesFor(silences, e, now);
  const deliveries = new Map<string, Explanation['deliveries'][number]['outcome']>();
  for (const r of explained.filter((x) => x.matched)) {
    for (const notifier of r.notify) {
      const group = r.group ?? (defaultGroups.get(notifier) ? { by: defaultGroups.get(notifier)!.by } : undefined);
      const outcome = silencedBy.length ? 'silenced' : group ? 'grouped' : r.quietUntil ? 'held' : 'send';
      if (!deliveries.has(notifier) || outcome === 'send') deliveries.set(notifier, outcome);
    }
  }
  const action = alertActionOf(e);
  const keyRoute = explained.find((r) => r.matched && routes[r.route]!.key);
  return {
    event: { id: e.id, type: e.type },
    ...(action ? { alert: { action, key: alertKeyOf(e, keyRoute ? (routes[keyRoute.route]!.key as KeyField[]) : undefined) } } : {}),
    routes: explained,
    silencedBy: silencedBy.map((s) => ({ id: s.id, comment: s.comment, endsAt: new Date(s.endsAt).toISOString() })),
    deliveries: [...deliveries].map(([notifier, outcome]) => ({ notifier, outcome })),
  };
}

function explainRoute(route: RouteConfig, index: number, e: WatchEvent, now: number): RouteExplanation {
  const base = { route: index, notify: route.notify };
  if (!routeMatches(route, e)) return { ...base, matched: false, why: firstMismatch(route, e) };
  const hold = route.quiet && !isFailure(e) ? quietUntil(route.quiet, now) : undefined;
  return {
    ...base,
    matched: true,
    why: Object.keys(route.match).length === 0 ? 'matches every event' : `matches ${Object.keys(route.match).join(', ')}`,
    ...(route.group ? { group: { by: route.group.by, values: route.group.by.map((f) => fieldOf(e, f) ?? '-'), waitMs: route.group.wait } } : {}),
    ...(hold ? { quietUntil: new Date(hold).toISOString() } : {}),
    ...(route.repeat ? { repeatEveryMs: route.repeat.every } : {}),
  };
}

/** The first condition of a route that the event fails, in words. */
function firstMismatch(route: RouteConfig, e: WatchEvent): string {
  if (route.summary && e.type.startsWith('steprun.')) return 'a summary route takes pipeline events only';
  const m = route.match;
  const checks: [string, string | string[] | undefined, string | undefined][] = [
    ['type', m.type, e.type],
    ['status', m.status, e.stepRun?.status ?? e.pipelineRun?.status],
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
  return 'does not match';
}
