// Upgrading from Redis state the release before incident groups wrote (issue 36, the upgrade).
// Redis state written by the release before incident groups (fixtures/upgrade/release-0.1.json,
// recorded by running that release: two step alerts paged under one key each, a repeat scheduled, the pipeline alert
// inhibited) is taken over by this release: each open alert resolves once under the key its page was sent with, and
// the next failure is an incident of its group. At the end PagerDuty, replaying everything it received from both
// releases, holds exactly the new incident.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { AlertRig, stepEvent, pipelineEvent } from '../support/alert-rig';
import { testRedis, uniquePrefix } from '../support/redis';

jest.setTimeout(60_000);

interface Snapshot {
  received: { pd: { event_action: string; dedup_key: string }[] };
  keys: Record<string, { type: string; value: unknown }>;
}

const snapshot = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/upgrade/release-0.1.json'), 'utf8')) as Snapshot;

/** Writes the snapshot's keys under `prefix`; returns when the snapshot was taken (its newest time). */
async function restore(prefix: string): Promise<number> {
  const redis = testRedis();
  let takenAt = 0;
  for (const [name, { type, value }] of Object.entries(snapshot.keys)) {
    const key = name.replace('{PREFIX}', `{${prefix}}`);
    if (type === 'hash') {
      const h = value as Record<string, string>;
      await redis.hset(key, h);
      takenAt = Math.max(takenAt, Number(h.updatedAt ?? h.lastAt ?? 0));
    } else if (type === 'zset') await redis.zadd(key, ...(value as string[]).flatMap((v, i, all) => (i % 2 === 0 ? [all[i + 1]!, v] : [])));
    else if (type === 'list') await redis.rpush(key, ...(value as string[]));
    else if (type === 'string') await redis.set(key, value as string);
    else if (type === 'set') await redis.sadd(key, ...(value as string[]));
  }
  redis.disconnect();
  return takenAt;
}

/** What PagerDuty holds after these events, in order: the keys triggered and not resolved since. */
function holds(events: { event_action: string; dedup_key: string }[]): string[] {
  const open = new Set<string>();
  for (const e of events) {
    if (e.event_action === 'resolve') open.delete(e.dedup_key);
    else open.add(e.dedup_key);
  }
  return [...open].sort();
}

it('alerts opened by the release before resolve once under their own keys; the next failure is an incident of its group', async () => {
  expect(holds(snapshot.received.pd)).toEqual(['steprun-watch/local/E/step/eval', 'steprun-watch/local/E/step/train']);
  const prefix = uniquePrefix('upgrade');
  const takenAt = await restore(prefix);
  const rig = new AlertRig({
    prefix,
    config: {
      routes: [
        { match: { type: ['steprun.failed', 'pipelinerun.failed'] }, notify: ['pd'], group: { wait: 0.3, interval: 0.5 }, repeat: { every: 3600 } },
        { match: { type: ['steprun.failed', 'pipelinerun.failed'] }, notify: ['ce'] },
      ],
    },
  });
  rig.clock.offset = takenAt + 60_000 - Date.now(); // a minute after the old release stopped
  await rig.start();
  try {
    await rig.emit(stepEvent('steprun.finished', 'train', 'run3'), pipelineEvent('pipelinerun.finished', 'run3'));
    await rig.emit(stepEvent('steprun.finished', 'eval', 'run4'), pipelineEvent('pipelinerun.finished', 'run4'));
    await rig.settle(1000);
    const afterResolves = rig.pd.received.filter((r) => r.status < 300).map((r) => r.json as { event_action: string; dedup_key: string });
    expect(afterResolves.map((e) => [e.event_action, e.dedup_key]).sort()).toEqual([
      ['resolve', 'steprun-watch/local/E/step/eval'],
      ['resolve', 'steprun-watch/local/E/step/train'],
    ]);
    expect(await rig.alerts.list()).toEqual([]);

    await rig.emit(stepEvent('steprun.failed', 'train', 'run5'), pipelineEvent('pipelinerun.failed', 'run5', ['train']));
    await rig.settle(1000);
    const all = [...snapshot.received.pd, ...rig.pd.received.filter((r) => r.status < 300).map((r) => r.json as { event_action: string; dedup_key: string })];
    expect(holds(all)).toEqual([...rig.pagerHolds().open.keys()]);
    expect(holds(all)).toEqual([expect.stringMatching(/^steprun-watch\/g[0-9a-f]{20}$/)]);
  } finally {
    await rig.stop();
  }
});
