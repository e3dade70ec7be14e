// The alert policy of a config: what the decision (decide.ts) reads besides the state, built once per process.
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

function notifierTraits(config: Pick<LoadedConfig, 'notifiers'>): Map<string, NotifierTraits> {
  const traits = new Map<string, NotifierTraits>();
  for (const [name, n] of Object.entries(config.notifiers)) {
    if (isPager(n)) traits.set(name, { pager: true });
    else if (n.type === 'slack') traits.set(name, { live: true });
  }
  return traits;
}

function isPager(n: { type: string; format?: unknown }): boolean {
  return n.type === 'webhook' && n.format === 'pagerduty';
}
