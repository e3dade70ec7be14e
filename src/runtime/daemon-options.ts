// What a Daemon is made from: its config, its logger, which of its parts run here, and (for an embedder) the
// provider and notifier types it may build beyond the built-ins.
import type { Clock } from '../util/clock';
import type { LoadedConfig } from '../config/load';
import type { Logger } from '../util/logger';
import type { Registries } from './wiring';

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
}
