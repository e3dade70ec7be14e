// The delivery side's Lua commands (delivery records, chat groups, locks, the live Slack message, the outbox's
// trim), each run directly against the real Redis through its typed method.
import { T, scriptRig } from '../../support/script-rig';

const { redis, keys, scripts, prefix } = scriptRig('scripts-delivery');
/** Recent deliveries kept; a final record past them is forgotten a day after its last change (not reached here). */
const keep = (recent: number) => ({ recent, finalMs: 86_400_000 });

describe('ensureDeliveries', () => {
  it('creates each record once, pending unless told, and indexes it among recent ones (bounded)', async () => {
    await scripts.ensureDeliveries([{ id: 'd1', fields: { notifier: 'hook' } }], T, keep(2));
    await redis.hset(keys.delivery('d1'), 'status', 'delivered');
    await scripts.ensureDeliveries(
      [
        { id: 'd1', fields: { notifier: 'hook' } },
        { id: 'd2', fields: { notifier: 'mail', status: 'silenced', silencedBy: 's1' } },
        { id: 'd3', fields: { notifier: 'mail' } },
      ],
      T + 1,
      keep(2),
    );
    expect(await redis.hmget(keys.delivery('d1'), 'id', 'status', 'attempts')).toEqual(['d1', 'delivered', '0']);
    expect(await redis.hmget(keys.delivery('d2'), 'status', 'silencedBy')).toEqual(['silenced', 's1']);
    expect(await redis.zrange(keys.deliveries, 0, -1)).toEqual(['d2', 'd3']);
    expect(await scripts.ensureDeliveries([{ id: 'd3', fields: { notifier: 'mail' } }], T + 2, keep(2))).toBe(0);
  });
});

describe('markDelivered', () => {
  it('marks a batch delivered: no claim, no error, no dead letter left; the detail only where given', async () => {
    await scripts.ensureDeliveries(
      [
        { id: 'm1', fields: { notifier: 'hook' } },
        { id: 'm2', fields: { notifier: 'hook' } },
      ],
      T,
      keep(10),
    );
    await redis.hset(keys.delivery('m1'), { claim: 'job-1', claimUntil: T + 60_000, lastError: 'HTTP 503' });
    await redis.zadd(keys.deadLetters, T, 'm2');
    await scripts.markDelivered([{ id: 'm1', detail: 'HTTP 204' }, { id: 'm2' }], 2, T + 5);
    expect(await redis.hgetall(keys.delivery('m1'))).toMatchObject({ status: 'delivered', attempts: '2', updatedAt: String(T + 5), detail: 'HTTP 204' });
    expect(await redis.hmget(keys.delivery('m1'), 'claim', 'claimUntil', 'lastError')).toEqual([null, null, null]);
    expect(await redis.hget(keys.delivery('m2'), 'detail')).toBeNull();
    expect(await redis.zrange(keys.deadLetters, 0, -1)).toEqual([]);
    expect(await redis.zscore(keys.deliveries, 'm2')).toBe(String(T + 5));
  });
});

describe('claimDeliveries', () => {
  it('claims what is neither delivered nor held by another live job; the holder takes it again; a lapsed claim is free', async () => {
    await scripts.ensureDeliveries(
      [
        { id: 'c1', fields: {} },
        { id: 'c2', fields: {} },
        { id: 'c3', fields: {} },
      ],
      T,
      keep(10),
    );
    await redis.hset(keys.delivery('c3'), 'status', 'delivered');
    const claim = (token: string, now = T) => scripts.claimDeliveries({ ids: ['c1', 'c2', 'c3'], token, now, leaseMs: 1000 });
    expect(await claim('job-a')).toEqual(['c1', 'c2']);
    expect(await claim('job-b')).toEqual([]);
    expect(await claim('job-a')).toEqual(['c1', 'c2']);
    expect(await claim('job-b', T + 1001)).toEqual(['c1', 'c2']);
  });
});

