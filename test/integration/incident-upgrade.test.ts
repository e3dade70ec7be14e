// Upgrading from Redis state the release before incident groups wrote (issue 36, the upgrade).
// Redis state written by the release before incident groups (fixtures/upgrade/release-0.1.json,
// recorded by running that release: two step alerts paged under one key each, a repeat scheduled, the pipeline alert
// inhibited) is taken over by this release: when it starts, each open alert is carried into the incident group it
// would join today — its own incident resolved once, the group paged — and resolves with its group. PagerDuty,
// replaying everything it received from both releases, holds what the daemon holds at every step.
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

it(
  'alerts the release before paged one by one are carried into their groups at start: each old incident resolves once, the group is paged and ' +
    'resolves once',
  async () => {
    expect(holds(snapshot.received.pd)).toEqual(['steprun-watch/local/E/step/eval', 'steprun-watch/local/E/step/train']);
    const prefix = uniquePrefix('upgrade');
    const takenAt = await restore(prefix);
    const rig = new AlertRig({
      prefix,
      config: {
        routes: [
          {
            match: { type: ['steprun.failed', 'pipelinerun.failed'] },
            notify: ['pd'],
            group: { by: ['experiment'], wait: 0.3, interval: 0.5 },
            repeat: { every: 3600 },
          },
          { match: { type: ['steprun.failed', 'pipelinerun.failed'] }, notify: ['ce'] },
        ],
      },
    });
    rig.clock.offset = takenAt + 60_000 - Date.now(); // a minute after the old release stopped
    await rig.start();
    const received = () => rig.pd.received.filter((r) => r.status < 300).map((r) => r.json as { event_action: string; dedup_key: string });
    const everything = () => [...snapshot.received.pd, ...received()];
    try {
      // At start, both still failing: the two old incidents resolve, the experiment's group is one incident.
      await rig.settle(1000);
      const group = expect.stringMatching(/^steprun-watch\/g[0-9a-f]{20}$/);
      expect(received().map((e) => [e.event_action, e.dedup_key])).toEqual(
        expect.arrayContaining([
          ['resolve', 'steprun-watch/local/E/step/eval'],
          ['resolve', 'steprun-watch/local/E/step/train'],
          ['trigger', group],
        ]),
      );
      expect(received()).toHaveLength(3);
      expect(holds(everything())).toEqual([...rig.pagerHolds().open.keys()]);
      expect(holds(everything())).toEqual([group]);
      // No repeat of the old release's schedule pages under an old key.
      rig.clock.advance(3_601_000);
      await rig.repeatTick();
      await rig.settle(1000);
      expect(holds(everything())).toEqual([group]);

      // They recover: the group resolves, once; the old keys are not resolved again.
      await rig.emit(stepEvent('steprun.finished', 'train', 'run3'), pipelineEvent('pipelinerun.finished', 'run3'));
      await rig.emit(stepEvent('steprun.finished', 'eval', 'run4'), pipelineEvent('pipelinerun.finished', 'run4'));
      await rig.settle(1000);
      expect(await rig.alerts.list()).toEqual([]);
      expect(holds(everything())).toEqual([]);
      const resolves = received()
        .filter((e) => e.event_action === 'resolve')
        .map((e) => e.dedup_key);
      expect(resolves.length).toBe(new Set(resolves).size);

      // The next failure is an incident of its group, as for any alert this release opened.
      await rig.emit(stepEvent('steprun.failed', 'train', 'run5'), pipelineEvent('pipelinerun.failed', 'run5', ['train']));
      await rig.settle(1000);
      expect(holds(everything())).toEqual([...rig.pagerHolds().open.keys()]);
      expect(holds(everything())).toEqual([group]);
    } finally {
      await rig.stop();
    }
  },
);
