// Checks routes against what events can carry: a type or status that can never match would drop alerts silently.
import type { RouteConfig } from '../../config/schema';
import { normalizeStatus, STATUSES } from '../../model/status';
import { EVENT_TYPES } from '../../store/events';
import { globToRegExp } from '../../store/event-fields';

/** Every problem of every route, each naming its field (`routes[2].match.status`); none when all can match. */
export function routeProblems(routes: RouteConfig[]): string[] {
  const problems: string[] = [];
  routes.forEach((route, i) => {
    for (const pattern of list(route.match.type)) {
      const re = globToRegExp(pattern);
      if (!EVENT_TYPES.some((t) => re.test(t))) {
        problems.push(`routes[${i}].match.type: "${pattern}" matches no event type${suggest(pattern, EVENT_TYPES)} (known: ${EVENT_TYPES.join(', ')})`);
      }
    }
    for (const status of list(route.match.status)) {
      if (STATUSES.some((s) => s.toLowerCase() === status.toLowerCase())) continue;
      const normalized = normalizeStatus(status);
      const hint = normalized ? ` ("${status}" is a raw status: routes match the normalized one, "${normalized}")` : suggest(status, STATUSES);
      problems.push(`routes[${i}].match.status: "${status}" is not a status${hint} (known: ${STATUSES.join(', ')})`);
    }
  });
  return problems;
}

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** ` (did you mean "x"?)` for the closest known word within a few edits, else nothing. */
export function suggest(word: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of known) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best ? ` (did you mean "${best}"?)` : '';
}

/** Levenshtein distance, two rows. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}
