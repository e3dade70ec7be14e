// What a delivery job carries and needs: shared by the single delivery (deliver.ts) and the batch (deliver-batch.ts).
import type { Scripts } from '../../store/scripts';
import type { Redis } from 'ioredis';
import type { AlertStore } from '../../alerts/alert-store';
import type { AlertPolicy } from '../../alerts/decision-types';
import type { IncidentStore } from '../../alerts/incidents';
import type { SilenceStore } from '../../alerts/silences';
import type { Clock } from '../../util/clock';
import type { Logger } from '../../util/logger';
import type { WatchEvent } from '../../store/events';
import type { Keys } from '../../store/keys';
import type { DeliveryStore } from '../../store/deliveries';
import type { Notifier } from '../notifier';

/** One delivery: one event; or, for a grouped route, the group generation whose events are sent as one notification. */
export interface SingleDeliveryData {
  deliveryId: string;
  notifier: string;
  event?: WatchEvent;
  group?: { id: string; generation: number };
}

/** Several deliveries of one notifier, dispatched together: one job instead of one each (deliver-batch.ts). */
export interface BatchDeliveryData {
  notifier: string;
  batch: { deliveryId: string; event: WatchEvent }[];
}

/** A flush of an incident group (incident-flush.ts): what its pager holds, compared with what it should hold. */
export interface IncidentFlushData {
  incident: { id: string };
}

export type DeliverJobData = SingleDeliveryData | BatchDeliveryData | IncidentFlushData;

export interface DeliverDeps {
  notifiers: Map<string, Notifier>;
  deliveries: DeliveryStore;
  /** For grouped deliveries: their events, and the alert the lead opened. */
  redis?: Redis;
  keys?: Keys;
  /** The connection's scripts (a grouped delivery closes its group with one). */
  scripts?: Scripts;
  alerts?: AlertStore;
  /** Incident groups: a pager's notifications are their flushes (incident-flush.ts). */
  incidents?: IncidentStore;
  /** The alert policy: an incident group's flush asks its route's time intervals (incident.ts). */
  policy?: AlertPolicy;
  /** Silences, for a group's events as its notification goes out. */
  silences?: SilenceStore;
  clock: Clock;
  logger: Logger;
  /** api.publicUrl: every message links to its run's dashboard page. */
  publicUrl?: string;
  /** api.slack is set: Slack messages of a failure carry the alert's buttons (Acknowledge, Silence 1h/4h). */
  alertActions?: boolean;
  onDelivered?(notifier: string, event: WatchEvent, ok: boolean, final: boolean): void;
  /**
   * Jobs running in this process, by job id. BullMQ hands a job out again when its lock lapsed (a thread too busy to
   * renew it): a run of a job already running here joins that run instead of starting a second copy beside it.
   */
  running?: Map<string, Promise<DeliverOutcome>>;
}

/**
 * `already-delivered` also when another job holds the delivery's claim: that job sends it (or retries it);
 * `not-sent` when the alert decision, as it went out, said not to (recorded with why).
 */
export type DeliverOutcome = 'delivered' | 'already-delivered' | 'not-sent';
