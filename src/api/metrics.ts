// Prometheus metrics of one process (prom-client): counters updated by hooks, gauges read from Redis at scrape time.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Keys } from '../store/keys';

/** One delivery's outcome, as counted in srw_deliveries_total (and, when delivered, its latency since detection). */
export interface DeliveryReport {
  notifier: string;
  outcome: 'delivered' | 'retry' | 'dead';
  latencySeconds?: number;
}

export interface MetricsSources {
  redis: Redis;
  keys: Keys;
  providers: string[];
  queues: Queue[];
}

/** Provider calls: from a cached local read (ms) to a slow Azure answer (s). */
const PROVIDER_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Change to delivery: from a hinted poll (sub-second) to a slow webhook retried for minutes. */
const DELIVERY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300];

export class Metrics {
  readonly registry = new Registry();
  readonly polls = this.counter('srw_polls_total', 'Poll jobs by provider and outcome (committed, tracked, failed, gone).', ['provider', 'outcome']);
  readonly providerCalls = this.counter('srw_provider_calls_total', 'Calls to providers by provider and outcome.', ['provider', 'outcome']);
  readonly providerErrors = this.counter('srw_provider_errors_total', 'Failed provider calls by provider and error code.', ['provider', 'code']);
  readonly providerLatency = this.histogram('srw_provider_call_duration_seconds', 'Latency of provider calls.', ['provider'], PROVIDER_BUCKETS);
  readonly budgetWaits = this.counter(
    'srw_provider_budget_waits_total',
    'Provider requests that found the shared request budget spent and waited for the next window.',
    ['provider'],
  );
  readonly hints = this.counter('srw_hints_total', 'Change hints by provider and outcome (polled, ignored).', ['provider', 'outcome']);
  readonly transitions = this.counter('srw_transitions_total', 'Transitions recorded (events appended to the outbox) by event type.', ['type']);
  readonly deliveries = this.counter('srw_deliveries_total', 'Delivery attempts by notifier and outcome (delivered, retry, dead, silenced).', [
    'notifier',
    'outcome',
  ]);
  readonly authFailures = this.counter(
    'srw_api_auth_failures_total',
    'Wrong tokens, sessions and hook secrets (refused), and requests answered 429 for too many of them (limited).',
    ['outcome'],
  );
  readonly detectionLatency = this.histogram(
    'srw_detection_to_delivery_seconds',
    'From the poll that saw a change to its delivery, per notifier.',
    ['notifier'],
    DELIVERY_BUCKETS,
  );

  readonly pagerDrift = new Gauge({
    name: 'srw_pager_drift',
    help: 'Incidents the pager and the daemon disagree on at the last check, by notifier and kind (open_there_only, open_here_only, acked_here_only).',
    labelNames: ['notifier', 'kind'],
    registers: [this.registry],
  });
  readonly pagerChecksFailed = this.counter(
    'srw_pager_checks_failed_total',
    'Checks of what the pager holds that could not ask it (its REST API down or refusing).',
    ['notifier'],
  );

  constructor(sources: MetricsSources) {
    const { redis, keys } = sources;
    this.gauge('srw_tracked_targets', 'Tracked targets by provider and state (ok, failing).', ['provider', 'state'], async (set) => {
      const failing = await redis.smembers(keys.failing);
      for (const provider of sources.providers) {
        const total = await redis.zcard(keys.due(provider));
        const bad = failing.length ? (await redis.zmscore(keys.due(provider), ...failing)).filter((s) => s !== null).length : 0;
        set(bad, { provider, state: 'failing' });
        set(total - bad, { provider, state: 'ok' });
      }
    });
    this.gauge('srw_dead_letters', 'Deliveries that failed their last attempt and wait for `deliveries retry`.', [], async (set) =>
      set(await redis.zcard(keys.deadLetters)),
    );
    this.gauge('srw_events_retained', 'Events kept in the outbox stream.', [], async (set) => set(await redis.xlen(keys.events)));
    this.gauge('srw_queue_jobs', 'BullMQ jobs by queue and state.', ['queue', 'state'], async (set) => {
      for (const q of sources.queues) {
        const counts = await q.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
        for (const [state, n] of Object.entries(counts)) set(n, { queue: q.name, state });
      }
    });
  }

  /** A gauge read at scrape time: `collect` sets its values (from Redis) each time /metrics is asked. */
  private gauge<L extends string>(
    name: string,
    help: string,
    labelNames: L[],
    collect: (set: (value: number, labels?: Partial<Record<L, string>>) => void) => Promise<void>,
  ): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        await collect((value, labels) => (labels ? this.set(labels, value) : this.set(value)));
      },
    });
  }

  private counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private histogram<L extends string>(name: string, help: string, labelNames: L[], buckets: number[]): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
  }

  /** A delivery's outcome, from this thread's delivery worker or a deliver thread's. */
  recordDelivery(d: DeliveryReport): void {
    this.deliveries.inc({ notifier: d.notifier, outcome: d.outcome });
    if (d.latencySeconds !== undefined) this.detectionLatency.observe({ notifier: d.notifier }, d.latencySeconds);
  }

  onProviderCall(provider: string, ok: boolean, ms: number, code?: string): void {
    this.providerCalls.inc({ provider, outcome: ok ? 'ok' : 'error' });
    this.providerLatency.observe({ provider }, ms / 1000);
    if (!ok) this.providerErrors.inc({ provider, code: code ?? 'unknown' });
  }
}
