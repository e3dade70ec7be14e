// What the alert rig's receivers hold, read as people read them: each message in order (a grouped notification's
// other events each as one), and what the PagerDuty receiver holds open, as PagerDuty would.
import type { EventType, WatchEvent } from '../../src/store/events';
import type { WebhookReceiver } from './webhook-receiver';

export interface Message {
  notifier: string;
  /** trigger / resolve (PagerDuty); page / update / resolve (CloudEvents: a failure, a "still failing", a resolve). */
  kind: 'trigger' | 'resolve' | 'page' | 'update' | 'other';
  key: string;
  deliveryId: string;
  at: number;
  repeat?: number;
  /** One of a grouped notification's other events (the message's lead is the one without). */
  part?: true;
}

const FAILURES: EventType[] = ['steprun.failed', 'pipelinerun.failed', 'steprun.stuck', 'track.error', 'experiment.missing'];

/** Every message the receivers accepted, in order, one per delivery id (receivers drop a retried delivery id). */
export function messagesOf(pd: WebhookReceiver, ce: WebhookReceiver): Message[] {
  const seen = new Set<string>();
  const out: Message[] = [];
  const add = (m: Message) => {
    if (seen.has(`${m.notifier}|${m.deliveryId}`)) return;
    seen.add(`${m.notifier}|${m.deliveryId}`);
    out.push(m);
  };
  for (const r of pd.received.filter((x) => x.status < 300)) {
    const body = r.json as { event_action: string; dedup_key: string };
    const deliveryId = String(r.headers['idempotency-key'] ?? r.headers['webhook-id'] ?? `${r.at}`);
    add({
      notifier: 'pd',
      kind: body.event_action === 'resolve' ? 'resolve' : body.event_action === 'trigger' ? 'trigger' : 'other',
      key: body.dedup_key.replace(/^steprun-watch\//, ''),
      deliveryId,
      at: r.at,
    });
  }
  for (const r of ce.received.filter((x) => x.status < 300)) {
    const { data } = r.json as { data: WatchEvent };
    const kind = data.type === 'alert.resolved' ? 'resolve' : data.stillFailing ? 'update' : FAILURES.includes(data.type) ? 'page' : 'other';
    const deliveryId = String(r.headers['webhook-id'] ?? r.headers['idempotency-key'] ?? `${r.at}`);
    add({ notifier: 'ce', kind, key: data.alertKey ?? data.alert?.key ?? '', deliveryId, at: r.at, ...(data.repeat ? { repeat: data.repeat } : {}) });
    // A grouped notification tells each of its other events too: one message per event, as the receiver reads them.
    (data.grouped ?? []).forEach((g, i) => {
      const gKind = g.type === 'alert.resolved' ? 'resolve' : FAILURES.includes(g.type) ? (data.stillFailing ? 'update' : 'page') : 'other';
      add({
        notifier: 'ce',
        kind: gKind,
        key: g.alertKey ?? '',
        deliveryId: `${deliveryId}#${i}`,
        at: r.at,
        part: true,
        ...(data.repeat ? { repeat: data.repeat } : {}),
      });
    });
  }
  return out.sort((a, b) => a.at - b.at);
}

/**
 * What the PagerDuty receiver holds now, as PagerDuty would: per dedup key, open (`trigger`), acknowledged
 * (`acknowledge`), or closed (`resolve`, dropped); and how many triggers each key got.
 */
export function pagerHoldsOf(pd: WebhookReceiver): {
  open: Map<string, 'triggered' | 'acknowledged'>;
  triggers: Map<string, number>;
  bodies: Record<string, unknown>[];
} {
  const open = new Map<string, 'triggered' | 'acknowledged'>();
  const triggers = new Map<string, number>();
  const seen = new Set<string>();
  const bodies: Record<string, unknown>[] = [];
  for (const r of pd.received.filter((x) => x.status < 300)) {
    const id = String(r.headers['idempotency-key'] ?? r.headers['webhook-id'] ?? '');
    if (id && seen.has(id)) continue; // PagerDuty takes a retried event once
    seen.add(id);
    const body = r.json as { event_action: string; dedup_key: string };
    bodies.push(body as unknown as Record<string, unknown>);
    if (body.event_action === 'trigger') {
      triggers.set(body.dedup_key, (triggers.get(body.dedup_key) ?? 0) + 1);
      open.set(body.dedup_key, 'triggered');
    } else if (body.event_action === 'acknowledge') {
      if (open.has(body.dedup_key)) open.set(body.dedup_key, 'acknowledged');
    } else if (body.event_action === 'resolve') open.delete(body.dedup_key);
  }
  return { open, triggers, bodies };
}
