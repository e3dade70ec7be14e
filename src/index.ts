// The package's public API: the seed's object model over any run provider.
export { Experiment, type WorkspaceOptions } from './model/workspace';
export { Workspace } from './workspace';
export { PipelineRun } from './model/pipeline-run';
export { StepRun, StepRunOutput, PortDataReference, type StepRunOptions, type StepRunDetails } from './model/step-run';
export type { WaitOptions } from './model/wait';
export { Status, STATUSES, TERMINAL_STATUSES, RAW_STATUSES, normalizeStatus, isTerminal, type StepStatus } from './model/status';
export * from './model/errors';
export type * from './model/provider';
export { ProviderRegistry, type ProviderFactory, type ProviderContext } from './providers/registry';
export type { ProviderModule } from './providers/module';
export { LocalProvider } from './providers/local/provider';
// Extension points: what a notifier or provider plugin types against (docs/PLUGINS.md).
export type { Notifier, NotifierFactory, NotifierContext, DeliveryContext, DeliveryResult, NotifierModule } from './notify/notifier';
export type { WatchEvent, EventType, StepRunData, PipelineRunData } from './store/events';
export { EVENT_TYPES } from './store/events';
export { checkNotifier } from './conformance/notifier';
export { checkProvider, type KnownRun } from './conformance/provider';
export type { ConformanceReport } from './conformance/report';
export { sampleEvents, sampleVariants } from './conformance/samples';
