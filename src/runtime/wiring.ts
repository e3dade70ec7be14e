// Builds providers and notifiers from a validated config, and checks every cross-reference before anything starts.
import * as path from 'node:path';
import type { LoadedConfig } from '../config/load';
import { inFile, referenceProblems, unresolvedProblems } from './config-check';
import { createLogger, type Logger } from '../util/logger';
import { ConfigInvalidError } from '../model/errors';
import { builtinNotifiers } from '../notify/builtin';
import type { Notifier, NotifierRegistry } from '../notify/notifier';
import { builtinProviders } from '../providers/builtin';
import type { RunProvider } from '../model/provider';
import type { ProviderRegistry } from '../providers/registry';
import type { HintSettings } from '../watch/hints';
import type { PollSettings } from '../watch/poll';
import type { StuckSettings } from '../watch/stuck';
import { trackOfTarget, type Track } from '../store/tracks';

/** The registries providers and notifiers are built from: the built-ins, unless an embedder brings its own. */
export interface Registries {
  providers?: ProviderRegistry;
  notifiers?: NotifierRegistry;
}

function baseDirOf(config: LoadedConfig): string {
  return config.source ? path.dirname(path.resolve(config.source)) : process.cwd();
}

export function buildProviders(
  config: LoadedConfig,
  services?: Record<string, unknown>,
  registry: ProviderRegistry = builtinProviders(),
): Map<string, RunProvider> {
  const providers = new Map<string, RunProvider>();
  const problems: string[] = [];
  for (const [name, options] of Object.entries(config.providers)) {
    try {
      providers.set(name, registry.create(options.type, options, { name, dataDir: config.dataDir, baseDir: baseDirOf(config), services }));
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
  registry: NotifierRegistry = builtinNotifiers(),
): Promise<Map<string, Notifier>> {
  const baseDir = baseDirOf(config);
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
export async function buildAll(config: LoadedConfig, logger: Logger, services?: Record<string, unknown>, registries: Registries = {}) {
  const providerRegistry = registries.providers ?? builtinProviders();
  const notifierRegistry = registries.notifiers ?? builtinNotifiers();
  const problems = referenceProblems(config, { providers: providerRegistry.types(), notifiers: notifierRegistry.types() });
  // What runs everything needs every secret; nothing is built with one missing.
  const unset = unresolvedProblems(config);
  if (unset.length > 0) throw new ConfigInvalidError(inFile(config, [...problems, ...unset]));
  let providers = new Map<string, RunProvider>();
  try {
    providers = buildProviders(config, services, providerRegistry);
  } catch (err) {
    problems.push(...problemsOf(err));
  }
  let notifiers = new Map<string, Notifier>();
  try {
    notifiers = await buildNotifiers(config, providers, logger, services, notifierRegistry);
  } catch (err) {
    problems.push(...problemsOf(err));
  }
  if (problems.length > 0) {
    await Promise.all([...notifiers.values()].map((n) => n.close?.()));
    await Promise.all([...providers.values()].map((p) => p.close?.()));
    throw new ConfigInvalidError(inFile(config, problems));
  }
  return { providers, notifiers };
}

/**
 * The providers' and notifiers' own option problems in a config the schema refused (ping, the daemon): each one that
 * names a type is built and closed at once (building connects to nothing), so `url: 12` is said with the schema's
 * problems.
 */
export async function optionProblems(raw: Record<string, unknown>, source: string | undefined, registries: Registries = {}): Promise<string[]> {
  const providerRegistry = registries.providers ?? builtinProviders();
  const notifierRegistry = registries.notifiers ?? builtinNotifiers();
  const dataDir = typeof raw.dataDir === 'string' ? raw.dataDir : process.cwd();
  const baseDir = source ? path.dirname(path.resolve(source)) : process.cwd();
  const logger = createLogger({ level: 'silent' });
  const problems: string[] = [];
  const said = (err: unknown) => {
    if (err instanceof ConfigInvalidError) problems.push(...err.problems);
  };
  for (const [name, options] of typedEntries(raw.providers)) {
    try {
      await providerRegistry.create(options.type, options as never, { name, dataDir, baseDir }).close?.();
    } catch (err) {
      said(err);
    }
  }
  for (const [name, options] of typedEntries(raw.notifiers)) {
    try {
      const built = await notifierRegistry.create(options, { name, dataDir, logger, providers: new Map(), baseDir });
      await built.close?.();
    } catch (err) {
      said(err);
    }
  }
  return problems;
}

/** The entries of a config section whose value names a `type`. */
function typedEntries(section: unknown): [string, { type: string }][] {
  if (typeof section !== 'object' || section === null) return [];
  return Object.entries(section).filter((e): e is [string, { type: string }] => typeof e[1] === 'object' && e[1] !== null && typeof e[1].type === 'string');
}

function problemsOf(err: unknown): string[] {
  if (err instanceof ConfigInvalidError) return err.problems;
  throw err;
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
    ...(p.placeByLearnedDurations && config.stuck.enabled ? { placeAfterSamples: config.stuck.minSamples } : {}),
  };
}

/**
 * A rate-limited provider's polls go one per job (BullMQ's limiter counts jobs, and the limit is of provider calls),
 * and so do a metered provider's (they queue for its shared request budget one by one, in due order).
 */
export function pollsPerJobOf(config: LoadedConfig, name: string, provider?: RunProvider): number | undefined {
  return config.poll.providers[name]?.maxPerMinute || provider?.metered ? 1 : undefined;
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
  return config.tracks.map((t) => trackOfTarget(t, 'config', now));
}
