// The wrappers of the alerts' scripts: open, resolve, notify and acknowledge an alert; notification groups and incidents.
import type { IncidentJoinArgs } from './script-args';
import { OutboxScripts } from './outbox-scripts';

export abstract class AlertScripts extends OutboxScripts {
  /** Opens an alert or counts one more failure of it; true when it opened. */
  async openAlert(a: {
    alertId: string;
    now: number;
    /** The event that opens it (or fails again): its id, and what the alert keeps of it when it opens. */
    event: { id: string; opening: Record<string, string> };
    maxAlerts: number;
    /** Field, value pairs: `n:<notifier>` / `g:<notifier>` -> delivery id. */
    fields: string[];
  }): Promise<boolean> {
    const k = this.keys;
    const opening = Object.entries(a.event.opening).flat();
    const argv = [a.alertId, a.now, a.event.id, a.maxAlerts, opening.length, ...opening, ...a.fields];
    return (await this.call<number>('openAlert', [k.alert(a.alertId), k.alerts], argv)) === 1;
  }

  /**
   * Resolves an alert still opened by `openedBy` whose messages are still `told` (notifier -> delivery id), appending
   * its alert.resolved event: 'changed' when a message was noted since the read (read again, build the event anew).
   */
  async resolveAlert(a: { alertId: string; openedBy: string; eventJson: string; told: Record<string, string> }): Promise<'resolved' | 'gone' | 'changed'> {
    const k = this.keys;
    const keys = [k.alert(a.alertId), k.alerts, k.events, k.alertRepeats];
    const reply = await this.call<number>('resolveAlert', keys, [a.alertId, a.openedBy, a.eventJson, ...Object.entries(a.told).flat()]);
    return reply === 1 ? 'resolved' : reply === 2 ? 'changed' : 'gone';
  }

  /**
   * Notes the message `notifier` is sent now on each open alert (see notifyAlerts-1.lua; '' only drops its pending
   * group note), in one call; per note, false when the alert is not open.
   */
  async notifyAlerts(a: { notifier: string; notes: { alertId: string; deliveryId: string }[] }): Promise<boolean[]> {
    const argv = [this.keys.alert(''), a.notifier, ...a.notes.flatMap((n) => [n.alertId, n.deliveryId])];
    return (await this.call<number[]>('notifyAlerts', [this.keys.alerts], argv)).map((open) => open === 1);
  }

  /** Acknowledges an open alert (see ackAlert-1.lua): 'acked', 'already' (the first one stands) or 'not-open'. */
  async ackAlert(a: { alertId: string; by: string; at: number; comment?: string }): Promise<'acked' | 'already' | 'not-open'> {
    const r = await this.call<number>('ackAlert', [this.keys.alert(a.alertId)], [a.by, a.at, a.comment ?? '']);
    return r === 1 ? 'acked' : r === 2 ? 'already' : 'not-open';
  }

  /**
   * Adds an event to its notification group; returns the generation holding it and when it is sent. `own`: with the
   * group's own wait and interval (an alert's resolve joining the group that told it); generation 0 when it is gone.
   */
  async addToGroup(a: {
    groupId: string;
    now: number;
    timing: { waitMs: number; intervalMs: number } | 'own';
    eventId: string;
    eventJson: string;
    keepMs: number;
    /** When the wait starts (at most now): when the watcher saw the event. */
    since?: number;
  }): Promise<{ generation: number; flushAt: number }> {
    const [waitMs, intervalMs] = a.timing === 'own' ? [-1, 0] : [a.timing.waitMs, a.timing.intervalMs];
    const argv = [a.now, waitMs, intervalMs, a.eventId, a.eventJson, a.keepMs, a.since ?? a.now];
    const [generation, flushAt] = await this.call<[number, number]>('addToGroup', [this.keys.group(a.groupId)], argv);
    return { generation, flushAt };
  }

  /** Closes a group's generation and returns its events (the same again when retried). */
  async closeGroup(a: { groupId: string; generation: number; now: number }): Promise<string[]> {
    return this.call<string[]>('closeGroup', [this.keys.group(a.groupId)], [a.generation, a.now]);
  }

  /** A member joins an incident group (none: a touch); its next flush time, or undefined for a gone group (joinIncident-3.lua). */
  async joinIncident(a: IncidentJoinArgs): Promise<number | undefined> {
    const k = this.keys;
    const since = a.since ?? a.now;
    const argv = [a.groupId, a.now, a.member?.key ?? '', a.member?.openedBy ?? '', a.notBefore ?? 0, since, ...Object.entries(a.settings ?? {}).flat()];
    const due = await this.call<number>('joinIncident', [k.incident(a.groupId), k.incidentMembers(a.groupId), k.incidentsDue], argv);
    return due < 0 ? undefined : due;
  }

  /** After a flush: resolved alerts leave, the next flush is set, an empty and closed group goes (settleIncident-4.lua). */
  async settleIncident(a: { groupId: string; now: number; nextAt: number; logTtlSeconds: number; gone: [string, string][] }): Promise<number> {
    const k = this.keys;
    const keys = [k.incident(a.groupId), k.incidentMembers(a.groupId), k.incidentLog(a.groupId), k.incidentsDue];
    return this.call<number>('settleIncident', keys, [a.groupId, a.now, a.nextAt, a.logTtlSeconds, ...a.gone.flat()]);
  }
}
