// Prometheus metrics of one process (prom-client): counters updated by hooks, gauges read from Redis at scrape time.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Keys } from './store/keys';

export interface MetricsSources {
  redis: Redis;
  keys: Keys;
  providers: string[];
  queues: Queue[];
}

export class Metrics {
  readonly registry = new Registry();
  readonly polls = new Counter({
    name: 'srw_polls_total',
    help: 'Poll jobs by provider and outcome (committed, tracked, failed, gone).',
    labelNames: ['provider', 'outcome'],
    registers: [this.registry],
  });
  readonly providerCalls = new Counter({
    name: 'srw_provider_calls_total',
    help: 'Calls to providers by provider and outcome.',
    labelNames: ['provider', 'outcome'],
    registers: [this.registry],
  });
  readonly providerErrors = new Counter({
    name: 'srw_provider_errors_total',
    help: 'Failed provider calls by provider and error code.',
    labelNames: ['provider', 'code'],
    registers: [this.registry],
  });
  readonly providerLatency = new Histogram({
    name: 'srw_provider_call_duration_seconds',
    help: 'Latency of provider calls.',
    labelNames: ['provider'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly transitions = new Counter({
    name: 'srw_transitions_total',
    help: 'Transitions recorded (events appended to the outbox) by event type.',
    labelNames: ['type'],
    registers: [this.registry],
  });
  readonly deliveries = new Counter({
    name: 'srw_deliveries_total',
    help: 'Delivery attempts by notifier and outcome (delivered, retry, dead, silenced).',
    labelNames: ['notifier', 'outcome'],
    registers: [this.registry],
  });
  readonly detectionLatency = new Histogram({
    name: 'srw_detection_to_delivery_seconds',
    help: 'From the poll that saw a change to its delivery, per notifier.',
    labelNames: ['notifier'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  constructor(sources: MetricsSources) {
    const { redis, keys } = sources;
    new Gauge({
      name: 'srw_tracked_targets',
      help: 'Tracked targets by provider and state (ok, failing).',
      labelNames: ['provider', 'state'],
      registers: [this.registry],
      async collect() {
        const failing = await redis.smembers(keys.failing);
        for (const provider of sources.providers) {
          const total = await redis.zcard(keys.due(provider));
          const bad = failing.length ? (await redis.zmscore(keys.due(provider), ...failing)).filter((s) => s !== null).length : 0;
          this.set({ provider, state: 'failing' }, bad);
          this.set({ provider, state: 'ok' }, total - bad);
        }
      },
    });
    new Gauge({
      name: 'srw_dead_letters',
      help: 'Deliveries that failed their last attempt and wait for `deliveries retry`.',
      registers: [this.registry],
      async collect() {
        this.set(await redis.zcard(keys.deadLetters));
      },
    });
    new Gauge({
      name: 'srw_events_retained',
      help: 'Events kept in the outbox stream.',
      registers: [this.registry],
      async collect() {
        this.set(await redis.xlen(keys.events));
      },
    });
    new Gauge({
      name: 'srw_queue_jobs',
      help: 'BullMQ jobs by queue and state.',
      labelNames: ['queue', 'state'],
      registers: [this.registry],
      async collect() {
        for (const q of sources.queues) {
          const counts = await q.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
          for (const [state, n] of Object.entries(counts)) this.set({ queue: q.name, state }, n);
        }
      },
    });
  }

  onProviderCall(provider: string, ok: boolean, ms: number, code?: string): void {
    this.providerCalls.inc({ provider, outcome: ok ? 'ok' : 'error' });
    this.providerLatency.observe({ provider }, ms / 1000);
    if (!ok) this.providerErrors.inc({ provider, code: code ?? 'unknown' });
  }
}
