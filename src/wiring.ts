// Builds providers and notifiers from a validated config, and checks every cross-reference before anything starts.
import * as path from 'node:path';
import type { LoadedConfig } from './config/load';
import type { Logger } from './logger';
import { ConfigInvalidError } from './model/errors';
import { builtinNotifiers } from './notify/builtin';
import type { Notifier } from './notify/notifier';
import { builtinProviders } from './providers/builtin';
import type { RunProvider } from './providers/provider';

export function buildProviders(config: LoadedConfig, services?: Record<string, unknown>): Map<string, RunProvider> {
  const registry = builtinProviders();
  const providers = new Map<string, RunProvider>();
  for (const [name, options] of Object.entries(config.providers)) {
    providers.set(name, registry.create(options.type, options, { name, dataDir: config.dataDir, services }));
  }
  return providers;
}

export async function buildNotifiers(config: LoadedConfig, providers: Map<string, RunProvider>, logger: Logger): Promise<Map<string, Notifier>> {
  const registry = builtinNotifiers();
  const baseDir = config.source ? path.dirname(path.resolve(config.source)) : process.cwd();
  const notifiers = new Map<string, Notifier>();
  for (const [name, options] of Object.entries(config.notifiers)) {
    notifiers.set(name, await registry.create(options, { name, dataDir: config.dataDir, logger, providers, baseDir }));
  }
  return notifiers;
}

/** Routes must name configured notifiers, tracks and poll limits configured providers: said at start, by field. */
export function checkReferences(config: LoadedConfig): void {
  const notifiers = Object.keys(config.notifiers);
  const providers = Object.keys(config.providers);
  config.routes.forEach((route, i) =>
    route.notify.forEach((name, j) => {
      if (!notifiers.includes(name))
        throw new ConfigInvalidError(`routes[${i}].notify[${j}]: unknown notifier "${name}" (configured: ${notifiers.join(', ') || 'none'})`);
    }),
  );
  config.tracks.forEach((track, i) => {
    if (!providers.includes(track.provider))
      throw new ConfigInvalidError(`tracks[${i}].provider: unknown provider "${track.provider}" (configured: ${providers.join(', ')})`);
  });
  for (const name of Object.keys(config.poll.providers)) {
    if (!providers.includes(name)) throw new ConfigInvalidError(`poll.providers.${name}: unknown provider "${name}" (configured: ${providers.join(', ')})`);
  }
}
