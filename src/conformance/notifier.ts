// The notifier conformance suite: what every notifier must do, runnable by a plugin's own tests (any test runner).
import { createLogger } from '../logger';
import type { DeliveryContext, Notifier, NotifierFactory } from '../notify/notifier';
import type { WatchEvent } from '../store/events';
import { conformanceRun, type ConformanceReport } from './report';

/** Events of every kind a notifier may be given (it must take each, or skip it, without throwing). */
function sampleEvents(): WatchEvent[] {
  const base = {
    time: new Date(0).toISOString(),
    detectedAt: 0,
    trackId: 't_conformance',
    provider: 'local',
    experiment: 'conformance',
    pipelineRunId: 'p1',
    labels: { team: 'x' },
  };
  const step = { stepRunId: 's1', name: 'train', nodeId: 'n1', rawStatus: 'Failed', isReused: false, outputNames: [] };
  return [
    {
      ...base,
      id: 'e_failed',
      type: 'steprun.failed',
      stepRun: { ...step, status: 'Failed', previousStatus: 'Running', error: { code: 'ExitCode1', message: 'boom <!channel>' } },
      stderrTail: 'x\n```\ny',
    },
    { ...base, id: 'e_finished', type: 'steprun.finished', stepRun: { ...step, status: 'Finished', previousStatus: 'Running', rawStatus: 'Completed' } },
    { ...base, id: 'e_pipeline', type: 'pipelinerun.failed', pipelineRun: { status: 'Failed', previousStatus: null, rawStatus: 'Failed', steps: [] } },
    { ...base, id: 'e_track', type: 'track.error', error: { code: 'SRW_RUN_NOT_FOUND', message: 'run not found' } },
  ];
}

/**
 * Runs the checks against a notifier built by `factory` from `options`: it has a type and a name, takes every kind
 * of event with a stable delivery id (or skips it), honours an aborted signal by not hanging, and closes twice
 * without harm. Returns what passed and what failed; it throws nothing.
 */
export async function checkNotifier(
  factory: NotifierFactory,
  options: Record<string, unknown>,
  o: { dataDir: string; timeoutMs?: number },
): Promise<ConformanceReport> {
  const { report, check } = conformanceRun(o.timeoutMs);
  const logger = createLogger({ level: 'silent', pretty: false });
  let notifier: Notifier | undefined;
  await check('the factory builds a notifier', async () => {
    notifier = await factory(options, { name: 'conformance', dataDir: o.dataDir, logger, providers: new Map(), baseDir: o.dataDir });
    if (typeof notifier?.deliver !== 'function') throw new Error('no deliver(event, ctx)');
  });
  if (!notifier) return report;
  const n = notifier;
  await check('it has a type and a name', async () => {
    if (!n.type || !n.name) throw new Error(`type "${n.type}", name "${n.name}"`);
  });
  for (const event of sampleEvents()) {
    await check(`it delivers (or skips) ${event.type}`, async () => {
      const ctx: DeliveryContext = { deliveryId: `${event.id}-conformance`, attempt: 1, logger, signal: new AbortController().signal };
      const result = await n.deliver(event, ctx);
      if (result !== undefined && (typeof result !== 'object' || (result.detail !== undefined && typeof result.detail !== 'string'))) {
        throw new Error('deliver must resolve to nothing or { detail?: string }');
      }
    });
  }
  await check('an aborted delivery ends (resolves or rejects) instead of hanging', async () => {
    const controller = new AbortController();
    controller.abort();
    await n.deliver(sampleEvents()[0]!, { deliveryId: 'aborted-conformance', attempt: 1, logger, signal: controller.signal }).catch(() => undefined);
  });
  await check('close() may be called twice', async () => {
    await n.close?.();
    await n.close?.();
  });
  return report;
}
