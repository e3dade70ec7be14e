// The alert decision's vocabulary (decide.ts): outcomes, the policy and state it reads, what it returns.
import type { InhibitRule, RouteConfig } from '../config/schema';
import type { WatchEvent } from '../store/events';
import type { AlertAction } from './alert-key';
import type { Silence } from './silences';
import type { TimeIntervals } from './time-intervals';

/**
 * `send` the message; `update` say shortly that an open alert is still failing (the live message: edit it);
 * `group` join the route's group (one notification later); `silenced` / `inhibited` recorded, not sent;
 * `held` sent when a quiet period or time interval ends; `suppressed` not sent because the receiver was already told
 * (or the alert resolved before it went out); `incident` a pager's alert joins its incident group (incident-join.ts).
 */
export type Outcome = 'send' | 'update' | 'group' | 'silenced' | 'inhibited' | 'held' | 'suppressed' | 'incident';

export interface GroupConfig {
  by: string[];
  wait: number;
  interval: number;
}

/** What kind of receiver a notifier is: a pager keeps one incident per key; a live notifier edits one message per run. */
export interface NotifierTraits {
  pager?: boolean;
  live?: boolean;
  /**
   * An Alertmanager receiver: each open alert is posted again this often, whatever the route's `repeat` (it expires
   * there otherwise), not grouped here (Alertmanager groups), and acknowledgements do not stop it (it still fails).
   */
  resendMs?: number;
}

/** Everything configured that the decision reads. */
export interface AlertPolicy {
  routes: RouteConfig[];
  /** Grouping for notifiers whose route sets none (pagers group by pipeline run). */
  defaultGroups: Map<string, GroupConfig>;
  traits: Map<string, NotifierTraits>;
  inhibit: InhibitRule[];
  timeIntervals: TimeIntervals;
}

/** An open alert as read from Redis (alert-store.ts). */
export interface AlertView {
  key: string;
  openedBy: string;
  openedAt: number;
  /** The last failure counted (a replayed dispatch of it counts nothing). */
  lastBy?: string;
  failures: number;
  /** Notifier -> the delivery of the latest message of this alert it was sent (its resolve waits for that one). */
  told: Record<string, string>;
  /** Notifier -> the group delivery that will carry it (not sent yet). */
  pending: Record<string, string>;
  /** Notifier -> repeat interval (ms). */
  repeats: Record<string, number>;
  /** Acknowledged: no more repeats (who, when). */
  acked?: { by: string; at: number; comment?: string };
  event: WatchEvent;
}

/** The state a decision reads, as of `now`. */
export interface DecisionState {
  now: number;
  silences: Silence[];
  alert(key: string): AlertView | undefined;
  /** Open alerts: asked only when an inhibition rule's target matches. */
  openAlerts(): AlertView[];
}

export interface Decision {
  notifier: string;
  /** The route (index in `routes`) that decided; -1 for a resolve (it follows the alert, not a route). */
  route: number;
  outcome: Outcome;
  /** In words, for delivery records and `routes test`. */
  reason: string;
  /** held: not before this (ms). */
  holdUntil?: number;
  /** group (or held on a grouped route): the group and its values for this event. */
  group?: GroupConfig & { values: string[] };
  /** An alert's resolve to a notifier told of it in a group: that group's id (its next notification tells it). */
  intoGroup?: string;
  /** The route repeats an open alert this often. */
  repeatEveryMs?: number;
  /** update: this is the alert's n-th failure. */
  failures?: number;
  /** Pager severity the route asks for. */
  severity?: RouteConfig['severity'];
  /** The route's annotations (Mustache), for the message. */
  annotations?: Record<string, string>;
  silencedBy?: string[];
  inhibitedBy?: string;
}

export interface EventDecision {
  action?: AlertAction;
  /** The alert key the event opens or resolves. */
  key?: string;
  decisions: Decision[];
}
