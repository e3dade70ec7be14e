// A storm at scale through the daemon's alert path: G groups of S failing steps (one pipeline run each, in its own
// experiment) appended to the outbox at once, on a pager route (PagerDuty Events API format) and a chat route (Slack
// incoming-webhook format), both grouped by pipeline run; then the resolve wave (each step passes in a later run).
// Printed for each wave and receiver: the time from the last event appended to the last group's first notification
// (target: the group wait + 2 s), notifications sent (target: one per group), the CPU of this process (daemon and
// receivers) and of Redis per alert; after the failure wave, Redis bytes per open alert by key family (target ≤ 1 KB).
// The resolve wave's target is the group interval + 2 s: a group tells what resolved at its next flush (Alertmanager's
// rule), not after a wait.
// The receivers run in a process of their own (they stand for PagerDuty and Slack); `--inline-receivers` runs them in
// this process, as before 2026-12-07 (their HTTP parsing then shares the daemon's thread).
// Usage: npm run bench:storm [-- --groups 1000 --steps 10 --wait 5 --interval 30 --inline-receivers]
//   [-- --delivery-concurrency N] (delivery.concurrency; default: the config's default)
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { validateConfig } from '../src/config/load';
import { Daemon } from '../src/runtime/daemon';
import { Keys } from '../src/store/keys';
import type { WatchEvent } from '../src/store/events';
import { createLogger } from '../src/util/logger';
import { stepEvent } from '../test/support/rig-events';
import { WebhookReceiver, type Received } from '../test/support/webhook-receiver';
import { ReceiversProcess } from './receivers-process';
import { arg, dropPrefix, round, until } from './support';

const GROUPS = arg('groups', 1000);
const STEPS = arg('steps', 10);
const WAIT_S = arg('wait', 5);
/** The group interval: a pager's incident tells what resolved at its next flush, as Alertmanager does. */
const INTERVAL_S = arg('interval', 30);
const ALERTS = GROUPS * STEPS;
const INLINE = process.argv.includes('--inline-receivers');
const DELIVERY_CONCURRENCY = arg('delivery-concurrency', 0);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = 'storm-bench';

/** Step `s` of group `g`'s pipeline run (`failing`: the run that fails; else the later run it passes in). */
function event(g: number, s: number, failing: boolean): WatchEvent {
  const run = `stormrun${String(g).padStart(5, '0')}${failing ? 'a' : 'b'}`;
  const e = stepEvent(failing ? 'steprun.failed' : 'steprun.finished', `s${s}`, run);
  return { ...e, experiment: `storm${g}`, trackId: `t-${run}` };
}

/** The group a chat message belongs to: the group number in the run ids it names. */
function chatGroupOf(r: Received): string | undefined {
  return /stormrun(\d{5})/.exec(r.body)?.[1];
}

/** The group a pager message belongs to: its incident (dedup key). */
function pagerGroupOf(r: Received): string | undefined {
  return (r.json as { dedup_key?: string }).dedup_key;
}

async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/** Bytes of every key of the prefix by family (the name after the hash tag, up to the next ':' or id). */
async function bytesByFamily(redis: Redis): Promise<Record<string, number>> {
  const families: Record<string, number> = {};
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `{${prefix}}*`, 'COUNT', 1000);
    cursor = next;
    const p = redis.pipeline();
    for (const key of keys) p.memory('USAGE', key, 'SAMPLES', '0');
    const sizes = (await p.exec()) ?? [];
    keys.forEach((key, i) => {
      const family =
        key
          .slice(prefix.length + 3)
          .split(/[:]/)[0]!
          .replace(/[0-9a-f]{12,}.*$/, '') || 'other';
      families[family] = (families[family] ?? 0) + Number(sizes[i]?.[1] ?? 0);
    });
  } while (cursor !== '0');
  return families;
}

interface Wave {
  lastEventAt: number;
  cpuStart: NodeJS.CpuUsage;
  redisCpuStart: number;
}

