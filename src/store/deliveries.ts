// Delivery records: one per (event, notifier). The record is the durable "delivered" marker and the dead-letter list.
import type { WatchEvent } from './events';
import type { Keys } from './keys';
import type { Redis } from 'ioredis';
import { Scripts } from './scripts';
import { joinedText, textParts, withTextParts } from './text-parts';

/**
 * `silenced`, `inhibited` and `suppressed` were decided not to be sent (decide.ts), `reason` says why; `incident`: a
 * pager's alert carried by its incident group, whose flushes are what the pager is sent (alerts/incident.ts).
 */
export type DeliveryStatus = 'pending' | 'retrying' | 'delivered' | 'failed' | 'silenced' | 'inhibited' | 'suppressed' | 'incident';

/** Statuses no job may send any more. */
export const FINAL_UNSENT: readonly DeliveryStatus[] = ['silenced', 'inhibited', 'suppressed', 'incident'];

export interface DeliveryRecord {
  id: string;
  eventId: string;
  notifier: string;
  eventType: string;
  summary: string;
  status: DeliveryStatus;
  attempts: number;
  createdAt: number;
  updatedAt: number;
  lastError?: string;
  detail?: string;
  /** How many times it was sent again from the dead-letter list, and who sent it again last. */
  retries: number;
  retriedBy?: string;
  /** Held by a quiet period until this time (ms). */
  heldUntil?: number;
  /** Not sent: these silences matched it. */
  silencedBy?: string;
  /** Why it was not sent, held, or sent as an update (the alert decision's words). */
  reason?: string;
}

/**
 * A job's claim on a delivery outlives a crash of its worker by this long: BullMQ gives the job back after its lock
 * (workers.lockDurationMs) and the re-run takes its own claim at once; another job waits for the lease to pass.
 */
const CLAIM_LEASE_MS = 5 * 60_000;

/**
 * Deliveries listed by `deliveries` and the API: this many at most; a record past them is forgotten a day after it
 * became final (sent or decided unsent), long enough for any replay or retry that could still look at it.
 */
const KEEP = { recent: 10000, finalMs: 86_400_000 };

/** A record's texts that may be long, kept in parts so that the record stays a compact hash (text-parts.ts). */
const TEXTS = ['summary', 'reason', 'silencedBy'] as const;

