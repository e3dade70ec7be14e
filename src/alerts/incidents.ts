// Incident groups in Redis: each group's settings, its alerts, its notification log (what its receiver was last sent,
// and a message on its way), and the schedule of flushes. What a flush decides is incident.ts (pure); the flush job
// itself is notify/deliver/incident-flush.ts.
import type { Redis } from 'ioredis';
import type { WatchEvent } from '../store/events';
import type { Keys } from '../store/keys';
import { Scripts } from '../store/scripts';
import type { Explanation } from './explain';
import type { IncidentAction, IncidentSettings, NotificationLog } from './incident';

export type { IncidentSettings } from './incident';

/** A group's notification log is kept this long after the group closed (s): its count of messages goes on. */
const LOG_TTL_SECONDS = 30 * 86_400;

/** One flush holds its group this long at most (a send's timeout is far shorter); a crashed flush frees it then. */
const LOCK_MS = 60_000;

/** A message noted before it is sent: a flush that died sending it sends it again as it was, under the same id. */
export interface PendingMessage {
  id: string;
  event: WatchEvent;
  log: NotificationLog;
}

export interface IncidentGroup {
  id: string;
  settings: IncidentSettings;
  firstAt: number;
  flushedAt?: number;
  /** Alert key -> the event that opened the alert when it joined. */
  members: Map<string, string>;
  log?: NotificationLog;
  pending?: PendingMessage;
}

