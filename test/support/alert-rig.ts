// The alert path end to end, without the watcher: events appended to a real outbox (Redis), the real dispatcher, the
// real BullMQ delivery worker and webhook notifiers posting to real HTTP receivers, repeats on demand, and a clock
// that runs with real time plus an offset the test moves (silence ends, repeats). Used by the composition tests and
// the model-based test.
import type { Redis } from 'ioredis';
import { Worker, type Queue } from 'bullmq';
import { AlertStore } from '../../src/alerts/alert-store';
import { IncidentStore } from '../../src/alerts/incidents';
import { alertPolicyOf } from '../../src/alerts/policy';
import { sendDueRepeats } from '../../src/alerts/repeats';
import { sendDueUnmuted } from '../../src/alerts/unmuted';
import { SilenceStore } from '../../src/alerts/silences';
import type { Clock } from '../../src/util/clock';
import { validateConfig, type LoadedConfig } from '../../src/config/load';
import { DeliveryStore } from '../../src/store/deliveries';
import { deliverJob, deliveryBackoff, type DeliverDeps } from '../../src/notify/deliver/deliver';
import { Dispatcher } from '../../src/notify/dispatch/dispatch';
import type { Notifier } from '../../src/notify/notifier';
import { deliverQueue, workerOptions } from '../../src/store/queues';
import type { WatchEvent } from '../../src/store/events';
import { Keys } from '../../src/store/keys';
import { buildNotifier, silent } from './notifiers';
import { dropPrefix, testRedis, uniquePrefix } from './redis';
import { WebhookReceiver } from './webhook-receiver';
import { messagesOf, pagerHoldsOf, type Message } from './receiver-views';

export type { Message };

export { pipelineEvent, stepEvent } from './rig-events';

/** Real time plus an offset: BullMQ's delays run in real time, silences and repeats read this clock. */
export class OffsetClock implements Clock {
  offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  advance(ms: number): void {
    this.offset += ms;
  }
}

/** What a receiver was sent, reduced to what the invariants talk about. */

export interface RigOptions {
  /** Routes and the rest of the config (notifiers `pd` (PagerDuty) and `ce` (CloudEvents) exist; their URLs are set here; more may be added). */
  config: Record<string, unknown>;
  /** Keys already written under this prefix (an upgrade from an earlier release's state). */
  prefix?: string;
  /** A Redis of the test's own (one it stops and starts again); else the shared one. */
  redisUrl?: string;
}

export class AlertRig {
  readonly redis: Redis;
  readonly prefix: string;
  readonly keys: Keys;
  readonly clock = new OffsetClock();
  readonly pd = new WebhookReceiver();
  readonly ce = new WebhookReceiver();
  config!: LoadedConfig;
  alerts!: AlertStore;
  incidents!: IncidentStore;
  silences!: SilenceStore;
  deliveries!: DeliveryStore;
  private queue!: Queue;
  private dispatcher?: Dispatcher;
  private worker?: Worker;
  private notifiers = new Map<string, Notifier>();
  private blocking?: Redis;
  /** The delivery worker's own connection (BullMQ blocks on it): closed with the worker. */
  private workerConnection?: Redis;
  private generation = 0;

  constructor(private readonly o: RigOptions) {
    this.redis = this.connect();
    this.prefix = o.prefix ?? uniquePrefix('rig');
    this.keys = new Keys(this.prefix);
  }

  async start(): Promise<this> {
    const [pdUrl, ceUrl] = [await this.pd.start(), await this.ce.start()];
    const raw = {
      ...this.o.config,
      redis: { prefix: this.prefix },
      notifiers: {
        pd: { type: 'webhook', format: 'pagerduty', url: pdUrl, routingKey: 'R0UT1NG' },
        ce: { type: 'webhook', format: 'cloudevents', url: ceUrl, secret: 'a-webhook-secret-of-32-characters' },
        ...((this.o.config.notifiers as Record<string, unknown> | undefined) ?? {}),
      },
      delivery: { attempts: 3, backoffMs: 200 },
    };
    this.config = validateConfig(raw, { env: {} });
    for (const [name, options] of Object.entries(this.config.notifiers)) this.notifiers.set(name, await buildNotifier(options, { name }));
    this.alerts = new AlertStore(this.redis, this.keys);
    this.incidents = new IncidentStore(this.redis, this.keys);
    this.silences = new SilenceStore(this.redis, this.keys);
    this.deliveries = new DeliveryStore(this.redis, this.keys);
    this.queue = deliverQueue(this.redis, this.keys, this.config.delivery);
    this.startProcesses();
    return this;
  }

