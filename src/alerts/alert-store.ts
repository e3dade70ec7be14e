// Open alerts in Redis: opened by a failure, resolved (with one alert.resolved event in the outbox) when the same key ends well.
import type { Redis } from 'ioredis';
import { summarize, type WatchEvent } from '../store/events';
import { alertId, resolvedEventId } from '../store/ids';
import type { Keys } from '../store/keys';
import { Scripts } from '../store/scripts';
import { runOf } from './alert-key';

/** Open alerts kept at most; past this the oldest are forgotten. */
export const MAX_OPEN_ALERTS = 10000;

export interface OpenAlert {
  id: string;
  key: string;
  openedAt: number;
  openedBy: string;
  openedType: string;
  openedSummary: string;
  openedRun?: string;
  lastAt: number;
  failures: number;
  /** Notifiers that were sent the alert: its resolve goes to these. */
  notifiers: string[];
  /** Notifier -> repeat interval (ms), for routes with `repeat.every`. */
  repeats: Record<string, number>;
  /** The event that opened it (repeats send it again). */
  event: WatchEvent;
}

export class AlertStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** Opens the alert `key` (or notes another failure of it), naming the notifiers sent it. Safe to replay. */
  async open(key: string, event: WatchEvent, notifiers: string[], now: number): Promise<boolean> {
    const id = alertId(key);
    return new Scripts(this.redis, this.keys).openAlert({
      alertId: id,
      key,
      now,
      event: { id: event.id, type: event.type, summary: summarize(event), run: runOf(event) ?? '', json: JSON.stringify(event) },
      maxAlerts: MAX_OPEN_ALERTS,
      notifiers,
    });
  }

  /** A grouped notification led by this alert's event was delivered to `notifier`: its resolve must reach it too. */
  async noteNotified(key: string, notifier: string): Promise<void> {
    await new Scripts(this.redis, this.keys).notifyAlert({ alertId: alertId(key), notifier });
  }

  /** Repeats `notifier` every `everyMs` while the alert stays open. */
  async scheduleRepeat(key: string, notifier: string, everyMs: number, now: number): Promise<void> {
    const id = alertId(key);
    await this.redis
      .multi()
      .hset(this.keys.alert(id), `r:${notifier}`, everyMs)
      .zadd(this.keys.alertRepeats, 'NX', now + everyMs, repeatMember(id, notifier))
      .exec();
  }

  async get(key: string): Promise<OpenAlert | undefined> {
    return this.byId(alertId(key));
  }

  async byId(id: string): Promise<OpenAlert | undefined> {
    return decodeAlert(id, await this.redis.hgetall(this.keys.alert(id)));
  }

  /**
   * Resolves the alert `key` if it is open: one alert.resolved event, appended to the outbox in the same
   * step as the alert is removed. Returns that event, or undefined when nothing was open (or a replay).
   */
  async resolve(key: string, by: WatchEvent, now: number, o: { onlyOpenedBy?: string } = {}): Promise<WatchEvent | undefined> {
    const alert = await this.get(key);
    if (!alert || (o.onlyOpenedBy && alert.openedType !== o.onlyOpenedBy)) return undefined;
    const resolved: WatchEvent = {
      id: resolvedEventId(alert.openedBy),
      type: 'alert.resolved',
      time: new Date(now).toISOString(),
      detectedAt: now,
      trackId: by.trackId,
      provider: by.provider,
      experiment: by.experiment,
      ...(by.pipelineRunId ? { pipelineRunId: by.pipelineRunId } : {}),
      labels: by.labels,
      alertKey: key,
      alert: {
        key,
        openedAt: new Date(alert.openedAt).toISOString(),
        openedBy: alert.openedBy,
        openedType: alert.openedType as WatchEvent['type'],
        openedSummary: alert.openedSummary,
        ...(alert.openedRun ? { openedRun: alert.openedRun } : {}),
        resolvedBy: by.id,
        ...(runOf(by) ? { resolvedRun: runOf(by) } : {}),
        durationMs: Math.max(0, now - alert.openedAt),
        notifiers: alert.notifiers,
      },
    };
    const done = await new Scripts(this.redis, this.keys).resolveAlert({
      alertId: alert.id,
      openedBy: alert.openedBy,
      eventJson: JSON.stringify(resolved),
      repeatMembers: Object.keys(alert.repeats).map((n) => repeatMember(alert.id, n)),
    });
    return done ? resolved : undefined;
  }

  /** Open alerts, oldest first. */
  async list(limit = 1000): Promise<OpenAlert[]> {
    const ids = await this.redis.zrange(this.keys.alerts, 0, limit - 1);
    if (ids.length === 0) return [];
    const p = this.redis.pipeline();
    for (const id of ids) p.hgetall(this.keys.alert(id));
    const rows = (await p.exec()) ?? [];
    return rows.map(([, row], i) => decodeAlert(ids[i]!, row as Record<string, string>)).filter((a): a is OpenAlert => a !== undefined);
  }
}

export function repeatMember(alertId: string, notifier: string): string {
  return `${alertId}|${notifier}`;
}

function decodeAlert(id: string, h: Record<string, string>): OpenAlert | undefined {
  if (!h.key || !h.openedBy) return undefined;
  const notifiers = Object.keys(h)
    .filter((f) => f.startsWith('n:'))
    .map((f) => f.slice(2))
    .sort();
  const repeats = Object.fromEntries(
    Object.entries(h)
      .filter(([f]) => f.startsWith('r:'))
      .map(([f, v]) => [f.slice(2), Number(v)]),
  );
  return {
    id,
    key: h.key,
    openedAt: Number(h.openedAt),
    openedBy: h.openedBy,
    openedType: h.openedType ?? '',
    openedSummary: h.openedSummary ?? '',
    ...(h.openedRun ? { openedRun: h.openedRun } : {}),
    lastAt: Number(h.lastAt ?? h.openedAt),
    failures: Number(h.failures ?? 1),
    notifiers,
    repeats,
    event: JSON.parse(h.event ?? '{}') as WatchEvent,
  };
}
