// Subscribes the hint router to every provider that has a change feed (the local run store's markers); Event Grid
// pushes through the HTTP server and the storage-queue reader instead, into the same router.
import type { Logger } from '../util/logger';
import type { RunProvider } from '../model/provider';
import type { HintRouter } from './hints';

/** Starts the change feed of each provider that offers one; resolves to the function that stops them all. */
export async function startChangeFeeds(providers: Map<string, RunProvider>, router: HintRouter, logger: Logger): Promise<() => Promise<void>> {
  const stops: (() => Promise<void>)[] = [];
  for (const [name, provider] of providers) {
    if (!provider.watchChanges) continue;
    const log = logger.child({ provider: name });
    const onError = (err: Error) => log.warn({ err: err.message }, 'change feed error (polling goes on)');
    try {
      stops.push(
        await provider.watchChanges(async (run) => {
          await router.hint({ provider: name, ...run });
        }, onError),
      );
      log.debug('change feed started');
    } catch (err) {
      // Without its feed a provider is still polled: slower, never blind.
      onError(err as Error);
    }
  }
  return async () => {
    await Promise.all(stops.map((stop) => stop()));
  };
}
