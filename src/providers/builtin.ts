// Registers the built-in providers the same way a third-party provider would be registered.
import * as path from 'node:path';
import { z } from 'zod';
import { issueLines } from '../util/issues';
import { ConfigInvalidError } from '../model/errors';
import { AzureMlProvider } from './azureml/provider';
import { parseAzureMlOptions } from './azureml/options';
import { LocalProvider } from './local/provider';
import { moduleProviderFactory } from './module';
import type { RequestBudget } from '../model/provider';
import { ProviderRegistry } from './registry';

/** What the daemon hands providers as `services.budgetFor`: a request budget shared through Redis. */
/** A provider's shared request budget: `perMinute` requests, counted in windows of `windowMs`. */
export type BudgetFactory = (providerName: string, limit: { perMinute: number; windowMs: number }) => RequestBudget;

const localOptions = z.strictObject({ type: z.literal('local'), root: z.string().optional() });

export function builtinProviders(): ProviderRegistry {
  return new ProviderRegistry()
    .register('azureml', (options, ctx) => {
      const parsed = parseAzureMlOptions(options, ctx.name);
      const budgetFor = ctx.services?.budgetFor as BudgetFactory | undefined;
      return new AzureMlProvider(parsed, budgetFor?.(ctx.name, { perMinute: parsed.maxRequestsPerMinute, windowMs: parsed.budgetWindowSeconds * 1000 }));
    })
    .register('module', moduleProviderFactory)
    .register('local', (options, ctx) => {
      const parsed = localOptions.safeParse(options);
      if (!parsed.success) throw new ConfigInvalidError(issueLines(parsed.error, `providers.${ctx.name}`));
      // The daemon (services.readInThread) polls off its event loop; a one-shot command reads in place.
      return new LocalProvider({ root: path.resolve(ctx.dataDir, parsed.data.root ?? 'runs'), readInThread: ctx.services?.readInThread === true });
    });
}
