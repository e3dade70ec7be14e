// Checks routes against what events can carry: a type or status that can never match would drop alerts silently.
import type { RouteConfig } from '../../config/schema';
import { normalizeStatus, STATUSES } from '../../model/status';
import { EVENT_TYPES } from '../../store/events';
import { globToRegExp } from '../../store/event-fields';
import { suggest } from '../../util/suggest';

/** Every problem of every route, each naming its field (`routes[2].match.status`); none when all can match. */
export function routeProblems(routes: RouteConfig[]): string[] {
  const problems: string[] = [];
  routes.forEach((route) => {
    for (const pattern of list(route.match.type)) {
      const re = globToRegExp(pattern);
      if (!EVENT_TYPES.some((t) => re.test(t))) {
        problems.push(`${route.at}.match.type: "${pattern}" matches no event type${suggest(pattern, EVENT_TYPES)} (known: ${EVENT_TYPES.join(', ')})`);
      }
    }
    for (const status of list(route.match.status)) {
      if (STATUSES.some((s) => s.toLowerCase() === status.toLowerCase())) continue;
      const normalized = normalizeStatus(status);
      const hint = normalized ? ` ("${status}" is a raw status: routes match the normalized one, "${normalized}")` : suggest(status, STATUSES);
      problems.push(`${route.at}.match.status: "${status}" is not a status${hint} (known: ${STATUSES.join(', ')})`);
    }
  });
  return problems;
}

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}
