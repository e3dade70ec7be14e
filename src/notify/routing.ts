// Routing rules: which notifiers an event goes to, and whether a quiet period holds it back (pure; time is passed in).
import type { RouteConfig } from '../config/schema';
import type { WatchEvent } from '../store/events';
import { isFailure } from './formats/describe';

function list(v: string | string[] | undefined): string[] | undefined {
  return v === undefined ? undefined : Array.isArray(v) ? v : [v];
}

/** `*` is any run of characters, `?` one character; everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

function anyGlob(patterns: string[] | undefined, value: string | undefined): boolean {
  if (!patterns) return true;
  if (value === undefined) return false;
  return patterns.some((p) => globToRegExp(p).test(value));
}

export function routeMatches(route: RouteConfig, e: WatchEvent): boolean {
  const m = route.match;
  // A summary route speaks once per pipeline run: step events are not its business.
  if (route.summary && e.type.startsWith('steprun.')) return false;
  const status = e.stepRun?.status ?? e.pipelineRun?.status;
  if (!anyGlob(list(m.type), e.type)) return false;
  if (m.status && !(list(m.status) ?? []).some((s) => s.toLowerCase() === status?.toLowerCase())) return false;
  if (!anyGlob(list(m.experiment), e.experiment)) return false;
  if (!anyGlob(list(m.pipeline), e.pipelineRunId)) return false;
  // A step pattern only matches step events.
  if (!anyGlob(list(m.step), e.stepRun?.name)) return false;
  for (const [k, v] of Object.entries(m.labels ?? {})) if (e.labels[k] !== v) return false;
  return true;
}

export interface RouteTarget {
  notifier: string;
  /** The route (index in `routes`) that sends it there: its group, repeat and key settings apply. */
  route: number;
  /** Deliver no earlier than this (ms): the end of a quiet period. */
  holdUntil?: number;
}

/** The notifiers an event goes to, each once, in route order; a notifier held by one route and not another goes at once. */
export function routeEvent(routes: RouteConfig[], e: WatchEvent, now = Date.now()): RouteTarget[] {
  const targets = new Map<string, RouteTarget>();
  routes.forEach((route, index) => {
    if (!routeMatches(route, e)) return;
    const holdUntil = route.quiet && !isFailure(e) ? quietUntil(route.quiet, now) : undefined;
    for (const notifier of route.notify) {
      const known = targets.get(notifier);
      const target = { notifier, route: index, ...(holdUntil ? { holdUntil } : {}) };
      if (!known || (known.holdUntil && (!holdUntil || holdUntil < known.holdUntil))) targets.set(notifier, target);
    }
  });
  return [...targets.values()];
}

/** When the quiet window around `now` ends, or undefined when `now` is outside it. Windows may wrap midnight. */
export function quietUntil(q: { from: string; to: string; tz: string }, now: number): number | undefined {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: q.tz, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(
    new Date(now),
  );
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const nowMin = get('hour') * 60 + get('minute');
  const [fromMin, toMin] = [q.from, q.to].map((t) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3)));
  const inside = fromMin <= toMin ? nowMin >= fromMin! && nowMin < toMin! : nowMin >= fromMin! || nowMin < toMin!;
  if (!inside) return undefined;
  const minutesLeft = (toMin! - nowMin + 1440) % 1440;
  return now + minutesLeft * 60000 - get('second') * 1000 - (now % 1000);
}
