// Open alerts in Redis: opened by a failure, resolved (with one alert.resolved event in the outbox) when the same key ends well.
import type { Redis } from 'ioredis';
import { summarize, type WatchEvent } from '../store/events';
import { alertResolvedEvent } from '../store/event-builders';
import { alertId } from '../store/ids';
import type { Keys } from '../store/keys';
import { Scripts } from '../store/scripts';
import { runOf } from './alert-key';
import type { AlertView } from './decide';
import { ContentionError } from '../model/errors';
import { joinedText, withTextParts } from '../store/text-parts';

/** Open alerts kept at most; past this the oldest are forgotten. */
export const MAX_OPEN_ALERTS = 10000;

/**
 * The alert's opening event is kept in parts so that its hash stays compact (store/text-parts.ts); its type, summary
 * and run are read from it (the release before kept them too: an old hash reads the same).
 */
const OPENING_TEXTS = ['event'] as const;

/** Reads of an alert a resolve makes at most while messages are noted on it concurrently (each a few ms apart). */
const MAX_RESOLVE_READS = 5;

/** An open alert: what the decision reads (AlertView), and what `alerts` shows. */
export interface OpenAlert extends AlertView {
  id: string;
  openedType: string;
  openedSummary: string;
  openedRun?: string;
  lastAt: number;
  /** Notifiers that were sent the alert: its resolve goes to these (the keys of `told`). */
  notifiers: string[];
}

/** What the dispatcher records when an event opens (or fails again) an alert: per notifier, the message on its way. */
export interface AlertNotes {
  /** Notifier -> delivery id of the message it is sent now (a page, an update). */
  told: Record<string, string>;
  /** Notifier -> delivery id of the group notification that will carry it. */
  pending: Record<string, string>;
}

