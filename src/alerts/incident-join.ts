// Which incident group a pager's decision puts an alert in (pure): its failure joins the group of (route, notifier,
// the route's group-by values) instead of being sent a message of its own; a resolve asks that group for a flush.
import type { AlertAction } from './alert-key';
import type { AlertPolicy, AlertView, Decision } from './decision-types';
import { groupOfMarker, type IncidentSettings } from './incident';
import type { WatchEvent } from '../store/events';
import { groupId } from '../store/ids';

/** A group's flushes at most this often while it changes, when its route sets no `group.interval` (Alertmanager's). */
const DEFAULT_INTERVAL_MS = 300_000;

/** The outcomes by which an alert belongs to a pager's incident group (silenced: it pages when the silence ends). */
const JOINS: readonly Decision['outcome'][] = ['group', 'send', 'held', 'silenced'];

export interface IncidentJoin {
  groupId: string;
  settings: IncidentSettings;
  notBefore?: number;
  /** The alert is in this group already (another failure of it, silenced or held): nothing to join. */
  already?: boolean;
  /** When a new group's wait starts (the watcher's sight of the alert); now when not given. */
  since?: number;
}

/**
 * The group a pager's decision on an alert's failure puts it in; undefined when it is no pager's or joins none. An open
 * alert stays in the group it joined (`heldBy`, from its notes) for its whole life: another failure of it, in another
 * run, silenced or held, joins no second group (it did, and one alert held two incidents: found by the model test).
 */
export function incidentJoinOf(
  policy: AlertPolicy,
  action: AlertAction | undefined,
  key: string | undefined,
  d: Decision,
  heldBy?: string,
): IncidentJoin | undefined {
  if (action !== 'open' || !key || !policy.traits.get(d.notifier)?.pager || !JOINS.includes(d.outcome)) return undefined;
  const route = policy.routes[d.route];
  if (!route) return undefined;
  // Ungrouped: a group of one alert key, the same machinery.
  const values = d.group?.values ?? [key];
  return {
    groupId: heldBy ?? groupId(d.route, d.notifier, values),
    ...(heldBy ? { already: true } : {}),
    settings: {
      notifier: d.notifier,
      route: d.route,
      values,
      waitMs: d.group?.wait ?? 0,
      intervalMs: d.group?.interval ?? DEFAULT_INTERVAL_MS,
      ...(route.repeat ? { repeatMs: route.repeat.every } : {}),
      ...(route.ack ? { ackExpiresMs: route.ack.expires } : {}),
    },
    ...(d.holdUntil ? { notBefore: d.holdUntil } : {}),
  };
}

/**
 * The group an open alert is in at a pager already, for a failure other than the one that opened it (a replay of that
 * one joins again: a dispatch that died between opening the alert and joining it must not leave it out of every group).
 */
export function heldByOf(view: Pick<AlertView, 'openedBy' | 'told'> | undefined, e: Pick<WatchEvent, 'id'>, notifier: string): string | undefined {
  return view && view.openedBy !== e.id ? groupOfMarker(view.told[notifier]) : undefined;
}

/**
 * What a pager's decision becomes when its alert joins a group: `incident` (carried by the group's flushes), or still
 * `silenced` (recorded so, and paged by the group when the silence ends). The dispatcher records it; routes test says it.
 */
export function incidentDecision(d: Decision, join: IncidentJoin): Decision {
  const carried = `carried by incident ${join.groupId}: its flushes tell the pager what the group holds`;
  if (d.outcome === 'silenced') return { ...d, reason: `${d.reason}; ${carried}` };
  const hold = d.outcome === 'held' ? `${d.reason}; ` : '';
  return { ...d, outcome: 'incident', reason: `${hold}${carried}` };
}

/** The incident group a resolve concerns at a pager (the alert joined one), if any. */
export function incidentOfResolve(policy: AlertPolicy, e: WatchEvent, notifier: string): string | undefined {
  if (e.type !== 'alert.resolved' || !policy.traits.get(notifier)?.pager) return undefined;
  return groupOfMarker(e.alert?.lastMessages?.[notifier]);
}