  /** The dispatcher and the delivery worker, as a daemon process runs them (nothing of them survives a restart but Redis). */
  private startProcesses(): void {
    const policy = alertPolicyOf(this.config);
    this.blocking = this.connect();
    this.dispatcher = new Dispatcher({
      blocking: this.blocking,
      redis: this.redis,
      keys: this.keys,
      policy,
      deliverQueue: this.queue,
      deliveries: this.deliveries,
      clock: this.clock,
      alerts: this.alerts,
      incidents: this.incidents,
      silences: this.silences,
      consumer: `rig-${++this.generation}`,
      reclaimIdleMs: 300,
      logger: silent,
      blockMs: 50,
    });
    this.dispatcher.start();
    const deps: DeliverDeps = {
      policy,
      notifiers: this.notifiers,
      deliveries: this.deliveries,
      redis: this.redis,
      keys: this.keys,
      alerts: this.alerts,
      incidents: this.incidents,
      silences: this.silences,
      clock: this.clock,
      logger: silent,
    };
    this.workerConnection = this.connect();
    const options = workerOptions(this.workerConnection, this.keys, { lockDurationMs: 1000, stalledIntervalMs: 500 }, 8);
    options.settings = { backoffStrategy: deliveryBackoff(this.config.delivery.backoffMs) };
    this.worker = new Worker(this.queue.name, (job, token, signal) => deliverJob(deps, job, signal ?? new AbortController().signal, token), options);
    this.worker.on('error', () => undefined);
  }

  /** A connection to the rig's Redis: commands wait while it is down (a restart), as the daemon's do. */
  private connect(): Redis {
    return testRedis(this.o.redisUrl);
  }

  /** Stops the processes and starts new ones: only Redis carries over. */
  async restart(): Promise<void> {
    await this.stopProcesses(false);
    this.startProcesses();
  }

  /** A worker process killed (SIGKILL): its active jobs are abandoned mid-flight and come back by BullMQ's stall check. */
  async killWorker(): Promise<void> {
    await this.stopProcesses(true);
    this.startProcesses();
  }

  /** `force`: the worker drops its active jobs as a killed process would. */
  private async stopProcesses(force: boolean): Promise<void> {
    await this.dispatcher?.stop();
    await this.worker?.close(force);
    this.blocking?.disconnect();
    this.workerConnection?.disconnect();
  }

  async emit(...events: WatchEvent[]): Promise<void> {
    for (const e of events) await this.redis.xadd(this.keys.events, '*', 'event', JSON.stringify(e));
  }

  /** Alerts no longer muted and repeats due now (the scheduler's tick, as the daemon runs it): how many were sent. */
  async repeatTick(): Promise<number> {
    const policy = alertPolicyOf(this.config);
    const d = {
      redis: this.redis,
      keys: this.keys,
      alerts: this.alerts,
      silences: this.silences,
      policy,
      deliveries: this.deliveries,
      deliverQueue: this.queue,
    };
    return (await sendDueUnmuted(d, this.clock.now())) + (await sendDueRepeats(d, this.clock.now()));
  }

  /** Waits until the outbox is read and acknowledged and no delivery job waits, runs or is due within `dueWithinMs`. */
  async settle(dueWithinMs = 0, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let quiet = 0; quiet < 3;) {
      if (Date.now() > deadline) throw new Error('the alert rig did not settle');
      const [pending, lag, counts, delayed, flushes] = await Promise.all([
        this.redis.xpending(this.keys.events, 'dispatch') as Promise<[number]>,
        this.undelivered(),
        this.queue.getJobCounts('wait', 'active', 'prioritized'),
        this.queue.getDelayed(),
        // Incident flushes due by the rig's clock (the dispatcher's ticker turns them into jobs).
        this.redis.zcount(this.keys.incidentsDue, '-inf', this.clock.now() + dueWithinMs),
      ]);
      const dueSoon = delayed.filter((j) => j.timestamp + (j.opts.delay ?? 0) <= Date.now() + dueWithinMs).length;
      const busy = Number(pending[0]) + lag + (counts.wait ?? 0) + (counts.active ?? 0) + (counts.prioritized ?? 0) + dueSoon + flushes;
      quiet = busy === 0 ? quiet + 1 : 0;
      await new Promise((r) => setTimeout(r, 60));
    }
  }

  /** Entries of the outbox the dispatch group has not read yet. */
  private async undelivered(): Promise<number> {
    const groups = (await this.redis.xinfo('GROUPS', this.keys.events).catch(() => [])) as unknown[][];
    const group = groups.map((g) => Object.fromEntries(chunk(g as string[]))).find((g) => g.name === 'dispatch');
    if (!group) return (await this.redis.xlen(this.keys.events)) > 0 ? 1 : 0;
    return Number(group.lag ?? 0);
  }

  /** Every message the receivers accepted, in order, one per delivery id (receivers drop a retried delivery id). */
  messages(): Message[] {
    return messagesOf(this.pd, this.ce);
  }

  /** What the PagerDuty receiver holds now, as PagerDuty would (see pagerHoldsOf). */
  pagerHolds(): ReturnType<typeof pagerHoldsOf> {
    return pagerHoldsOf(this.pd);
  }

  async stop(): Promise<void> {
    await this.stopProcesses(true);
    await this.queue.close();
    await this.pd.close();
    await this.ce.close();
    await dropPrefix(this.redis, this.prefix);
    this.redis.disconnect();
  }
}

function chunk(flat: string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
  return pairs;
}
