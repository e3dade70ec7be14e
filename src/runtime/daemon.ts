// The composition root: builds everything from the config; starts the scheduler, dispatcher and workers; stops them gracefully.
import * as os from 'node:os';
import { Worker, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { systemClock, type Clock } from '../util/clock';
import type { LoadedConfig } from '../config/load';
import { ApiServer } from '../api/server';
import { peopleOf } from '../api/auth/people';
import type { Logger } from '../util/logger';
import { Metrics } from '../api/metrics';
import { Dispatcher } from '../notify/dispatch/dispatch';
import { startPagerChecks } from './pager-checks';
import { RedisLiveMessages } from '../notify/notifiers/live-messages';
import { sendDueRepeats } from '../alerts/repeats';
import { sendDueUnmuted } from '../alerts/unmuted';
import type { Notifier } from '../notify/notifier';
import type { RunProvider } from '../model/provider';
import { claimsAt, deliverQueue, pollQueue, type PollQueue } from '../store/queues';
import { answersWithin, connectRedis, describeRedis, untilReady } from './redis';
import type { BudgetFactory } from '../providers/builtin';
import { BudgetShortfall, RedisBudget } from '../watch/budget';
import { Keys } from '../store/keys';
import { Scripts } from '../store/scripts';
import type { PollDeps } from '../watch/poll';
import { deliverWorker, pollWorkers, type WorkerContext } from './workers';
import { Scheduler } from '../watch/scheduler';
import { MissingWatch } from '../watch/missing';
import { StuckWatch } from '../watch/stuck';
import { TrackStore } from '../store/tracks';
import { startChangeFeeds } from '../watch/change-feeds';
import { HintRouter } from '../watch/hints';
import { ALL_ROLES, sharedOf, type DaemonOptions, type Roles, type Shared } from './daemon-options';
import { DeliverThreads, deliverThreadCount } from './deliver-threads';
import { buildAll, configTracks, hintSettingsOf, pollSettingsOf, pollsPerJobOf, stuckSettingsOf } from './wiring';
import { InternalError } from '../model/errors';

/** How long start-up waits for Redis before giving up. */
const START_TIMEOUT_MS = 10_000;

export { ALL_ROLES, type DaemonOptions, type Roles };

export class Daemon {
  readonly keys: Keys;
  readonly clock: Clock;
  readonly roles: Roles;
  private readonly log: Logger;
  private redis?: Redis;
  private blocking?: Redis;
  private bull?: Redis;
  private scheduler?: Scheduler;
  private dispatcher?: Dispatcher;
  private readonly workers: Worker[] = [];
  private readonly queues = new Map<string, PollQueue>();
  private deliver?: Queue;
  private api?: ApiServer;
  private metrics?: Metrics;
  private hints?: HintRouter;
  private stuck?: StuckWatch;
  private missing?: MissingWatch;
  private stopFeeds?: () => Promise<void>;
  private scripts?: Scripts; // the main connection's: one object, handed to every store and worker of the process
  private stopPagerChecks?: () => void;
  private threads?: DeliverThreads;
  private stopping?: Promise<void>;
  /** Where the HTTP API listens, once started. */
  apiUrl?: string;

  private constructor(
    readonly config: LoadedConfig,
    readonly providers: Map<string, RunProvider>,
    readonly notifiers: Map<string, Notifier>,
    private readonly o: DaemonOptions,
  ) {
    this.keys = new Keys(config.redis.prefix);
    this.clock = o.clock ?? systemClock;
    this.roles = o.roles ?? ALL_ROLES;
    this.log = o.logger;
  }

  /** Validates the whole config and builds providers and notifiers; nothing connects yet. */
  static async create(o: DaemonOptions): Promise<Daemon> {
    const keys = new Keys(o.config.redis.prefix);
    const clock = o.clock ?? systemClock;
    // Providers get a request budget shared through Redis; it reads the connection once the daemon has one.
    const built: { daemon?: Daemon } = {};
    const shortfall = new BudgetShortfall(o.logger, clock, (provider) => built.daemon?.metrics?.budgetWaits.inc({ provider }));
    const budgetFor: BudgetFactory = (name, limit) =>
      new RedisBudget(() => built.daemon!.connection, keys, name, limit, clock, { onSpent: (provider) => shortfall.note(provider) });
    const liveMessages = (notifier: string) => new RedisLiveMessages(() => built.daemon!.connection, keys, notifier);
    const services = { budgetFor, liveMessages, readInThread: (o.roles ?? ALL_ROLES).pollWorkers };
    const { providers, notifiers } = await buildAll(o.config, o.logger, services, o.registries);
    built.daemon = new Daemon(o.config, providers, notifiers, o);
    return built.daemon;
  }

  get connection(): Redis {
    if (!this.redis) throw new InternalError('daemon not started');
    return this.redis;
  }

  /** `steprun-watch daemon` serves the API; worker-only processes serve only their health and metrics (workers.listen). */
  get servesApi(): boolean {
    return this.config.api.enabled && this.roles.scheduler;
  }

  async start(): Promise<void> {
    const { config } = this;
    this.redis = connectRedis({ target: config.redis, mode: 'daemon', name: 'srw-daemon' });
    this.scripts = new Scripts(this.redis, this.keys);
    this.redis.on('error', (err) => this.log.warn({ err: err.message }, 'redis connection error'));
    this.redis.on('ready', () => void this.addConfigTracks().catch((err: Error) => this.log.warn({ err: err.message }, 'could not add config tracks')));
    // At start-up a Redis that does not answer is an error (exit 5), not a process waiting silently; later outages are waited out.
    await untilReady(this.redis, describeRedis(config.redis), START_TIMEOUT_MS);
    const shared = sharedOf(this.scripts, this.redis, this.keys, config, (notifier) => this.metrics!.deliveries.inc({ notifier, outcome: 'silenced' }));
    // BullMQ gets a connection of its own: it defines its many scripts on the connection it is given, and every
    // pipeline of that connection would copy them all (measured: the largest single cost at saturation).
    this.bull = connectRedis({ target: config.redis, mode: 'daemon', name: 'srw-bullmq' });
    this.bull.on('error', () => undefined); // the main connection logs outages once
    for (const [name, p] of this.providers) this.queues.set(name, this.watchQueue(pollQueue(this.bull, this.keys, name, pollsPerJobOf(config, name, p))));
    this.deliver = this.watchQueue(deliverQueue(this.bull, this.keys, config.delivery));
    this.metrics = new Metrics({ redis: this.redis, keys: this.keys, providers: [...this.providers.keys()], queues: [...this.queues.values(), this.deliver] });
    if (this.roles.pollWorkers) pollWorkers(this.workerContext(), this.pollDeps()).forEach((w) => this.addWorker(w));
    // Deliver threads start beside the rest (a thread loads its modules for a few hundred ms); start waits for them.
    const delivery = this.roles.deliverWorkers ? this.startDelivery(shared) : undefined;
    delivery?.catch(() => undefined); // handled: awaited (and thrown) below, once the rest has started
    if (this.roles.dispatcher) this.startDispatcher(shared);
    if (this.roles.scheduler) await this.startScheduler(shared);
    await delivery;
    // The daemon serves the API; a worker-only process serves its health and metrics (every process is scrapable).
    if (!this.o.inThread && (this.servesApi || !this.roles.scheduler)) await this.startApi(shared);
    const started = { roles: this.roles, providers: [...this.providers.keys()], notifiers: [...this.notifiers.keys()], prefix: config.redis.prefix };
    this.log.info({ ...started, api: this.apiUrl ?? null }, 'steprun-watch started');
  }

  /** The delivery worker: in this thread, or in deliver threads of its own (deliver-threads.ts). */
  private async startDelivery(s: Shared): Promise<void> {
    const count = this.o.inThread ? 0 : deliverThreadCount(this.config, this.o);
    if (count > 0) {
      this.threads = new DeliverThreads({ config: this.config, count, logger: this.log, onDelivery: (d) => this.metrics!.recordDelivery(d) });
      return this.threads.start();
    }
    const deps = { ...s, notifiers: this.notifiers, redis: this.connection, keys: this.keys, clock: this.clock, logger: this.log };
    const context = { ...this.workerContext(), reportDelivery: this.o.inThread?.onDelivery };
    this.addWorker(deliverWorker(context, { ...deps, publicUrl: this.config.api.publicUrl, alertActions: Boolean(this.config.api.slack) }));
  }

  private startDispatcher(s: Shared): void {
    this.blocking = connectRedis({ target: this.config.redis, mode: 'daemon', name: 'srw-dispatch' });
    this.blocking.on('error', () => undefined); // the main connection logs outages once
    this.dispatcher = new Dispatcher({
      ...s,
      blocking: this.blocking,
      redis: this.connection,
      keys: this.keys,
      deliverQueue: this.deliver!,
      clock: this.clock,
      consumer: `${os.hostname()}-${process.pid}`,
      reclaimIdleMs: this.config.workers.reclaimIdleMs,
      logger: this.log.child({ component: 'dispatch' }),
      maxLen: this.config.events.maxLen,
    });
    this.dispatcher.start();
  }

  /** The tick (claims due tracks; raises stuck, missing, due repeats and alerts no longer muted), and change hints when they are on. */
  private async startScheduler(s: Shared): Promise<void> {
    const { config } = this;
    const on = { redis: this.connection, keys: this.keys, scripts: s.scripts };
    if (config.poll.hints.enabled) {
      this.hints = new HintRouter({
        ...{ ...on, queues: this.queues, clock: this.clock, settings: hintSettingsOf(config, this.leaseMs) },
        logger: this.log.child({ component: 'hints' }),
        onHint: (provider, outcome) => this.metrics!.hints.inc({ provider, outcome }),
      });
      this.stopFeeds = await startChangeFeeds(this.providers, this.hints, this.log.child({ component: 'hints' }));
    }
    const repeats = { ...on, ...s, deliverQueue: this.deliver! };
    this.scheduler = new Scheduler({
      ...{ ...on, queues: this.queues, clock: this.clock, batch: config.poll.batch, leaseMs: this.leaseMs },
      afterTick: async (now) => {
        await this.stuckWatch().raiseDue(now);
        await this.missingWatch().raiseDue(now);
        // A muted alert told before its repeat: the notifier's first word is "still failing since", then repeats.
        await sendDueUnmuted(repeats, now);
        await sendDueRepeats(repeats, now);
      },
      logger: this.log.child({ component: 'scheduler' }),
    });
    this.scheduler.start(config.poll.tick);
    this.stopPagerChecks = startPagerChecks({ ...s, config, notifiers: this.notifiers, metrics: this.metrics!, clock: this.clock, logger: this.log });
  }

  private async startApi(s: Shared): Promise<void> {
    const { config } = this;
    const on = { redis: this.connection, keys: this.keys, clock: this.clock };
    this.api = new ApiServer({
      ...{ deliveries: s.deliveries, policy: s.policy, alerts: s.alerts, incidents: s.incidents, silences: s.silences, scripts: s.scripts },
      healthOnly: !this.servesApi,
      redisWhere: describeRedis(config.redis),
      ...on,
      providers: this.providers,
      deliverQueue: this.deliver!,
      metrics: this.metrics!,
      logger: this.log.child({ component: 'api' }),
      people: await peopleOf(config.api, { ...on, logger: this.log.child({ component: 'api' }), signsIn: this.servesApi }),
      allowedHosts: config.api.allowedHosts,
      maxStreamClients: config.api.maxStreamClients,
      hooks: { eventGrid: config.api.eventGrid, pagerDuty: config.api.pagerDuty, slack: config.api.slack },
      hints: this.hints,
      ready: () => this.ready(),
    });
    this.apiUrl = this.servesApi ? await this.api.listen(config.api.listen) : await this.api.listen(config.workers.listen, 'workers.listen');
  }

  /** A claimed track waits this long before it may be claimed again if its poll never reports back. */
  private get leaseMs(): number {
    return Math.max(60000, 2 * this.config.workers.lockDurationMs + 30000);
  }

  private watchQueue<Q extends Queue>(queue: Q): Q {
    queue.on('error', (err) => this.log.warn({ queue: queue.name, err: err.message }, 'queue error'));
    return queue;
  }

  /** Ready: Redis answers within a second and every worker of this process runs. */
  async ready(): Promise<boolean> {
    const redisOk = (await answersWithin(this.connection, 1000)) && this.connection.status === 'ready';
    return redisOk && this.workers.every((w) => w.isRunning()) && (this.threads?.running() ?? true);
  }

  private pollDeps(): PollDeps {
    const metrics = this.metrics!;
    return {
      onProviderCall: (provider, ok, ms, code) => metrics.onProviderCall(provider, ok, ms, code),
      onTransitions: (transitions) => transitions.forEach((t) => metrics.transitions.inc({ type: t.event.type })),
      redis: this.connection,
      keys: this.keys,
      scripts: this.scripts!,
      providers: this.providers,
      clock: this.clock,
      logger: this.log.child({ component: 'poll' }),
      settings: pollSettingsOf(this.config),
      stuck: this.stuckWatch(),
      missing: this.missingWatch(),
      pollNow: async (provider, trackIds, dueAt) => void (await this.queues.get(provider)?.addPolls(claimsAt(trackIds, dueAt), Date.now())),
    };
  }

  /** One per process: polls note deadlines, the tick raises the ones that passed. */
  private stuckWatch(): StuckWatch {
    this.stuck ??= new StuckWatch(this.connection, this.keys, stuckSettingsOf(this.config), this.scripts);
    return this.stuck;
  }
  private missingWatch(): MissingWatch {
    this.missing ??= new MissingWatch(this.connection, this.keys, this.scripts);
    return this.missing;
  }

  private workerContext(): WorkerContext {
    return { config: this.config, connection: this.bull!, keys: this.keys, metrics: this.metrics! };
  }

  private addWorker(worker: Worker): void {
    worker.on('error', (err) => this.log.warn({ worker: worker.name, err: err.message }, 'worker error'));
    this.workers.push(worker);
  }

  /** Config tracks are (re)added at start and whenever Redis comes back: adding is idempotent. */
  async addConfigTracks(): Promise<number> {
    if (!this.roles.scheduler || this.config.tracks.length === 0) return 0;
    const store = new TrackStore(this.connection, this.keys, this.clock, this.scripts);
    const added = await Promise.all(configTracks(this.config, this.clock.now()).map((t) => store.add(t)));
    return added.filter(Boolean).length;
  }

  /** Graceful stop: no new ticks, finish in-flight jobs, close connections. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.log.info('stopping: draining in-flight jobs');
    await this.api?.close();
    await this.stopFeeds?.();
    this.stopPagerChecks?.();
    await this.scheduler?.stop();
    await this.dispatcher?.stop();
    await Promise.all([...this.workers.map((w) => w.close()), this.threads?.stop()]);
    await Promise.all([...this.queues.values(), ...(this.deliver ? [this.deliver] : [])].map((q) => q.close()));
    await Promise.all([...this.notifiers.values()].map((n) => n.close?.()));
    await Promise.all([...this.providers.values()].map((p) => p.close?.()));
    this.blocking?.disconnect();
    this.bull?.disconnect();
    // QUIT would wait for a Redis that is away (commands queue until it is back): then just drop the socket.
    if (this.redis?.status === 'ready') await this.redis.quit().catch(() => this.redis?.disconnect());
    else this.redis?.disconnect();
    this.log.info('stopped');
  }
}
