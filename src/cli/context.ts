// What every CLI command needs: the validated config, and the Workspace of the chosen provider.
import type { Command } from 'commander';
import { loadConfig, type LoadedConfig } from '../config/load';
import { checkConfig, requireSecrets } from '../runtime/config-check';
import { ConfigInvalidError } from '../model/errors';
import { Experiment, Workspace } from '../model/workspace';
import { builtinProviders } from '../providers/builtin';
import { builtinNotifiers } from '../notify/builtin';
import type { Notifier } from '../notify/notifier';
import type { Logger } from '../util/logger';
import type { RunProvider } from '../model/provider';
import { Keys } from '../store/keys';
import type { Redis } from 'ioredis';

export interface GlobalOptions {
  config?: string;
  dataDir?: string;
  redisPrefix?: string;
  /** `daemon --listen`. */
  listen?: string;
  provider?: string;
  json?: boolean;
  debug?: boolean;
}

export function globalsOf(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/**
 * The config as every command sees it: checked whole, as the daemon checks it (an unknown notifier type fails
 * `track` too), with the secrets of notifiers and providers resolved only when a command uses them.
 */
export async function configOf(cmd: Command, o: { buildsAll?: boolean } = {}): Promise<LoadedConfig> {
  const g = globalsOf(cmd);
  // What builds every notifier (daemon, workers, ping) also says their own option problems with the schema's.
  const alsoCheck = o.buildsAll
    ? async (raw: Record<string, unknown>, source: string | undefined) => (await import('../runtime/wiring')).optionProblems(raw, source)
    : undefined;
  const overrides = { redisPrefix: g.redisPrefix, listen: g.listen };
  const config = await loadConfig({ file: g.config, dataDir: g.dataDir, overrides, lazySecrets: true, ...(alsoCheck ? { alsoCheck } : {}) });
  // What builds every notifier and provider (daemon, workers, ping) checks all of it there, every problem at once.
  if (!o.buildsAll) checkConfig(config);
  return config;
}

/** Builds one notifier instance by its config name (its secrets resolved). */
export async function notifierFromConfig(config: LoadedConfig, name: string, logger: Logger): Promise<Notifier> {
  const options = config.notifiers[name];
  if (!options) throw new ConfigInvalidError(`unknown notifier "${name}" (configured: ${Object.keys(config.notifiers).join(', ')})`);
  requireSecrets(config, `notifiers.${name}.`);
  return builtinNotifiers().create(options, { name, dataDir: config.dataDir, logger, providers: new Map(), baseDir: process.cwd() });
}

/** Builds one provider instance by its config name. */
export function providerFromConfig(config: LoadedConfig, name: string, services?: Record<string, unknown>): RunProvider {
  const options = config.providers[name];
  if (!options) {
    throw new ConfigInvalidError(`unknown provider "${name}" (configured: ${Object.keys(config.providers).join(', ')})`);
  }
  requireSecrets(config, `providers.${name}.`);
  return builtinProviders().create(options.type, options, { name, dataDir: config.dataDir, services });
}

export async function workspaceOf(cmd: Command): Promise<{ workspace: Workspace; config: LoadedConfig }> {
  const config = await configOf(cmd);
  const name = globalsOf(cmd).provider ?? 'local';
  return { workspace: new Workspace(providerFromConfig(config, name), { name }), config };
}

/** Runs `fn` with a fail-fast Redis connection (a clear error if none answers), and closes it. */
export async function withRedis<T>(config: LoadedConfig, fn: (redis: Redis, keys: Keys) => Promise<T>): Promise<T> {
  // ioredis is loaded only by the commands that talk to Redis (start-up time of the others).
  const { connectRedisForCli } = await import('../runtime/redis');
  const redis = await connectRedisForCli(config.redis);
  try {
    return await fn(redis, new Keys(config.redis.prefix));
  } finally {
    redis.disconnect();
  }
}

/** An Experiment object for a run whose experiment the provider told us. */
export function experimentOf(workspace: Workspace, name: string): Experiment {
  return new Experiment(workspace, name);
}
