// The alert policy of a config: what the decision (decide.ts) reads besides the state, built once per process.
import { duration } from '../config/field-schemas';
import type { LoadedConfig } from '../config/load';
import type { AlertPolicy, GroupConfig, NotifierTraits } from './decide';

type PolicyConfig = Pick<LoadedConfig, 'notifiers' | 'routes'> & Partial<Pick<LoadedConfig, 'inhibit' | 'timeIntervals'>>;

export function alertPolicyOf(config: PolicyConfig): AlertPolicy {
  return {
    routes: config.routes,
    defaultGroups: onCallGroups(config),
    traits: notifierTraits(config),
    inhibit: config.inhibit ?? [],
    timeIntervals: config.timeIntervals ?? {},
  };
}

/** On-call formats (PagerDuty) group by pipeline run unless their route says otherwise: one failure, one page. */
export function onCallGroups(config: Pick<LoadedConfig, 'notifiers'>): Map<string, GroupConfig> {
  const groups = new Map<string, GroupConfig>();
  for (const [name, n] of Object.entries(config.notifiers)) {
    if (isPager(n)) groups.set(name, { by: ['pipelineRunId'], wait: 30_000, interval: 300_000 });
  }
  return groups;
}

/** An Alertmanager receiver's open alerts are posted again this often unless its `resend` says otherwise. */
export const DEFAULT_RESEND_MS = 60_000;

/** The `resend` of an alertmanager notifier's options, in ms. */
export function resendMsOf(options: Record<string, unknown>): number {
  const parsed = duration.safeParse(options.resend);
  return parsed.success ? parsed.data : DEFAULT_RESEND_MS;
}

function notifierTraits(config: Pick<LoadedConfig, 'notifiers'>): Map<string, NotifierTraits> {
  const traits = new Map<string, NotifierTraits>();
  for (const [name, n] of Object.entries(config.notifiers)) {
    if (isPager(n)) traits.set(name, { pager: true });
    else if (n.type === 'alertmanager') traits.set(name, { resendMs: resendMsOf(n) });
    else if (n.type === 'slack') traits.set(name, { live: true });
  }
  return traits;
}

function isPager(n: { type: string; format?: unknown }): boolean {
  return n.type === 'webhook' && n.format === 'pagerduty';
}
