// What every CLI command needs: the validated config, and the Workspace of the chosen provider.
import type { Command } from 'commander';
import { loadConfig, type LoadedConfig } from '../config/load';
import { ConfigInvalidError } from '../model/errors';
import { Experiment, Workspace } from '../model/workspace';
import { builtinProviders } from '../providers/builtin';
import type { RunProvider } from '../providers/provider';
import { Keys } from '../store/keys';
import type { Redis } from 'ioredis';

export interface GlobalOptions {
  config?: string;
  dataDir?: string;
  provider?: string;
  json?: boolean;
  debug?: boolean;
}

export function globalsOf(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

export async function configOf(cmd: Command): Promise<LoadedConfig> {
  const g = globalsOf(cmd);
  return loadConfig({ file: g.config, dataDir: g.dataDir });
}

/** Builds one provider instance by its config name. */
export function providerFromConfig(config: LoadedConfig, name: string, services?: Record<string, unknown>): RunProvider {
  const options = config.providers[name];
  if (!options) {
    throw new ConfigInvalidError(`unknown provider "${name}" (configured: ${Object.keys(config.providers).join(', ')})`);
  }
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
  const { connectRedisForCli } = await import('../redis');
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
