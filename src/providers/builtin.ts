// Registers the built-in providers the same way a third-party provider would be registered.
import * as path from 'node:path';
import { z } from 'zod';
import { ConfigInvalidError } from '../model/errors';
import { LocalProvider } from './local/provider';
import { ProviderRegistry } from './registry';

const localOptions = z.strictObject({ type: z.literal('local'), root: z.string().optional() });

export function builtinProviders(): ProviderRegistry {
  return new ProviderRegistry().register('local', (options, ctx) => {
    const parsed = localOptions.safeParse(options);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ConfigInvalidError(`providers.${ctx.name}.${issue.path.join('.')}: ${issue.message}`);
    }
    return new LocalProvider({ root: path.resolve(ctx.dataDir, parsed.data.root ?? 'runs') });
  });
}
