// `{type: module, module: ./my-provider.js, options: {...}}`: a third-party provider, loaded as notifiers are. The
// daemon only calls the RunProvider interface, so a provider built outside this package runs unchanged in it.
import * as path from 'node:path';
import { ConfigInvalidError } from '../model/errors';
import type { RunProvider } from '../model/provider';
import type { ProviderContext, ProviderFactory } from './registry';

/** What a provider module exports: `create` (or a default export that is the factory, or has `create`). */
export interface ProviderModule {
  create?: ProviderFactory;
  default?: ProviderFactory | { create?: ProviderFactory };
}

/** The methods the watcher and the object model call: a module whose provider lacks one is refused at start. */
const REQUIRED = ['getStepRun', 'getPipelineRun', 'listStepRuns', 'listPipelineRuns', 'locateRun', 'readLog', 'listOutputs', 'download'] as const;

export const moduleProviderFactory: ProviderFactory = (options, ctx: ProviderContext): RunProvider => {
  const field = `providers.${ctx.name}.module`;
  const spec = options.module;
  if (typeof spec !== 'string' || spec.length === 0) throw new ConfigInvalidError(`${field}: required (a path or a package name)`);
  const resolved = spec.startsWith('.') || path.isAbsolute(spec) ? path.resolve(ctx.baseDir ?? process.cwd(), spec) : spec;
  let loaded: ProviderModule;
  try {
    loaded = require(resolved) as ProviderModule;
  } catch (err) {
    throw new ConfigInvalidError(`${field}: cannot load "${spec}": ${(err as Error).message.split('\n')[0]}`);
  }
  const factory = loaded.create ?? (typeof loaded.default === 'function' ? loaded.default : loaded.default?.create);
  if (typeof factory !== 'function') throw new ConfigInvalidError(`${field}: "${spec}" exports no create(options, ctx) function`);
  let provider: RunProvider;
  try {
    provider = factory((options.options as Record<string, unknown>) ?? {}, ctx);
  } catch (err) {
    // The module's own refusal of its options: a config error naming the provider, not an unexpected one.
    throw new ConfigInvalidError(`providers.${ctx.name}: ${(err as Error).message.split('\n')[0]} (create() of "${spec}")`);
  }
  const missing = REQUIRED.filter((m) => typeof (provider as unknown as Record<string, unknown> | undefined)?.[m] !== 'function');
  if (!provider || typeof provider.kind !== 'string' || missing.length > 0)
    throw new ConfigInvalidError(`${field}: create() of "${spec}" did not return a RunProvider (${missing.length ? `no ${missing.join(', ')}` : 'no kind'})`);
  return provider;
};