export class IncidentStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly scripts: Scripts = new Scripts(redis, keys),
  ) {}

  /**
   * An alert joins the group (made if new: its wait starts `since`, when the watcher saw the alert); returns when the
   * group flushes next. Safe to replay.
   */
  async join(groupId: string, settings: IncidentSettings, member: { key: string; openedBy: string }, now: number, notBefore = 0, since = now): Promise<number> {
    const fields = {
      notifier: settings.notifier,
      route: settings.route,
      values: JSON.stringify(settings.values),
      waitMs: settings.waitMs,
      intervalMs: settings.intervalMs,
      repeatMs: settings.repeatMs ?? 0,
      ackExpiresMs: settings.ackExpiresMs ?? 0,
    };
    return (await this.scripts.joinIncident({ groupId, now, member, notBefore, since, settings: fields }))!;
  }

  /** Something about the group's alerts changed (one resolved): it flushes when Alertmanager would look again. */
  async touch(groupId: string, now: number): Promise<number | undefined> {
    return this.scripts.joinIncident({ groupId, now });
  }

  /** Look at the group now (an acknowledgement, from anywhere): the dispatcher's ticker takes it within a moment. */
  async flushSoon(groupIds: Iterable<string>, now: number): Promise<void> {
    const p = this.redis.pipeline();
    for (const id of groupIds) p.zadd(this.keys.incidentsDue, 'XX', 'LT', now, id);
    await p.exec();
  }

  async read(groupId: string): Promise<IncidentGroup | undefined> {
    const k = this.keys;
    const rows = (await this.redis.pipeline().hgetall(k.incident(groupId)).hgetall(k.incidentMembers(groupId)).hgetall(k.incidentLog(groupId)).exec()) ?? [];
    const [g, m, l] = rows.map(([, v]) => (v ?? {}) as Record<string, string>) as [Record<string, string>, Record<string, string>, Record<string, string>];
    if (!g.firstAt || !g.notifier) return undefined;
    return {
      id: groupId,
      settings: {
        notifier: g.notifier,
        route: Number(g.route ?? -1),
        values: JSON.parse(g.values ?? '[]') as string[],
        waitMs: Number(g.waitMs ?? 0),
        intervalMs: Number(g.intervalMs ?? 300_000),
        ...(Number(g.repeatMs) > 0 ? { repeatMs: Number(g.repeatMs) } : {}),
        ...(Number(g.ackExpiresMs) > 0 ? { ackExpiresMs: Number(g.ackExpiresMs) } : {}),
      },
      firstAt: Number(g.firstAt),
      ...(g.flushedAt ? { flushedAt: Number(g.flushedAt) } : {}),
      members: new Map(Object.entries(m)),
      ...(l.action ? { log: decodeLog(l) } : {}),
      ...(l.pending ? { pending: JSON.parse(l.pending) as PendingMessage } : {}),
    };
  }

  /** The notification log alone (what `alerts` and `routes test` show). */
  async log(groupId: string): Promise<NotificationLog | undefined> {
    const l = await this.redis.hgetall(this.keys.incidentLog(groupId));
    return l.action ? decodeLog(l) : undefined;
  }

  /** Noted before it goes: a flush that dies sending it sends the same message again, under the same id. */
  async noteSending(groupId: string, pending: PendingMessage): Promise<void> {
    await this.redis.hset(this.keys.incidentLog(groupId), 'pending', JSON.stringify(pending));
  }

  /** The receiver accepted it: the log says so, and nothing is pending. */
  async noteSent(groupId: string, log: NotificationLog): Promise<void> {
    await this.redis.multi().hset(this.keys.incidentLog(groupId), encodeLog(log)).hdel(this.keys.incidentLog(groupId), 'pending').exec();
  }

  /**
   * What the pager is found to hold (a reconcile against its REST API): the log says it, so the group's next flush
   * — now — sends what differs (`resolve`: the pager holds nothing, a firing group is triggered again; `trigger`: an
   * acknowledgement it lacks is sent again). The log's count goes on, so each message keeps an id of its own.
   */
  async noteHeld(groupId: string, action: IncidentAction, now: number): Promise<void> {
    await this.redis.hset(this.keys.incidentLog(groupId), 'action', action);
    await this.flushSoon([groupId], now);
  }

  /** After a flush: resolved alerts leave the group, its next flush is set; returns the alerts left (0: gone). */
  async settle(groupId: string, now: number, nextAt: number, gone: [string, string][]): Promise<number> {
    return this.scripts.settleIncident({ groupId, now, nextAt, logTtlSeconds: LOG_TTL_SECONDS, gone });
  }

  /**
   * Holds the group for one flush job; undefined when another job holds it. The same job run again (its worker was
   * killed, BullMQ gave it back) takes its own hold over at once: its message is to be sent again without delay.
   */
  async lock(groupId: string, owner: string): Promise<string | undefined> {
    const key = this.keys.incidentLock(groupId);
    if (await this.redis.set(key, owner, 'PX', LOCK_MS, 'NX')) return owner;
    if ((await this.redis.get(key)) !== owner) return undefined;
    await this.redis.pexpire(key, LOCK_MS);
    return owner;
  }

  async unlock(groupId: string, token: string): Promise<void> {
    await this.scripts.releaseLock({ key: this.keys.incidentLock(groupId), token });
  }

  /** A group that is gone no longer has a flush due. */
  async unschedule(groupId: string): Promise<void> {
    await this.redis.zrem(this.keys.incidentsDue, groupId);
  }

  /** Claims the groups whose flush is due (with a lease: another daemon's ticker does not take them meanwhile). */
  async claimDue(now: number, limit = 200): Promise<{ groupId: string; dueAt: number }[]> {
    const due = await this.scripts.claimDue({ schedule: this.keys.incidentsDue, now, limit, leaseMs: LOCK_MS });
    return due.map(({ member, dueAt }) => ({ groupId: member, dueAt }));
  }

  /** Fills in each pager delivery's incident with its notification log and next flush (`routes test`). */
  async explain(e: Explanation): Promise<Explanation> {
    for (const d of e.deliveries) {
      if (!d.incident) continue;
      const [group, due] = await Promise.all([this.read(d.incident.groupId), this.redis.zscore(this.keys.incidentsDue, d.incident.groupId)]);
      const log = group?.log ?? (await this.log(d.incident.groupId));
      d.incident.log = log
        ? { action: log.action, firing: log.firing.length, resolved: log.resolved.length, at: new Date(log.at).toISOString(), notifications: log.seq }
        : null;
      d.incident.pending = Boolean(group?.pending);
      d.incident.nextFlushAt = due ? new Date(Number(due)).toISOString() : null;
    }
    return e;
  }

  /** Live groups, with their notification logs (for `alerts` and the dashboard). */
  async list(limit = 1000): Promise<IncidentGroup[]> {
    const ids = await this.redis.zrange(this.keys.incidentsDue, 0, limit - 1);
    const groups = await Promise.all(ids.map((id) => this.read(id)));
    return groups.filter((g): g is IncidentGroup => g !== undefined);
  }
}

function decodeLog(l: Record<string, string>): NotificationLog {
  return {
    firing: JSON.parse(l.firing ?? '[]') as string[],
    resolved: JSON.parse(l.resolved ?? '[]') as string[],
    action: l.action as IncidentAction,
    at: Number(l.at ?? 0),
    seq: Number(l.seq ?? 0),
    ...(l.openedAt ? { openedAt: Number(l.openedAt) } : {}),
  };
}

function encodeLog(log: NotificationLog): Record<string, string | number> {
  return {
    firing: JSON.stringify(log.firing),
    resolved: JSON.stringify(log.resolved),
    action: log.action,
    at: log.at,
    seq: log.seq,
    ...(log.openedAt ? { openedAt: log.openedAt } : {}),
  };
}
