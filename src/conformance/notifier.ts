// The notifier conformance suite: what every notifier must do, runnable by a plugin's own tests (any test runner).
import { createLogger } from '../util/logger';
import type { DeliveryContext, Notifier, NotifierFactory } from '../notify/notifier';
import { ConformanceError } from '../model/errors';
import type { RunProvider } from '../model/provider';
import type { WatchEvent } from '../store/events';
import { conformanceRun, type ConformanceReport } from './report';
import { sampleEvents, sampleVariants } from './samples';

/**
 * Runs the checks against a notifier built by `factory` from `options`: it has a type and a name, takes one event
 * of every type (and a grouped notification, a repeat, a "still failing", links and buttons) with a stable delivery
 * id, or skips it, honours an aborted signal by not hanging, and closes twice without harm. `providers` and
 * `services` are what the daemon would give it. Returns what passed and what failed; it throws nothing.
 */
export async function checkNotifier(
  factory: NotifierFactory,
  options: Record<string, unknown>,
  o: { dataDir: string; timeoutMs?: number; providers?: Map<string, RunProvider>; services?: Record<string, unknown> },
): Promise<ConformanceReport> {
  const { report, check } = conformanceRun(o.timeoutMs);
  const logger = createLogger({ level: 'silent', pretty: false });
  let notifier: Notifier | undefined;
  await check('the factory builds a notifier', async () => {
    notifier = await factory(options, {
      name: 'conformance',
      dataDir: o.dataDir,
      logger,
      providers: o.providers ?? new Map(),
      baseDir: o.dataDir,
      ...(o.services ? { services: o.services } : {}),
    });
    if (typeof notifier?.deliver !== 'function') throw new ConformanceError('no deliver(event, ctx)');
  });
  if (!notifier) return report;
  const n = notifier;
  await check('it has a type and a name', async () => {
    if (!n.type || !n.name) throw new ConformanceError(`type "${n.type}", name "${n.name}"`);
  });
  const cases: { name: string; event: WatchEvent }[] = [...sampleEvents().map((event) => ({ name: event.type, event })), ...sampleVariants()];
  for (const { name, event } of cases) {
    await check(`it delivers (or skips) ${name}`, async () => {
      const ctx: DeliveryContext = { deliveryId: `${event.id}-conformance`, attempt: 1, logger, signal: new AbortController().signal };
      const result = await n.deliver(event, ctx);
      if (result !== undefined && (typeof result !== 'object' || (result.detail !== undefined && typeof result.detail !== 'string'))) {
        throw new ConformanceError('deliver must resolve to nothing or { detail?: string }');
      }
    });
  }
  await check('an aborted delivery ends (resolves or rejects) instead of hanging', async () => {
    const controller = new AbortController();
    controller.abort();
    await n
      .deliver(
        sampleEvents().find((e) => e.type === 'steprun.failed')!,
        { deliveryId: 'aborted-conformance', attempt: 1, logger, signal: controller.signal },
      )
      .catch(() => undefined);
  });
  await check('close() may be called twice', async () => {
    await n.close?.();
    await n.close?.();
  });
  return report;
}
