// Builds providers and notifiers from a validated config, and checks every cross-reference before anything starts.
import * as path from 'node:path';
import cron from 'node-cron';
import type { LoadedConfig } from './config/load';
import { isLoopbackListen } from './config/schema';
import type { Logger } from './logger';
import { ConfigInvalidError } from './model/errors';
import { routeProblems } from './notify/route-check';
import { builtinNotifiers } from './notify/builtin';
import type { Notifier } from './notify/notifier';
import { builtinProviders } from './providers/builtin';
import type { RunProvider } from './providers/provider';
import type { HintSettings } from './watch/hints';
import type { PollSettings } from './watch/poll';
import type { StuckSettings } from './watch/stuck';
import { trackFromRequest, type Track } from './watch/tracks';
import { parseSince } from './duration';

export function buildProviders(config: LoadedConfig, services?: Record<string, unknown>): Map<string, RunProvider> {
  const registry = builtinProviders();
  const providers = new Map<string, RunProvider>();
  const problems: string[] = [];
  for (const [name, options] of Object.entries(config.providers)) {
    try {
      providers.set(name, registry.create(options.type, options, { name, dataDir: config.dataDir, services }));
    } catch (err) {
      problems.push(...problemsOf(err));
    }
  }
  if (problems.length > 0) throw new ConfigInvalidError(problems);
  return providers;
}

/** Every notifier is built before any error is thrown: a person fixing the config sees all of its problems at once. */
export async function buildNotifiers(
  config: LoadedConfig,
  providers: Map<string, RunProvider>,
  logger: Logger,
  services?: Record<string, unknown>,
): Promise<Map<string, Notifier>> {
  const registry = builtinNotifiers();
  const baseDir = config.source ? path.dirname(path.resolve(config.source)) : process.cwd();
  const notifiers = new Map<string, Notifier>();
  const problems: string[] = [];
  for (const [name, options] of Object.entries(config.notifiers)) {
    try {
      notifiers.set(name, await registry.create(options, { name, dataDir: config.dataDir, logger, providers, baseDir, services }));
    } catch (err) {
      problems.push(...problemsOf(err));
    }
  }
  if (problems.length > 0) {
    await Promise.all([...notifiers.values()].map((n) => n.close?.()));
    throw new ConfigInvalidError(problems);
  }
  return notifiers;
}

/** Everything the daemon builds from a config, checked as the daemon checks it, all problems in one error. */
export async function buildAll(config: LoadedConfig, logger: Logger, services?: Record<string, unknown>) {
  const problems = referenceProblems(config);
  let providers = new Map<string, RunProvider>();
  try {
    providers = buildProviders(config, services);
  } catch (err) {
    problems.push(...problemsOf(err));
  }
  let notifiers = new Map<string, Notifier>();
  try {
    notifiers = await buildNotifiers(config, providers, logger, services);
  } catch (err) {
    problems.push(...problemsOf(err));
  }
  if (problems.length > 0) {
    await Promise.all([...notifiers.values()].map((n) => n.close?.()));
    await Promise.all([...providers.values()].map((p) => p.close?.()));
    throw new ConfigInvalidError(problems);
  }
  return { providers, notifiers };
}

function problemsOf(err: unknown): string[] {
  if (err instanceof ConfigInvalidError) return err.problems;
  throw err;
}

/**
 * What the schema alone cannot see: routes must name configured notifiers and be able to match; tracks and
 * poll limits name configured providers; the tick is a cron expression.
 */
export function referenceProblems(config: LoadedConfig): string[] {
  const notifiers = Object.keys(config.notifiers);
  const providers = Object.keys(config.providers);
  const problems: string[] = [];
  if (!cron.validate(config.poll.tick))
    problems.push(`poll.tick: "${config.poll.tick}" is not a valid node-cron expression (six fields, seconds first, e.g. "*/5 * * * * *")`);
  config.routes.forEach((route, i) =>
    route.notify.forEach((name, j) => {
      if (!notifiers.includes(name)) problems.push(`routes[${i}].notify[${j}]: unknown notifier "${name}" (configured: ${notifiers.join(', ') || 'none'})`);
    }),
  );
  problems.push(...routeProblems(config.routes));
  config.tracks.forEach((track, i) => {
    if (!providers.includes(track.provider)) problems.push(`tracks[${i}].provider: unknown provider "${track.provider}" (configured: ${providers.join(', ')})`);
  });
  for (const name of Object.keys(config.poll.providers)) {
    if (!providers.includes(name)) problems.push(`poll.providers.${name}: unknown provider "${name}" (configured: ${providers.join(', ')})`);
  }
  if (!isLoopbackListen(config.workers.listen) && config.api.token === undefined)
    problems.push('workers.listen: listening beyond loopback needs a token (api.token: ${SRW_API_TOKEN}); or listen on 127.0.0.1');
  const hook = config.api.eventGrid;
  if (hook && config.providers[hook.provider]?.type !== 'azureml') {
    const azureml = providers.filter((p) => config.providers[p]?.type === 'azureml');
    problems.push(`api.eventGrid.provider: "${hook.provider}" is not an azureml provider (configured: ${azureml.join(', ') || 'none'})`);
  }
  return problems;
}

/** Throws one error with every reference problem (for commands that build nothing). */
export function checkReferences(config: LoadedConfig): void {
  const problems = referenceProblems(config);
  if (problems.length > 0) throw new ConfigInvalidError(problems);
}

/** The poll job's settings from the config (seconds become ms). */
export function pollSettingsOf(config: LoadedConfig): PollSettings {
  const p = config.poll;
  return {
    minMs: p.minIntervalSeconds * 1000,
    maxMs: p.maxIntervalSeconds * 1000,
    errorAfterFailures: p.errorAfterFailures,
    stderrTailLines: 20,
    openRunGraceMs: p.openRunGraceSeconds * 1000,
  };
}

export function hintSettingsOf(config: LoadedConfig, leaseMs: number): HintSettings {
  const h = config.poll.hints;
  return { debounceMs: h.debounceMs, minGapMs: h.minGapMs, leaseMs, pushedForMs: h.pushedForSeconds * 1000 };
}

export function stuckSettingsOf(config: LoadedConfig): StuckSettings {
  const s = config.stuck;
  return {
    enabled: s.enabled,
    minDurationMs: s.minDuration,
    factor: s.factor,
    maxDurationMs: s.maxDuration,
    minSamples: s.minSamples,
    maxQueuedMs: s.maxQueued,
    subStateMs: s.states,
  };
}

/** The config's tracks as Track records (`since` read against `now`). */
export function configTracks(config: LoadedConfig, now: number): Track[] {
  return config.tracks.map((t) =>
    trackFromRequest({ ...t, since: t.since === undefined ? undefined : parseSince(t.since, now), maxDurationMs: t.maxDuration }, 'config', now),
  );
}
