// The BullMQ workers of one process: a poll worker per provider instance (its own concurrency and rate limit), and
// the delivery worker. The daemon and the worker-only processes start them the same way.
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { LoadedConfig } from '../config/load';
import type { DeliveryReport, Metrics } from '../api/metrics';
import { deliverJob, deliveryBackoff, type DeliverJobData, type DeliverDeps } from '../notify/deliver/deliver';
import { DELIVER_QUEUE, pollQueueName, pollsOfJob, workerOptions, type PollJobData } from '../store/queues';
import type { Keys } from '../store/keys';
import type { PollDeps } from '../watch/poll';
import { pollBatch } from '../watch/poll-batch';
import { Slots } from '../util/slots';

export interface WorkerContext {
  config: LoadedConfig;
  connection: Redis;
  keys: Keys;
  metrics: Metrics;
  /** Where delivery outcomes go instead of `metrics` (a deliver thread sends them to its parent). */
  reportDelivery?(d: DeliveryReport): void;
}

export function pollWorkers(c: WorkerContext, deps: PollDeps): Worker[] {
  return [...deps.providers.keys()].map((name) => {
    const limits = c.config.poll.providers[name] ?? {};
    const concurrency = limits.concurrency ?? c.config.poll.concurrency;
    const options = workerOptions(c.connection, c.keys, c.config.workers, concurrency);
    if (limits.maxPerMinute) options.limiter = { max: limits.maxPerMinute, duration: 60000 };
    // A job carries several polls: the polls in flight are bounded, not only the jobs.
    const slots = new Slots(concurrency);
    return new Worker<PollJobData>(
      pollQueueName(name),
      (job) => pollBatch(deps, pollsOfJob(job.data), slots, (outcome) => c.metrics.polls.inc({ provider: name, outcome: outcome.kind })),
      options,
    );
  });
}

export function deliverWorker(c: WorkerContext, deps: Omit<DeliverDeps, 'onDelivered'>): Worker {
  const withMetrics: DeliverDeps = {
    ...deps,
    running: new Map(),
    onDelivered: (notifier, event, ok, final) => {
      const latencySeconds = ok ? Math.max(0, deps.clock.now() - event.detectedAt) / 1000 : undefined;
      const report: DeliveryReport = { notifier, outcome: ok ? 'delivered' : final ? 'dead' : 'retry', latencySeconds };
      if (c.reportDelivery) c.reportDelivery(report);
      else c.metrics.recordDelivery(report);
    },
  };
  const options = workerOptions(c.connection, c.keys, c.config.workers, c.config.delivery.concurrency);
  options.settings = { backoffStrategy: deliveryBackoff(c.config.delivery.backoffMs) };
  return new Worker<DeliverJobData>(
    DELIVER_QUEUE,
    (job, token, signal) => deliverJob(withMetrics, job, signal ?? new AbortController().signal, token),
    options,
  );
}
