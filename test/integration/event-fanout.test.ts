// The outbox tail behind every Server-Sent Events client (GET /events/stream) through a Redis outage: clients that
// come and go while Redis is down must not pile listeners on its reader, and once Redis is back, clients get new
// events again and close() ends. (Issue 38, item 14: a MaxListenersExceededWarning in the daemon's log.)
import { Redis } from 'ioredis';
import { EventFanout } from '../../src/store/outbox-tail';
import { createLogger } from '../../src/util/logger';
import { freePort, PrivateRedis } from '../support/redis';
import { tempDir } from '../support/tmp';
import { waitFor } from '../support/wait-for';

const STREAM = 'fanout-test:events';
const logger = createLogger({ level: 'silent', pretty: false });

test('clients that come and go during a Redis outage leave no listeners behind, and get events once Redis is back', async () => {
  const own = new PrivateRedis(await freePort(), tempDir('fanout'));
  await own.start();
  // As the daemon's connection: commands wait for Redis to come back rather than fail.
  const redis = new Redis(own.url, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
  redis.on('error', () => undefined);
  const fanout = new EventFanout(redis, STREAM, logger);
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  try {
    await redis.xadd(STREAM, '*', 'n', '0');
    const leaveFirst = await fanout.subscribe({ onEntry: () => undefined });
    await new Promise((r) => setTimeout(r, 200)); // the reader is blocked in XREAD
    await own.stop();
    leaveFirst();

    // A browser tab whose stream breaks reconnects every few seconds: 15 times, each time the last one to leave.
    for (let i = 0; i < 15; i++) {
      const leave = await fanout.subscribe({ onEntry: () => undefined });
      await new Promise((r) => setTimeout(r, 50));
      leave();
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);

    await own.start();
    const seen: string[] = [];
    await fanout.subscribe({ onEntry: ([, fields]) => seen.push(fields[1]!) });
    await waitFor(
      async () => {
        await redis.xadd(STREAM, '*', 'n', 'after');
        return seen.includes('after');
      },
      { what: 'an event written after the outage reaching a new client', timeoutMs: 10_000 },
    );

    // close() ends the tail: it does not wait on a read that can never finish.
    const closed = await Promise.race([fanout.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still waiting'), 5_000))]);
    expect(closed).toBe('closed');
  } finally {
    process.off('warning', onWarning);
    redis.disconnect();
    await own.stop();
  }
});
