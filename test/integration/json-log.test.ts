// The daemon's log: every line one JSON object, each key once (issue 38, item 14).
// the daemon's JSON log got lines that are not JSON (node-cron's own "[NODE-CRON] [WARN] task still
// running…" on the console every tick a tick overran, as during a Redis outage) and a key written twice in one line
// (`"deliveryId"` on a failed delivery). Every line the daemon writes is one JSON object with each key once.
import { Writable } from 'node:stream';
import type { Daemon } from '../../src/runtime/daemon';
import { Daemon as DaemonClass } from '../../src/runtime/daemon';
import { Scheduler } from '../../src/watch/scheduler';
import { Keys } from '../../src/store/keys';
import { createLogger } from '../../src/util/logger';
import { systemClock } from '../../src/util/clock';
import { testConfig } from '../support/daemon';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';
import { waitFor, timePasses } from '../support/wait-for';
import { WebhookReceiver } from '../support/webhook-receiver';

const redis = testRedis();
const prefixes: string[] = [];

afterAll(async () => {
  for (const p of prefixes) await dropPrefix(redis, p);
  redis.disconnect();
});

/** What a process writes: the logger's lines, raw, and anything else written to the console meanwhile. */
function capture(): { lines: string[]; destination: Writable } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, destination };
}

/** A key repeated in one JSON line (JSON.parse keeps the last silently). */
function repeatedKeys(line: string): string[] {
  const keys = [...line.matchAll(/"([A-Za-z_]+)":/g)].map((m) => m[1]!);
  return keys.filter((k, i) => keys.indexOf(k) !== i);
}

it('a tick that overruns the next is logged as JSON by the daemon, not by node-cron on the console', async () => {
  const console = [jest.spyOn(globalThis.console, 'warn'), jest.spyOn(globalThis.console, 'info'), jest.spyOn(globalThis.console, 'error')];
  const { lines, destination } = capture();
  const prefix = uniquePrefix('cronlog');
  prefixes.push(prefix);
  const scheduler = new Scheduler({
    redis,
    keys: new Keys(prefix),
    queues: new Map(),
    clock: systemClock,
    batch: 100,
    leaseMs: 60_000,
    logger: createLogger({ level: 'debug', pretty: false, destination }),
    afterTick: () => new Promise((r) => setTimeout(r, 2500)), // a tick that takes longer than a second
  });
  try {
    scheduler.start('* * * * * *');
    await timePasses(6500, 'ticks overrun'); // the first tick is start()'s own; from the cron's next, each overruns the one after
  } finally {
    await scheduler.stop();
  }
  const cronOnConsole = console.flatMap((spy) => spy.mock.calls.map((c) => String(c[0]))).filter((l) => l.includes('NODE-CRON'));
  console.forEach((spy) => spy.mockRestore());
  expect(cronOnConsole).toEqual([]);
  for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
  expect(lines.some((l) => l.includes('still running'))).toBe(true); // said, in the daemon's own log
});

it('a failed delivery’s log line names its deliveryId once', async () => {
  const receiver = new WebhookReceiver();
  receiver.script.push({ status: 500 });
  const url = await receiver.start();
  const { lines, destination } = capture();
  const prefix = uniquePrefix('dlvlog');
  prefixes.push(prefix);
  const config = testConfig({
    prefix,
    dataDir: tempDir('dlvlog'),
    extra: { notifiers: { hook: { type: 'webhook', url } }, routes: [{ match: {}, notify: ['hook'] }], delivery: { attempts: 3, backoffMs: 100 } },
  });
  const daemon: Daemon = await DaemonClass.create({ config, logger: createLogger({ level: 'info', pretty: false, destination }) });
  await daemon.start();
  try {
    const event = {
      id: 'e-dlvlog',
      type: 'steprun.failed',
      time: new Date().toISOString(),
      detectedAt: Date.now(),
      trackId: 't',
      provider: 'local',
      experiment: 'E',
      labels: {},
    };
    await redis.xadd(daemon.keys.events, '*', 'event', JSON.stringify(event));
    await waitFor(() => receiver.received.filter((r) => r.status === 200).length > 0, { what: 'the retried delivery' });
    const failed = lines.filter((l) => l.includes('delivery failed'));
    expect(failed.length).toBeGreaterThan(0);
    for (const line of failed) expect([line, repeatedKeys(line)]).toEqual([line, []]);
  } finally {
    await daemon.stop();
    await receiver.close();
  }
});
