// Builds one notifier from its config block, as the daemon does, for direct tests.
import { builtinNotifiers } from '../../src/notify/builtin';
import type { DeliveryContext, Notifier } from '../../src/notify/notifier';
import { createLogger } from '../../src/util/logger';
import type { RunProvider } from '../../src/model/provider';

export const silent = createLogger({ level: 'silent', pretty: false });

export function buildNotifier(
  options: Record<string, unknown> & { type: string },
  o: { dataDir?: string; providers?: Map<string, RunProvider>; name?: string } = {},
): Promise<Notifier> {
  return builtinNotifiers().create(options, {
    name: o.name ?? 'n',
    dataDir: o.dataDir ?? '/tmp',
    logger: silent,
    providers: o.providers ?? new Map(),
    baseDir: process.cwd(),
  });
}

export function deliveryContext(deliveryId = 'e123-n', attempt = 1): DeliveryContext {
  return { deliveryId, attempt, logger: silent, signal: new AbortController().signal };
}