/** Seconds from `since` until the dispatcher has read and acknowledged every event (its group's lag and pending 0). */
async function dispatchedAfter(redis: Redis, keys: Keys, since: number): Promise<number> {
  for (;;) {
    const groups = (await redis.xinfo('GROUPS', keys.events)) as unknown[][];
    const fields = groups.map((g) => Object.fromEntries(Array.from({ length: g.length / 2 }, (_, i) => [g[2 * i], g[2 * i + 1]])));
    if (fields.length && fields.every((f) => Number(f.lag ?? 1) === 0 && Number(f.pending) === 0)) return round((Date.now() - since) / 1000);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function appendWave(redis: Redis, keys: Keys, failing: boolean): Promise<Wave> {
  const cpuStart = process.cpuUsage();
  const redisCpuStart = await redisCpuSeconds(redis);
  const firstEventAt = Date.now();
  for (let g = 0; g < GROUPS; g += 100) {
    const p = redis.pipeline();
    for (let i = g; i < Math.min(GROUPS, g + 100); i++) for (let s = 0; s < STEPS; s++) p.xadd(keys.events, '*', 'event', JSON.stringify(event(i, s, failing)));
    await p.exec();
  }
  process.stderr.write(`appended ${GROUPS * STEPS} events in ${Date.now() - firstEventAt} ms\n`);
  return { lastEventAt: Date.now(), cpuStart, redisCpuStart };
}

/** The wave's figures at one receiver: its messages since `from` that `counts`, each group's first, and the CPU. */
async function measure(
  redis: Redis,
  wave: Wave,
  receiver: { received: Received[] },
  o: { from: number; counts: (r: Received) => boolean; groupOf: (r: Received) => string | undefined; targetSeconds: number },
) {
  const { from, counts, groupOf } = o;
  const accepted = () => receiver.received.slice(from).filter((r) => r.status < 300 && counts(r));
  await until(() => new Set(accepted().map(groupOf)).size >= GROUPS, 300_000, 'every group notified');
  const firstOf = new Map<string, number>();
  for (const r of accepted()) if (!firstOf.has(groupOf(r)!)) firstOf.set(groupOf(r)!, r.at);
  const lastFirst = Math.max(...firstOf.values());
  const firstFirst = Math.min(...firstOf.values());
  const cpu = process.cpuUsage(wave.cpuStart);
  const redisCpu = (await redisCpuSeconds(redis)) - wave.redisCpuStart;
  return {
    // The wave of first notifications: when its first and its last arrived.
    firstFirstNotificationAfterLastEventSeconds: round((firstFirst - wave.lastEventAt) / 1000),
    lastFirstNotificationAfterLastEventSeconds: round((lastFirst - wave.lastEventAt) / 1000),
    targetSeconds: o.targetSeconds,
    notifications: accepted().length,
    groups: firstOf.size,
    processCpuMicrosPerAlert: Math.round((cpu.user + cpu.system) / ALERTS),
    redisCpuMicrosPerAlert: Math.round((redisCpu * 1e6) / ALERTS),
  };
}

/** The pager's and the chat's receivers: in a child process, or (`--inline-receivers`) in this one. */
async function receivers(): Promise<{ pager: { received: Received[] }; chat: { received: Received[] }; urls: string[]; close(): Promise<void> }> {
  if (INLINE) {
    const [pager, chat] = [new WebhookReceiver(), new WebhookReceiver()];
    const urls = [await pager.start(), await chat.start()];
    return { pager, chat, urls, close: async () => void (await Promise.all([pager.close(), chat.close()])) };
  }
  const child = await ReceiversProcess.start(2);
  return { pager: { received: child.received[0]! }, chat: { received: child.received[1]! }, urls: child.urls, close: () => child.close() };
}

async function main(): Promise<void> {
  const redis = new Redis(REDIS_URL);
  await dropPrefix(redis, prefix);
  const keys = new Keys(prefix);
  const { pager, chat, urls, close } = await receivers();
  const group = { by: ['pipelineRunId'], wait: `${WAIT_S}s`, interval: `${INTERVAL_S}s` };
  const config = validateConfig({
    redis: { url: REDIS_URL, prefix },
    notifiers: {
      pager: { type: 'webhook', format: 'pagerduty', url: urls[0], routingKey: 'R0UT1NG' },
      chat: { type: 'webhook', format: 'slack', url: urls[1] },
    },
    routes: [{ match: { type: ['steprun.failed'] }, notify: ['pager', 'chat'], group }],
    ...(DELIVERY_CONCURRENCY ? { delivery: { concurrency: DELIVERY_CONCURRENCY } } : {}),
    log: { level: process.env.BENCH_LOG ?? 'error' },
  });
  const daemon = await Daemon.create({ config, logger: createLogger({ level: config.log.level, pretty: false }) });
  await daemon.start();
  const bytesBefore = await bytesByFamily(redis);
  process.stderr.write(`storm: ${ALERTS} failing steps in ${GROUPS} groups, group wait ${WAIT_S} s\n`);

  const failing = await appendWave(redis, keys, true);
  const dispatched = await dispatchedAfter(redis, keys, failing.lastEventAt);
  const isTrigger = (r: Received) => (r.json as { event_action?: string }).event_action === 'trigger';
  const failWave = {
    pager: await measure(redis, failing, pager, { from: 0, counts: isTrigger, groupOf: pagerGroupOf, targetSeconds: WAIT_S + 2 }),
    chat: await measure(redis, failing, chat, { from: 0, counts: () => true, groupOf: chatGroupOf, targetSeconds: WAIT_S + 2 }),
  };
  process.stderr.write(`failure wave: ${JSON.stringify(failWave)}; every event dispatched ${dispatched} s after the last\n`);
  await new Promise((r) => setTimeout(r, 2000)); // let the deliveries' bookkeeping land before it is weighed
  const bytes = await bytesByFamily(redis);
  const total = Object.values(bytes).reduce((a, b) => a + b, 0) - Object.values(bytesBefore).reduce((a, b) => a + b, 0);
  const outbox = (bytes.events ?? 0) - (bytesBefore.events ?? 0);
  const memory = {
    bytesPerOpenAlert: Math.round(total / ALERTS),
    bytesPerOpenAlertBesidesTheOutbox: Math.round((total - outbox) / ALERTS),
    byFamily: bytes,
  };
  process.stderr.write(`memory: ${JSON.stringify(memory)}\n`);

  const pagerFrom = pager.received.length;
  const chatFrom = chat.received.length;
  const passing = await appendWave(redis, keys, false);
  const isResolve = (r: Received) => (r.json as { event_action?: string }).event_action === 'resolve';
  const resolveWave = {
    pager: await measure(redis, passing, pager, { from: pagerFrom, counts: isResolve, groupOf: pagerGroupOf, targetSeconds: INTERVAL_S + 2 }),
    chat: await measure(redis, passing, chat, { from: chatFrom, counts: () => true, groupOf: chatGroupOf, targetSeconds: INTERVAL_S + 2 }),
  };
  process.stderr.write(`resolve wave: ${JSON.stringify(resolveWave)}\n`);

  await daemon.stop();
  await close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
  const results = {
    date: new Date().toISOString(),
    setup: {
      groups: GROUPS,
      steps: STEPS,
      waitSeconds: WAIT_S,
      intervalSeconds: INTERVAL_S,
      receivers: INLINE ? 'this process' : 'their own process',
      ...(DELIVERY_CONCURRENCY ? { deliveryConcurrency: DELIVERY_CONCURRENCY } : {}),
    },
    failWave: { ...failWave, dispatchedAfterLastEventSeconds: dispatched },
    memory,
    resolveWave,
  };
  process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  mkdirSync(path.join(__dirname, '../../bench/results'), { recursive: true });
  writeFileSync(path.join(__dirname, '../../bench/results/storm.json'), JSON.stringify(results, null, 2) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