describe('releaseLock', () => {
  it('releases a lock its holder still holds, and not one another caller took since', async () => {
    await redis.set(`${prefix}:lock`, 'me', 'PX', 10_000);
    expect(await scripts.releaseLock({ key: `${prefix}:lock`, token: 'you' })).toBe(false);
    expect(await redis.get(`${prefix}:lock`)).toBe('me');
    expect(await scripts.releaseLock({ key: `${prefix}:lock`, token: 'me' })).toBe(true);
    expect(await redis.exists(`${prefix}:lock`)).toBe(0);
  });
});

describe('addToGroup', () => {
  it('events within the wait share a generation; once sent, the next waits for the interval; joining is idempotent', async () => {
    const add = (eventId: string, now: number) =>
      scripts.addToGroup({
        groupId: 'g1',
        now,
        timing: { waitMs: 30_000, intervalMs: 300_000 },
        eventId,
        eventJson: `{"id":"${eventId}"}`,
        keepMs: 86_400_000,
      });
    expect(await add('e1', T)).toEqual({ generation: 1, flushAt: T + 30_000 });
    expect(await add('e2', T + 5000)).toEqual({ generation: 1, flushAt: T + 30_000 });
    expect(await add('e2', T + 6000)).toEqual({ generation: 1, flushAt: T + 30_000 });
    await scripts.closeGroup({ groupId: 'g1', generation: 1, now: T + 30_000 });
    // Alertmanager's group_interval: the next notification of this group no sooner than 5 min after the last.
    expect(await add('e3', T + 40_000)).toEqual({ generation: 2, flushAt: T + 30_000 + 300_000 });
  });

  it("a resolve joins with the group's own wait and interval, and finds nothing once the group is gone", async () => {
    const add = (eventId: string, now: number, timing: { waitMs: number; intervalMs: number } | 'own') =>
      scripts.addToGroup({ groupId: 'g2', now, timing, eventId, eventJson: `{"id":"${eventId}"}`, keepMs: 86_400_000 });
    expect(await add('r0', T, 'own')).toEqual({ generation: 0, flushAt: 0 });
    expect(await redis.exists(keys.group('g2'))).toBe(0);
    expect(await add('e1', T, { waitMs: 30_000, intervalMs: 300_000 })).toEqual({ generation: 1, flushAt: T + 30_000 });
    await scripts.closeGroup({ groupId: 'g2', generation: 1, now: T + 30_000 });
    expect(await add('r1', T + 40_000, 'own')).toEqual({ generation: 2, flushAt: T + 30_000 + 300_000 });
    expect(await add('r2', T + 50_000, 'own')).toEqual({ generation: 2, flushAt: T + 30_000 + 300_000 });
  });
});

describe('closeGroup', () => {
  it("returns the generation's events in arrival order, the same again when retried", async () => {
    for (const id of ['e1', 'e2'])
      await scripts.addToGroup({ groupId: 'g1', now: T, timing: { waitMs: 1000, intervalMs: 1000 }, eventId: id, eventJson: `{"id":"${id}"}`, keepMs: 60_000 });
    const close = { groupId: 'g1', generation: 1, now: T + 1000 };
    expect(await scripts.closeGroup(close)).toEqual(['{"id":"e1"}', '{"id":"e2"}']);
    expect(await scripts.closeGroup({ ...close, now: T + 2000 })).toEqual(['{"id":"e1"}', '{"id":"e2"}']);
    expect(await redis.hmget(keys.group('g1'), 'closed', 'flushedAt')).toEqual(['1', String(T + 1000)]);
  });
});

describe('claimLiveMessage', () => {
  it('takes over a stale claim once, and never a message that was posted', async () => {
    const message = keys.liveMessage('slack', 'r1');
    await redis.hset(message, 'claim', String(T));
    const takeOver = { notifier: 'slack', run: 'r1', claimRead: String(T), now: T + 60_000 };
    expect(await scripts.claimLiveMessage(takeOver)).toBe(true);
    expect(await scripts.claimLiveMessage(takeOver)).toBe(false);
    await redis.hset(message, 'claim', String(T), 'ts', '123.456');
    expect(await scripts.claimLiveMessage(takeOver)).toBe(false);
  });
});

