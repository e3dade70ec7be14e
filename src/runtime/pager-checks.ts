// The periodic check of what each pager holds (a pager notifier's `api.checkEvery`): reconcile.ts on a timer, the
// drift counted in /metrics (srw_pager_drift) and logged, mended when `api.fix` says so. A PagerDuty that does not
// answer is logged and tried at the next check; it never stops the daemon.
import type { IncidentStore } from '../alerts/incidents';
import type { Metrics } from '../api/metrics';
import type { LoadedConfig } from '../config/load';
import type { Notifier } from '../notify/notifier';
import { pagerApiOf } from '../notify/notifiers/webhook';
import { reconcilePager } from '../notify/pager/reconcile';
import type { Clock } from '../util/clock';
import type { Logger } from '../util/logger';

export interface PagerCheckDeps {
  config: LoadedConfig;
  notifiers: Map<string, Notifier>;
  incidents: IncidentStore;
  metrics: Metrics;
  clock: Clock;
  logger: Logger;
}

/** Starts a check per pager with `api.checkEvery`; returns what stops them all. */
export function startPagerChecks(d: PagerCheckDeps): () => void {
  const timers: NodeJS.Timeout[] = [];
  for (const [name, options] of Object.entries(d.config.notifiers)) {
    const api = pagerApiOf(options);
    const notifier = d.notifiers.get(name);
    if (!api?.checkEvery || !notifier) continue;
    const log = d.logger.child({ component: 'pager-check', notifier: name });
    let running = false;
    const check = async () => {
      if (running) return;
      running = true;
      try {
        const drift = await reconcilePager({ name, api, incidents: d.incidents, notifier, logger: log }, { fix: api.fix, now: d.clock.now() });
        d.metrics.pagerDrift.set({ notifier: name, kind: 'open_there_only' }, drift.openThereOnly.length);
        d.metrics.pagerDrift.set({ notifier: name, kind: 'open_here_only' }, drift.openHereOnly.length);
        d.metrics.pagerDrift.set({ notifier: name, kind: 'acked_here_only' }, drift.ackedHereOnly.length);
        if (drift.openThereOnly.length + drift.openHereOnly.length + drift.ackedHereOnly.length > 0)
          log.warn({ drift }, 'the pager holds what the daemon does not');
      } catch (err) {
        d.metrics.pagerChecksFailed.inc({ notifier: name });
        log.warn({ err: (err as Error).message }, 'could not compare with the pager; trying again at the next check');
      } finally {
        running = false;
      }
    };
    const timer = setInterval(() => void check(), api.checkEvery);
    timer.unref();
    timers.push(timer);
    void check();
  }
  return () => timers.forEach((t) => clearInterval(t));
}
