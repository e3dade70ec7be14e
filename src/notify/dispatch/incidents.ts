// What the dispatcher does for a pager: an alert joins its incident group instead of being sent a message of its own,
// and a resolve asks the group for a flush. The flush (deliver/incident-flush.ts) sends what the pager should hold.
import type { Queue } from 'bullmq';
import type { AlertAction } from '../../alerts/alert-key';
import type { AlertPolicy, Decision } from '../../alerts/decide';
import { groupOfMarker, type IncidentSettings, type IncidentStore } from '../../alerts/incidents';
import type { WatchEvent } from '../../store/events';
import { groupId, incidentFlushJobId } from '../../store/ids';
import type { Clock } from '../../util/clock';
import type { Logger } from '../../util/logger';

/** A group's flushes at most this often while it changes, when its route sets no `group.interval` (Alertmanager's). */
const DEFAULT_INTERVAL_MS = 300_000;

/** The outcomes by which an alert belongs to a pager's incident group (silenced: it pages when the silence ends). */
const JOINS: readonly Decision['outcome'][] = ['group', 'send', 'held', 'silenced'];

export interface IncidentJoin {
  groupId: string;
  settings: IncidentSettings;
  notBefore?: number;
}

/** The group a pager's decision on an alert's failure puts it in; undefined when it is no pager's or joins none. */
export function incidentJoinOf(policy: AlertPolicy, action: AlertAction | undefined, key: string | undefined, d: Decision): IncidentJoin | undefined {
  if (action !== 'open' || !key || !policy.traits.get(d.notifier)?.pager || !JOINS.includes(d.outcome)) return undefined;
  const route = policy.routes[d.route];
  if (!route) return undefined;
  // Ungrouped: a group of one alert key, the same machinery.
  const values = d.group?.values ?? [key];
  return {
    groupId: groupId(d.route, d.notifier, values),
    settings: {
      notifier: d.notifier,
      route: d.route,
      values,
      waitMs: d.group?.wait ?? 0,
      intervalMs: d.group?.interval ?? DEFAULT_INTERVAL_MS,
      ...(route.repeat ? { repeatMs: route.repeat.every } : {}),
    },
    ...(d.holdUntil ? { notBefore: d.holdUntil } : {}),
  };
}

/** The incident group a resolve concerns at a pager (the alert joined one), if any. */
export function incidentOfResolve(policy: AlertPolicy, e: WatchEvent, notifier: string): string | undefined {
  if (e.type !== 'alert.resolved' || !policy.traits.get(notifier)?.pager) return undefined;
  return groupOfMarker(e.alert?.lastMessages?.[notifier]);
}

/** How often the ticker looks for due flushes (ms): a group's wait is kept to within this. */
const TICK_MS = 250;

/**
 * Turns due incident flushes into delivery jobs: a group's wait, interval and repeat, an acknowledgement, a silence
 * ending — everything that should make a group look again — is a due time in one sorted set, read here.
 */
export class IncidentTicker {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly o: { incidents: IncidentStore; deliverQueue: Queue; clock: Clock; logger: Logger; tickMs?: number },
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.tick()
        .then(() => undefined)
        .catch((err: Error) => this.o.logger.warn({ err: err.message }, 'incident flushes: Redis command failed; retrying'))
        .finally(() => (this.running = undefined));
    }, this.o.tickMs ?? TICK_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Claims what is due and adds its flush jobs; returns how many. */
  async tick(): Promise<number> {
    const due = await this.o.incidents.claimDue(this.o.clock.now());
    if (due.length === 0) return 0;
    await this.o.deliverQueue.addBulk(
      due.map(({ groupId: id, dueAt }) => ({ name: 'incident', data: { incident: { id } }, opts: { jobId: incidentFlushJobId(id, dueAt) } })),
    );
    return due.length;
  }
}
