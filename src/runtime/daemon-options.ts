// What a Daemon is made from: its config, its logger, which of its parts run here, and (for an embedder) the
// provider and notifier types it may build beyond the built-ins.
import type { Clock } from '../util/clock';
import type { LoadedConfig } from '../config/load';
import type { Logger } from '../util/logger';
import type { Registries } from './wiring';
import type { DeliveryReport } from '../api/metrics';
import type { AlertPolicy } from '../alerts/decide';
import type { AlertStore } from '../alerts/alert-store';
import type { IncidentStore } from '../alerts/incidents';
import type { SilenceStore } from '../alerts/silences';
import type { DeliveryStore } from '../store/deliveries';

/** Which parts run in this process: `steprun-watch daemon` runs all; workers/*.ts run one kind of worker. */
export interface Roles {
  scheduler: boolean;
  dispatcher: boolean;
  pollWorkers: boolean;
  deliverWorkers: boolean;
}

export const ALL_ROLES: Roles = { scheduler: true, dispatcher: true, pollWorkers: true, deliverWorkers: true };

export interface DaemonOptions {
  config: LoadedConfig;
  logger: Logger;
  /** Provider and notifier types beyond the built-ins (an embedder's own registries). */
  registries?: Registries;
  clock?: Clock;
  roles?: Roles;
  /** Set in a deliver thread (deliver-threads.ts): no API or health server, no threads of its own, outcomes to the parent. */
  inThread?: { onDelivery(d: DeliveryReport): void };
}

/** What every role of one process shares: the stores and the alert policy, built once. */
export interface Shared {
  deliveries: DeliveryStore;
  alerts: AlertStore;
  incidents: IncidentStore;
  silences: SilenceStore;
  policy: AlertPolicy;
  onSilenced(notifier: string): void;
}
