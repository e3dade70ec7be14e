// Routing rules: whether a route matches an event (pure). What then happens per notifier is the alert decision's
// (src/alerts/decide.ts).
import type { RouteConfig } from '../config/schema';
import { globToRegExp } from '../store/event-fields';
import type { WatchEvent } from '../store/events';
import { alertActionOf } from './alert-key';

function list(v: string | string[] | undefined): string[] | undefined {
  return v === undefined ? undefined : Array.isArray(v) ? v : [v];
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
  return true;
}