export class AlertStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    /** The connection's scripts (the composition root makes one per connection). */
    private readonly scripts: Scripts = new Scripts(redis, keys),
  ) {}

  /** Opens the alert `key` (or notes another failure of it), noting the messages on their way. Safe to replay. */
  async open(key: string, event: WatchEvent, notes: AlertNotes, now: number): Promise<boolean> {
    const id = alertId(key);
    const opening = { key, event: JSON.stringify(event) };
    return this.scripts.openAlert({
      alertId: id,
      now,
      event: { id: event.id, opening: withTextParts(opening, OPENING_TEXTS) },
      maxAlerts: MAX_OPEN_ALERTS,
      fields: [...Object.entries(notes.told).map(([n, id]) => [`n:${n}`, id]), ...Object.entries(notes.pending).map(([n, id]) => [`g:${n}`, id])].flat(),
    });
  }

  /**
   * `notifier` is being sent a message of this alert (a group's notification, a repeat): noted as its latest, so
   * that a resolve waits for it. False when the alert is no longer open: then the message must not go.
   */
  async noteMessage(key: string, notifier: string, deliveryId: string): Promise<boolean> {
    const [open] = await this.noteMessages(notifier, [{ key, deliveryId }]);
    return open!;
  }

  /**
   * noteMessage for several alerts in one call (a group's notification), in order; a note whose `deliveryId` is ''
   * drops the alert's pending note only (the group will not carry it: silenced meanwhile). Per note, whether open.
   */
  async noteMessages(notifier: string, notes: { key: string; deliveryId: string }[]): Promise<boolean[]> {
    if (notes.length === 0) return [];
    return this.scripts.notifyAlerts({ notifier, notes: notes.map(({ key, deliveryId }) => ({ alertId: alertId(key), deliveryId })) });
  }

  async isOpen(key: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.alert(alertId(key)))) === 1;
  }

  /** Several alerts by key in one round trip (the dispatcher's read of the state it decides on). */
  async views(keys: string[]): Promise<Map<string, OpenAlert>> {
    const found = new Map<string, OpenAlert>();
    if (keys.length === 0) return found;
    const p = this.redis.pipeline();
    for (const key of keys) p.hgetall(this.keys.alert(alertId(key)));
    const rows = (await p.exec()) ?? [];
    rows.forEach(([, row], i) => {
      const alert = decodeAlert(alertId(keys[i]!), (row ?? {}) as Record<string, string>);
      if (alert) found.set(keys[i]!, alert);
    });
    return found;
  }

  /**
   * A silence or an inhibition kept this open alert from `notifier`, never told of it: looked at again at `at`
   * (unmuted.ts), and told once nothing mutes it.
   */
  async watchMuted(key: string, notifier: string, at: number): Promise<void> {
    await this.redis.zadd(this.keys.alertsMuted, 'NX', at, alertNotifierMember(alertId(key), notifier));
  }

  /**
   * The alert, paged to `notifier` on its own by the release before incident groups, is carried into the group
   * `marker` names (carry-over.ts), or into none: its note says so (its repeats to that pager end: endRepeats).
   */
  async carried(key: string, notifier: string, marker: string | undefined): Promise<void> {
    const id = alertId(key);
    const note = this.redis.multi();
    if (marker) note.hset(this.keys.alert(id), `n:${notifier}`, marker);
    else note.hdel(this.keys.alert(id), `n:${notifier}`);
    await note.exec();
  }

  /** The alert's own repeats to `notifier` end (a pager's are its incident group's). */
  async endRepeats(key: string, notifier: string): Promise<void> {
    const id = alertId(key);
    await this.redis.multi().hdel(this.keys.alert(id), `r:${notifier}`).zrem(this.keys.alertRepeats, alertNotifierMember(id, notifier)).exec();
  }

  /** Repeats `notifier` every `everyMs` while the alert stays open. */
  async scheduleRepeat(key: string, notifier: string, everyMs: number, now: number): Promise<void> {
    const id = alertId(key);
    await this.redis
      .multi()
      .hset(this.keys.alert(id), `r:${notifier}`, everyMs)
      .zadd(this.keys.alertRepeats, 'NX', now + everyMs, alertNotifierMember(id, notifier))
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
  async resolve(key: string, by: WatchEvent, now: number, o: { onlyOpenedBy?: string; byHuman?: string } = {}): Promise<WatchEvent | undefined> {
    return this.resolveAsRead(key, () => by, now, o);
  }

  /**
   * A person (or an untrack) closes an alert whose cause has not recovered: its resolve says `who`, so nothing pages
   * again for this failure; the next failure opens a new alert. `idSuffix` names the closing in the resolving event's id.
   */
  async resolveByHand(key: string, who: string, now: number, idSuffix: string): Promise<WatchEvent | undefined> {
    const byOf = (alert: OpenAlert): WatchEvent => ({
      ...alert.event,
      id: `${alert.openedBy}-${idSuffix}`,
      time: new Date(now).toISOString(),
      detectedAt: now,
    });
    return this.resolveAsRead(key, byOf, now, { byHuman: who });
  }

  /** The resolve, `byOf` naming what resolves the alert as read. */
  private async resolveAsRead(
    key: string,
    byOf: (alert: OpenAlert) => WatchEvent,
    now: number,
    o: { onlyOpenedBy?: string; byHuman?: string },
  ): Promise<WatchEvent | undefined> {
    // A message noted between the read and the script (a group flushed, a repeat sent meanwhile) must be in the
    // resolve, which then waits for it: the script refuses an event built from older notes, and it is built again.
    for (let read = 1; read <= MAX_RESOLVE_READS; read++) {
      const alert = await this.get(key);
      if (!alert || (o.onlyOpenedBy && alert.openedType !== o.onlyOpenedBy)) return undefined;
      const by = byOf(alert);
      const resolved = alertResolvedEvent(key, alert, by, now, { resolvedRun: runOf(by), byHuman: o.byHuman });
      const done = await this.scripts.resolveAlert({ alertId: alert.id, openedBy: alert.openedBy, eventJson: JSON.stringify(resolved), told: alert.told });
      if (done !== 'changed') return done === 'resolved' ? resolved : undefined;
    }
    throw new ContentionError(`alert ${key}: its messages kept changing while it was resolved (${MAX_RESOLVE_READS} reads); tried again later`);
  }

  /**
   * Acknowledges an open alert: repeats stop (decideRepeat), it stays open until its step recovers, and the
   * resolve says who acknowledged. The first acknowledgement stands; a replay (a webhook delivered twice) is 'already'.
   */
  async ack(id: string, by: string, now: number, comment?: string): Promise<'acked' | 'already' | 'not-open'> {
    return this.scripts.ackAlert({ alertId: id, by, at: now, comment });
  }

  /** Takes an acknowledgement back (PagerDuty's incident.unacknowledged): repeats resume. */
  async unack(id: string): Promise<void> {
    await this.redis.hdel(this.keys.alert(id), 'ackedBy', 'ackedAt', 'ackComment');
  }

  /** The open alert named by its id or its key (what `alerts ack` and the API take). */
  async find(idOrKey: string): Promise<OpenAlert | undefined> {
    return (await this.byId(idOrKey)) ?? (await this.get(idOrKey));
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

/** An alert and a notifier in the repeats and muted-alerts schedules (resolveAlert-4.lua builds it the same way). */
export function alertNotifierMember(alertId: string, notifier: string): string {
  return `${alertId}|${notifier}`;
}

/** The hash fields `<prefix><notifier>` as notifier -> value. */
function byNotifier(h: Record<string, string>, prefix: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(h)
      .filter(([f]) => f.startsWith(prefix))
      .map(([f, v]) => [f.slice(prefix.length), v]),
  );
}

function decodeAlert(id: string, h: Record<string, string>): OpenAlert | undefined {
  if (!h.key || !h.openedBy) return undefined;
  const told = byNotifier(h, 'n:');
  const repeats = Object.fromEntries(Object.entries(byNotifier(h, 'r:')).map(([n, v]) => [n, Number(v)]));
  const event = JSON.parse(joinedText(h, 'event') ?? '{}') as WatchEvent;
  const openedRun = runOf(event);
  return {
    told,
    pending: byNotifier(h, 'g:'),
    ...(h.lastBy ? { lastBy: h.lastBy } : {}),
    ...(h.ackedBy ? { acked: { by: h.ackedBy, at: Number(h.ackedAt ?? 0), ...(h.ackComment ? { comment: h.ackComment } : {}) } } : {}),
    id,
    key: h.key,
    openedAt: Number(h.openedAt),
    openedBy: h.openedBy,
    openedType: event.type ?? '',
    openedSummary: event.type ? summarize(event) : '',
    ...(openedRun ? { openedRun } : {}),
    lastAt: Number(h.lastAt ?? h.openedAt),
    failures: Number(h.failures ?? 1),
    notifiers: Object.keys(told).sort(),
    repeats,
    event,
  };
}
