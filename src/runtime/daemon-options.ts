// What a Daemon is made from: its config, its logger, which of its parts run here, and (for an embedder) the
// provider and notifier types it may build beyond the built-ins.
import type { Scripts } from '../store/scripts';
import type { Clock } from '../util/clock';
import type { LoadedConfig } from '../config/load';
import type { Logger } from '../util/logger';
import type { Registries } from './wiring';
import type { DeliveryReport } from '../api/metrics';
import type { AlertPolicy } from '../alerts/decide';
import type { Redis } from 'ioredis';
import { AlertStore } from '../alerts/alert-store';
import { IncidentStore } from '../alerts/incidents';
import { alertPolicyOf } from '../alerts/policy';
import { SilenceStore } from '../alerts/silences';
import { DeliveryStore } from '../store/deliveries';
import type { Keys } from '../store/keys';

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
  /** The main connection's scripts, the one every store of the process is given. */
  scripts: Scripts;
  onSilenced(notifier: string): void;
}

/** The stores and the policy every role of one process shares, built once. */
export function sharedOf(scripts: Scripts, redis: Redis, keys: Keys, config: LoadedConfig, onSilenced: (notifier: string) => void): Shared {
  return {
    deliveries: new DeliveryStore(redis, keys, scripts),
    alerts: new AlertStore(redis, keys, scripts),
    incidents: new IncidentStore(redis, keys, scripts),
    silences: new SilenceStore(redis, keys),
    policy: alertPolicyOf(config),
    scripts,
    onSilenced,
  };
}