describe('putLiveRow', () => {
  it('keeps the highest-ranked text of each row (a late event never undoes a newer one) and returns every row', async () => {
    const put = (rowId: string, text: string, rank: number) => scripts.putLiveRow({ notifier: 'slack', run: 'r1', rowId, text, rank, keepSeconds: 60 });
    expect(await put('train', 'train Running', 1)).toEqual(['train Running']);
    expect(await put('train', 'train Failed', 3)).toEqual(['train Failed']);
    expect(await put('train', 'train Running', 1)).toEqual(['train Failed']);
    expect((await put('score', 'score Queued', 0)).sort()).toEqual(['score Queued', 'train Failed']);
  });
});

describe('trimOutbox', () => {
  const GROUP = 'dispatch';
  const append = async (n: number) => {
    for (let i = 0; i < n; i += 100) {
      const p = redis.pipeline();
      for (let k = i; k < Math.min(n, i + 100); k++) p.xadd(keys.events, '*', 'event', `{"id":"e${k}"}`);
      await p.exec();
    }
  };
  const ids = async () => (await redis.xrange(keys.events, '-', '+')).map(([id]) => id);
  const read = async (count: number) =>
    ((await redis.xreadgroup('GROUP', GROUP, 'c', 'COUNT', count, 'STREAMS', keys.events, '>')) as [string, [string, string[]][]][])[0]![1].map(([id]) => id);

  it('keeps everything under maxLen, and everything while no dispatch group exists', async () => {
    await append(50);
    expect(await scripts.trimOutbox({ group: GROUP, maxLen: 100 })).toBe(0);
    await append(950);
    expect(await scripts.trimOutbox({ group: GROUP, maxLen: 100 })).toBe(0);
    expect(await redis.xlen(keys.events)).toBe(1000);
  });

  it('never removes an entry the group has not read, nor one read and not acknowledged', async () => {
    await append(1000);
    await redis.xgroup('CREATE', keys.events, GROUP, '0');
    const readIds = await read(800);
    await redis.xack(keys.events, GROUP, ...readIds.slice(0, 300)); // 500 read and pending, 200 unread
    await scripts.trimOutbox({ group: GROUP, maxLen: 100 });
    const left = await ids();
    expect(left).toEqual(expect.arrayContaining(readIds.slice(300)));
    expect(left.length).toBeGreaterThanOrEqual(700);
    expect(left.length).toBeLessThan(1000); // some of the 300 finished ones went
  });

  it('cuts back to about maxLen (whole macro nodes, never fewer) once everything is acknowledged', async () => {
    await append(1000);
    await redis.xgroup('CREATE', keys.events, GROUP, '0');
    await redis.xack(keys.events, GROUP, ...(await read(1000)));
    expect(await scripts.trimOutbox({ group: GROUP, maxLen: 100 })).toBeGreaterThan(0);
    const left = await redis.xlen(keys.events);
    expect(left).toBeGreaterThanOrEqual(100);
    expect(left).toBeLessThanOrEqual(200);
  });

  it('does bounded work a call however far past maxLen the outbox is (a backlog cost a full scan per batch)', async () => {
    await append(6000);
    await redis.xgroup('CREATE', keys.events, GROUP, '0');
    await redis.xack(keys.events, GROUP, ...(await read(6000)));
    // One call reads at most TRIM_STEP (1,000) entries, so it removes at most about that many (whole macro nodes).
    const first = await scripts.trimOutbox({ group: GROUP, maxLen: 100 });
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(1100);
    // Called again (as the dispatcher does after each batch), it still comes down to about maxLen.
    for (let i = 0; i < 10; i++) await scripts.trimOutbox({ group: GROUP, maxLen: 100 });
    expect(await redis.xlen(keys.events)).toBeLessThanOrEqual(200);
  });

  it('reads nothing past a backlog the group has not finished: the oldest entry unfinished, nothing may go', async () => {
    await append(3000);
    await redis.xgroup('CREATE', keys.events, GROUP, '0');
    expect(await scripts.trimOutbox({ group: GROUP, maxLen: 100 })).toBe(0);
    expect(await redis.xlen(keys.events)).toBe(3000);
  });
});
