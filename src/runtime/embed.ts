// `steprun-watch/daemon`: what an embedder needs to run the daemon inside its own process, with provider and notifier
// types of its own registered beside the built-ins. Kept apart from the package's main entry, which stays the light
// object model (no Redis or BullMQ loaded by `import 'steprun-watch'`).
export { Daemon } from './daemon';
export { ALL_ROLES, type DaemonOptions, type Roles } from './daemon-options';
export { loadConfig, validateConfig, type LoadedConfig } from '../config/load';
export { createLogger, type Logger } from '../util/logger';
export { builtinProviders } from '../providers/builtin';
export { builtinNotifiers } from '../notify/builtin';
export { ProviderRegistry, type ProviderFactory, type ProviderContext } from '../providers/registry';
export { NotifierRegistry, type NotifierFactory, type NotifierContext } from '../notify/notifier';
export { moduleProviderFactory, type ProviderModule } from '../providers/module';
export type { Registries } from './wiring';
