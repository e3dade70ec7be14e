// Where a notifier that edits one message per pipeline run keeps that message's id and the steps it shows: in Redis,
// so a restarted or second daemon edits the same message.
import type { Redis } from 'ioredis';
import type { Keys } from '../store/keys';

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
}

/** A claim not followed by a post within this long (its poster died) may be taken over. */
const CLAIM_TIMEOUT_MS = 30_000;
/** A live message's records outlive its last update by a week. */
const KEEP_SECONDS = 7 * 86_400;

export class RedisLiveMessages implements LiveMessageStore {
  constructor(
    private readonly redis: () => Redis,
    private readonly keys: Keys,
    private readonly notifier: string,
  ) {}

  private key(run: string): string {
    return `${this.keys.tag}:live:${this.notifier}:${run}`;
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
      const taken = await r.eval(
        "if redis.call('HGET', KEYS[1], 'claim') == ARGV[1] and not redis.call('HGET', KEYS[1], 'ts') then redis.call('HSET', KEYS[1], 'claim', ARGV[2]) return 1 end return 0",
        1,
        key,
        claim ?? '',
        now,
      );
      if (taken === 1) return { post: true };
    }
    return { wait: true };
  }

  async posted(run: string, ts: string, channel: string): Promise<void> {
    await this.redis().hset(this.key(run), 'ts', ts, 'channel', channel);
  }

  async putRow(run: string, rowId: string, row: string, rank: number): Promise<string[]> {
    const rows = `${this.key(run)}:rows`;
    return (await this.redis().eval(
      `local ranks = KEYS[1] .. ':rank'
      if tonumber(redis.call('HGET', ranks, ARGV[1]) or '-1') <= tonumber(ARGV[3]) then
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        redis.call('HSET', ranks, ARGV[1], ARGV[3])
      end
      redis.call('EXPIRE', KEYS[1], ARGV[4])
      redis.call('EXPIRE', ranks, ARGV[4])
      return redis.call('HVALS', KEYS[1])`,
      1,
      rows,
      rowId,
      row,
      rank,
      KEEP_SECONDS,
    )) as string[];
  }
}
