// Where a notifier that edits one message per pipeline run keeps that message's id and the steps it shows: in Redis,
// so a restarted or second daemon edits the same message.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { DeliveryError } from '../../model/errors';
import type { Keys } from '../../store/keys';
import { Scripts } from '../../store/scripts';

/** One live message: who posts it, its id once posted, and the rows it shows. */
export interface LiveMessageStore {
  /**
   * Claims the right to post the message of `run`: `{ post: true }` for the one caller that must post it;
   * `{ ts, channel }` once it exists; `{ wait: true }` while another caller is posting it.
   */
  claim(run: string, now: number): Promise<{ post: true } | { ts: string; channel: string } | { wait: true }>;
  posted(run: string, ts: string, channel: string): Promise<void>;
  /** Sets one row (a step) unless a higher-ranked one is stored (a late event never undoes a newer one); returns every row. */
  putRow(run: string, rowId: string, row: string, rank: number): Promise<string[]>;
  rows(run: string): Promise<string[]>;
  /**
   * Runs `edit` holding the run's edit lock: edits of one message never overlap, and each reads the rows after the
   * previous edit went out — so the last edit shows the latest rows (rows read before waiting could be older).
   */
  whileEditing<T>(run: string, edit: () => Promise<T>): Promise<T>;
}

/** A claim not followed by a post within this long (its poster died) may be taken over. */
const CLAIM_TIMEOUT_MS = 30_000;
/** An edit holds the lock at most this long (a Slack call's timeout is well within it); a dead holder's lapses. */
const EDIT_LEASE_MS = 15_000;
/** A live message's records outlive its last update by a week. */
const KEEP_SECONDS = 7 * 86_400;

export class RedisLiveMessages implements LiveMessageStore {
  constructor(
    private readonly redis: () => Redis,
    private readonly keys: Keys,
    private readonly notifier: string,
  ) {}

  private key(run: string): string {
    return this.keys.liveMessage(this.notifier, run);
  }

  async claim(run: string, now: number): Promise<{ post: true } | { ts: string; channel: string } | { wait: true }> {
    const key = this.key(run);
    const r = this.redis();
    const claimed = await r.hsetnx(key, 'claim', now);
    if (claimed === 1) {
      await r.expire(key, KEEP_SECONDS);
      return { post: true };
    }
    const [ts, channel, claim] = await r.hmget(key, 'ts', 'channel', 'claim');
    if (ts && channel) return { ts, channel };
    // The poster died between claiming and posting: take over, once (the claim time is compared and set).
    if (now - Number(claim ?? 0) > CLAIM_TIMEOUT_MS) {
      const taken = await new Scripts(r, this.keys).claimLiveMessage({ notifier: this.notifier, run, claimRead: claim ?? '', now });
      if (taken) return { post: true };
    }
    return { wait: true };
  }

  async posted(run: string, ts: string, channel: string): Promise<void> {
    await this.redis().hset(this.key(run), 'ts', ts, 'channel', channel);
  }

  async rows(run: string): Promise<string[]> {
    return this.redis().hvals(`${this.key(run)}:rows`);
  }

  async whileEditing<T>(run: string, edit: () => Promise<T>): Promise<T> {
    const lock = `${this.key(run)}:edit`;
    const token = randomBytes(8).toString('hex');
    const r = this.redis();
    const deadline = Date.now() + EDIT_LEASE_MS;
    while ((await r.set(lock, token, 'PX', EDIT_LEASE_MS, 'NX')) !== 'OK') {
      if (Date.now() > deadline) throw new DeliveryError('slack: another delivery is editing this pipeline run’s message', { retryable: true });
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    try {
      return await edit();
    } finally {
      await new Scripts(r, this.keys).releaseLock({ key: lock, token });
    }
  }

  async putRow(run: string, rowId: string, row: string, rank: number): Promise<string[]> {
    return new Scripts(this.redis(), this.keys).putLiveRow({ notifier: this.notifier, run, rowId, text: row, rank, keepSeconds: KEEP_SECONDS });
  }
}
