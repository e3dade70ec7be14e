// Registers the built-in providers the same way a third-party provider would be registered.
import * as path from 'node:path';
import { z } from 'zod';
import { issueLines } from '../config/issues';
import { ConfigInvalidError } from '../model/errors';
import { AzureMlProvider } from './azureml/provider';
import { parseAzureMlOptions } from './azureml/options';
import { LocalProvider } from './local/provider';
import { moduleProviderFactory } from './module';
import type { RequestBudget } from '../model/provider';
import { ProviderRegistry } from './registry';

/** What the daemon hands providers as `services.budgetFor`: a request budget shared through Redis. */
export type BudgetFactory = (providerName: string, perMinute: number) => RequestBudget;

const localOptions = z.strictObject({ type: z.literal('local'), root: z.string().optional() });

export function builtinProviders(): ProviderRegistry {
  return new ProviderRegistry()
    .register(
      'azureml',
      (options, ctx) =>
        new AzureMlProvider(
          parseAzureMlOptions(options, ctx.name),
          (ctx.services?.budgetFor as BudgetFactory | undefined)?.(ctx.name, Number(options.maxRequestsPerMinute ?? 600)),
        ),
    )
    .register('module', moduleProviderFactory)
    .register('local', (options, ctx) => {
      const parsed = localOptions.safeParse(options);
      if (!parsed.success) throw new ConfigInvalidError(issueLines(parsed.error, `providers.${ctx.name}`));
      return new LocalProvider({ root: path.resolve(ctx.dataDir, parsed.data.root ?? 'runs') });
    });
}
