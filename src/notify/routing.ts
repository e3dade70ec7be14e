// Routing rules: which notifiers an event goes to (pure).
import type { RouteConfig } from '../config/schema';
import type { WatchEvent } from '../watch/events';

function list(v: string | string[] | undefined): string[] | undefined {
  return v === undefined ? undefined : Array.isArray(v) ? v : [v];
}

/** `*` is any run of characters, `?` one character; everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

function anyGlob(patterns: string[] | undefined, value: string | undefined): boolean {
  if (!patterns) return true;
  if (value === undefined) return false;
  return patterns.some((p) => globToRegExp(p).test(value));
}

export function routeMatches(route: RouteConfig, e: WatchEvent): boolean {
  const m = route.match;
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

/** The notifier names an event goes to, each once, in route order. */
export function routeEvent(routes: RouteConfig[], e: WatchEvent): string[] {
  const names = new Set<string>();
  for (const route of routes) if (routeMatches(route, e)) for (const n of route.notify) names.add(n);
  return [...names];
}