export class DeliveryStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly scripts: Scripts = new Scripts(redis, keys),
  ) {}

  /** Creates the records that do not exist yet, in one round trip (dispatch may run twice for one event). */
  async ensureMany(
    records: (Pick<DeliveryRecord, 'id' | 'eventId' | 'notifier' | 'eventType' | 'summary' | 'heldUntil' | 'silencedBy' | 'reason'> & {
      /** Decided not to be sent: recorded so at once, shown by `deliveries`, never sent. */
      status?: 'silenced' | 'inhibited' | 'suppressed' | 'incident';
    })[],
    now: number,
  ): Promise<void> {
    if (records.length === 0) return;
    const withFields = records.map((r) => ({
      id: r.id,
      fields: withTextParts(
        {
          eventId: r.eventId,
          notifier: r.notifier,
          eventType: r.eventType,
          summary: r.summary,
          ...(r.heldUntil ? { heldUntil: r.heldUntil } : {}),
          ...(r.status ? { status: r.status } : {}),
          ...(r.silencedBy ? { silencedBy: r.silencedBy } : {}),
          ...(r.reason ? { reason: r.reason } : {}),
        },
        TEXTS,
      ),
    }));
    await this.scripts.ensureDeliveries(withFields, now, KEEP);
  }

  async status(id: string): Promise<DeliveryStatus | undefined> {
    return ((await this.redis.hget(this.keys.delivery(id), 'status')) as DeliveryStatus | null) ?? undefined;
  }

  /** Claims the deliveries `token` (a job) may send now: not delivered, not held by another live job. */
  async claim(ids: string[], token: string, now: number, leaseMs = CLAIM_LEASE_MS): Promise<string[]> {
    return this.scripts.claimDeliveries({ ids, token, now, leaseMs });
  }

  /**
   * A group's try noted its alerts as carried by it and is about to send: a later try (its worker died) knows the
   * receiver may have been told. A try that died before this sent nothing, and its alerts' resolves do not wait for it.
   */
  async markSending(id: string): Promise<void> {
    await this.redis.hset(this.keys.delivery(id), 'sending', 1);
  }

  /** Whether an earlier try got as far as markSending. */
  async wasSending(id: string): Promise<boolean> {
    return (await this.redis.hexists(this.keys.delivery(id), 'sending')) === 1;
  }

  /** Written right after a successful send: the window in which a crash causes a repeat stays tiny. */
  async markDelivered(id: string, attempt: number, now: number, detail?: string): Promise<void> {
    await this.markManyDelivered([{ id, detail }], attempt, now);
  }

  /** Marks deliveries delivered (and no longer claimed) in one script call. */
  async markManyDelivered(items: { id: string; detail?: string }[], attempt: number, now: number): Promise<void> {
    await this.scripts.markDelivered(items, attempt, now);
  }

  /** Decided at send time not to go (the alert closed meanwhile, a silence now covers a group): final, with why. */
  async markUnsent(id: string, status: 'silenced' | 'suppressed', reason: string, now: number): Promise<void> {
    const text = textParts('reason', reason);
    await this.redis
      .multi()
      .hset(this.keys.delivery(id), 'status', status, 'updatedAt', now, ...text.items)
      .hdel(this.keys.delivery(id), 'claim', 'claimUntil', text.end)
      .zadd(this.keys.deliveries, now, id)
      .exec();
  }

  /** A failed try; the last one dead-letters the delivery and keeps its event, so it can be sent again later. */
  async markFailedAttempt(id: string, attempt: number, now: number, error: string, final: { event: WatchEvent } | false): Promise<void> {
    const text = textParts('lastError', error);
    const m = this.redis
      .multi()
      .hset(this.keys.delivery(id), 'status', final ? 'failed' : 'retrying', 'attempts', attempt, 'updatedAt', now, ...text.items)
      .hdel(this.keys.delivery(id), 'claim', 'claimUntil', text.end)
      .zadd(this.keys.deliveries, now, id);
    if (final) {
      const event = textParts('event', JSON.stringify(final.event));
      m.hset(this.keys.delivery(id), ...event.items)
        .hdel(this.keys.delivery(id), event.end)
        .zadd(this.keys.deadLetters, now, id);
    }
    await m.exec();
  }

  /** The event kept with a dead letter. */
  async deadEvent(id: string): Promise<WatchEvent | undefined> {
    const json = joinedText(await this.redis.hgetall(this.keys.delivery(id)), 'event');
    return json ? (JSON.parse(json) as WatchEvent) : undefined;
  }

  async deadLetterIds(limit = 10000): Promise<string[]> {
    return this.redis.zrevrange(this.keys.deadLetters, 0, limit - 1);
  }

  /** Back to pending for a retry from the dead-letter list (by `by`); returns the retry number. */
  async reopen(id: string, now: number, by?: string): Promise<number> {
    const [[, retries]] = (await this.redis
      .multi()
      .hincrby(this.keys.delivery(id), 'retries', 1)
      .hset(this.keys.delivery(id), { status: 'pending', updatedAt: now, ...(by ? { retriedBy: by } : {}) })
      .zrem(this.keys.deadLetters, id)
      .exec()) as [[Error | null, number]];
    return retries;
  }

  async get(id: string): Promise<DeliveryRecord | undefined> {
    const h = await this.redis.hgetall(this.keys.delivery(id));
    return h.id ? toRecord(h) : undefined;
  }

  /** Most recent first. */
  async list(o: { failedOnly?: boolean; limit?: number } = {}): Promise<DeliveryRecord[]> {
    const ids = await this.redis.zrevrange(o.failedOnly ? this.keys.deadLetters : this.keys.deliveries, 0, (o.limit ?? 100) - 1);
    if (ids.length === 0) return [];
    const p = this.redis.pipeline();
    for (const id of ids) p.hgetall(this.keys.delivery(id));
    const rows = (await p.exec()) ?? [];
    return rows
      .map(([, h]) => h as Record<string, string>)
      .filter((h) => h.id)
      .map(toRecord);
  }
}

function toRecord(h: Record<string, string>): DeliveryRecord {
  return {
    id: h.id!,
    eventId: h.eventId!,
    notifier: h.notifier!,
    eventType: h.eventType!,
    summary: joinedText(h, 'summary') ?? '',
    status: h.status as DeliveryStatus,
    attempts: Number(h.attempts ?? 0),
    createdAt: Number(h.createdAt ?? 0),
    updatedAt: Number(h.updatedAt ?? 0),
    lastError: joinedText(h, 'lastError'),
    detail: joinedText(h, 'detail'),
    retries: Number(h.retries ?? 0),
    ...(h.retriedBy ? { retriedBy: h.retriedBy } : {}),
    ...(h.heldUntil ? { heldUntil: Number(h.heldUntil) } : {}),
    ...(h.silencedBy ? { silencedBy: joinedText(h, 'silencedBy') } : {}),
    ...(h.reason ? { reason: joinedText(h, 'reason') } : {}),
  };
}
