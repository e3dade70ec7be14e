// What the schema alone cannot see, checked the same way by the daemon and by every command: cross-references,
// notifier and provider types, how the API is exposed, and secrets left unset. Light on purpose (no notifier or
// provider code is loaded): `steprun-watch track` pays nothing for it.
import cron from 'node-cron';
import type { LoadedConfig } from '../config/load';
import { ConfigInvalidError } from '../model/errors';
import { routeProblems } from '../notify/dispatch/route-check';

/** The built-in types (test/unit/config.test.ts holds them equal to the registries). */
export const BUILTIN_NOTIFIER_TYPES = ['console', 'email', 'webhook', 'slack', 'download', 'alertmanager', 'module'] as const;
export const BUILTIN_PROVIDER_TYPES = ['local', 'azureml', 'module'] as const;

/** The types a config may name: the built-ins, or what an embedder registered (Daemon.create({registries})). */
export interface KnownTypes {
  notifiers: readonly string[];
  providers: readonly string[];
}

const BUILTIN_TYPES: KnownTypes = { notifiers: BUILTIN_NOTIFIER_TYPES, providers: BUILTIN_PROVIDER_TYPES };

/**
 * Every problem at once, each naming its field: routes name configured notifiers and can match; tracks and poll
 * limits name configured providers; types are known; the tick is a cron expression.
 */
export function referenceProblems(config: LoadedConfig, known: KnownTypes = BUILTIN_TYPES): string[] {
  const notifiers = Object.keys(config.notifiers);
  const providers = Object.keys(config.providers);
  const problems: string[] = [];
  if (!cron.validate(config.poll.tick))
    problems.push(`poll.tick: "${config.poll.tick}" is not a valid node-cron expression (six fields, seconds first, e.g. "*/5 * * * * *")`);
  for (const [name, n] of Object.entries(config.notifiers))
    if (!known.notifiers.includes(n.type)) problems.push(`notifiers.${name}.type: unknown notifier type "${n.type}" (known: ${known.notifiers.join(', ')})`);
  for (const [name, p] of Object.entries(config.providers))
    if (!known.providers.includes(p.type)) problems.push(`providers.${name}.type: unknown provider type "${p.type}" (known: ${known.providers.join(', ')})`);
  config.routes.forEach((route) =>
    route.notify.forEach((name, j) => {
      // An inherited notifier is said once, where it is written.
      if (route.parent !== undefined && config.routes[route.parent]!.notify.includes(name)) return;
      if (!notifiers.includes(name)) problems.push(`${route.at}.notify[${j}]: unknown notifier "${name}" (configured: ${notifiers.join(', ') || 'none'})`);
    }),
  );
  problems.push(...routeProblems(config.routes));
  config.tracks.forEach((track, i) => {
    if (!providers.includes(track.provider)) problems.push(`tracks[${i}].provider: unknown provider "${track.provider}" (configured: ${providers.join(', ')})`);
  });
  for (const name of Object.keys(config.poll.providers)) {
    if (!providers.includes(name)) problems.push(`poll.providers.${name}: unknown provider "${name}" (configured: ${providers.join(', ')})`);
  }
  const hook = config.api.eventGrid;
  if (hook && config.providers[hook.provider]?.type !== 'azureml') {
    const azureml = providers.filter((p) => config.providers[p]?.type === 'azureml');
    problems.push(`api.eventGrid.provider: "${hook.provider}" is not an azureml provider (configured: ${azureml.join(', ') || 'none'})`);
  }
  return problems;
}

/** `${VAR}`s left unset in the parts under `prefix` (all when none): each a problem naming its field. */
export function unresolvedProblems(config: LoadedConfig, prefix = ''): string[] {
  return config.unresolved.filter((u) => u.path.startsWith(prefix)).map((u) => `${u.path}: environment variable ${u.variable} is not set`);
}

/** For commands: the whole config checked as the daemon checks it, but secrets only of what they use. */
export function checkConfig(config: LoadedConfig): void {
  const problems = referenceProblems(config);
  if (problems.length > 0) throw new ConfigInvalidError(inFile(config, problems));
}

/** Problems as a person reads them: each once, each naming the config file it is in (when there is one). */
export function inFile(config: Pick<LoadedConfig, 'source'>, problems: string[]): string[] {
  const at = config.source ? `${config.source}: ` : '';
  return [...new Set(problems)].map((p) => (at && !p.startsWith(at) ? at + p : p));
}

/** Throws when a part a command is about to use (`providers.aml`, `notifiers`) has a secret left unset. */
export function requireSecrets(config: LoadedConfig, prefix = ''): void {
  const problems = unresolvedProblems(config, prefix);
  if (problems.length > 0) throw new ConfigInvalidError(problems);
}
