// The audit log: every write through the API and the CLI — who, what, when, from where, and how it ended — in one
// Redis stream, bounded by age and length (`api.audit`). Read by GET /audit, `steprun-watch audit` and the dashboard.
import type { Redis } from 'ioredis';
import type { Keys } from '../../store/keys';
import type { Identity } from './roles';

export interface AuditEntry {
  /** Stream id: where a reader resumes. */
  id: string;
  at: number;
  /** Who: a user's name, a token's name, `api-token`, `cli:<user>`, `slack:<user>`. */
  actor: string;
  role: Identity['role'];
  via: Identity['via'];
  /** What: `POST /alerts/a1b2/ack`, `silence add`, `tokens create ci`. */
  action: string;
  /** From where: the client address, or `local` (the CLI). */
  from: string;
  /** The HTTP status, or `ok` / the error code (the CLI). */
  result: string;
}

export interface AuditRetention {
  days: number;
  maxEntries: number;
}

/** The retention the config asks for (`api.audit`). */
export function auditRetentionOf(audit: { retention: number; maxEntries: number }): AuditRetention {
  return { days: audit.retention / 86_400_000, maxEntries: audit.maxEntries };
}

export class AuditLog {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly retention: AuditRetention,
  ) {}

  /** Appends an entry; what is older than the retention, or past its length, goes (approximately: whole nodes). */
  async add(who: Identity, e: { action: string; from: string; result: string }, now: number): Promise<void> {
    const cutoff = now - this.retention.days * 86_400_000;
    const fields = ['actor', who.name, 'role', who.role, 'via', who.via, 'action', e.action, 'from', e.from, 'result', e.result];
    await this.redis
      .multi()
      .xadd(this.keys.audit, 'MAXLEN', '~', this.retention.maxEntries, '*', ...fields)
      .xtrim(this.keys.audit, 'MINID', '~', cutoff)
      .exec();
  }

  /** Entries since `since` (ms), newest first, at most `limit`. */
  async list(o: { since?: number; limit: number }): Promise<AuditEntry[]> {
    const entries = await this.redis.xrevrange(this.keys.audit, '+', o.since !== undefined ? String(o.since) : '-', 'COUNT', o.limit);
    return entries.map(([id, f]) => entryOf(id, f));
  }
}

function entryOf(id: string, flat: string[]): AuditEntry {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i]!] = flat[i + 1]!;
  return {
    id,
    at: Number(id.split('-')[0]),
    actor: f.actor ?? '',
    role: (f.role ?? 'viewer') as Identity['role'],
    via: (f.via ?? 'open') as Identity['via'],
    action: f.action ?? '',
    from: f.from ?? '',
    result: f.result ?? '',
  };
}
