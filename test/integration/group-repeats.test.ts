// Repeats of a grouped chat route (alerts/repeats.ts): one message per group per repeat interval, listing the group's
// other alerts still failing — never one per alert (a 40-step storm repeating every 4 h was 40 messages each time).
// A silenced or acknowledged alert of the group is not listed; an alert of another group repeats on its own.
import { acknowledge } from '../../src/alerts/ack';
import type { WatchEvent } from '../../src/store/events';
import { AlertRig, stepEvent } from '../support/alert-rig';

const EVERY = 60_000;
let rig: AlertRig;
const repeats = () => rig.messages().filter((m) => m.notifier === 'ce' && m.repeat !== undefined && !m.part);
const groupedOf = (n: number) =>
  rig.ce.received
    .map((r) => (r.json as { data: WatchEvent }).data)
    .filter((d) => d.repeat === n)
    .map((d) => [d.stepRun?.name, (d.grouped ?? []).map((g) => g.summary.match(/\] (\w+)/)?.[1]).sort()]);

beforeAll(async () => {
  rig = await new AlertRig({
    config: {
      routes: [
        {
          match: { type: ['steprun.failed', 'steprun.finished'] },
          notify: ['ce'],
          group: { by: ['pipelineRunId'], wait: '1s' },
          repeat: { every: EVERY / 1000 },
        },
      ],
    },
  }).start();
});
afterAll(async () => rig?.stop());

it('a storm in one group repeats as one message listing the rest; another group repeats on its own', async () => {
  const steps = ['s1', 's2', 's3', 's4', 's5'];
  await rig.emit(...steps.map((s) => stepEvent('steprun.failed', s, 'run1')));
  await rig.emit(stepEvent('steprun.failed', 'other', 'run2'));
  await rig.settle(2_000);
  expect(repeats()).toHaveLength(0);

  rig.clock.advance(EVERY + 1_000);
  await rig.repeatTick();
  await rig.settle();
  expect(repeats()).toHaveLength(2);
  expect(groupedOf(1).sort()).toEqual([
    ['other', []],
    ['s1', ['s2', 's3', 's4', 's5']],
  ]);

  // Acknowledged in the group: no longer listed (it sends no repeats); the group still repeats once.
  await acknowledge(rig.alerts, 'local/E/step/s2', 'jane', rig.clock.now(), undefined, rig.incidents);
  rig.clock.advance(EVERY);
  await rig.repeatTick();
  await rig.repeatTick();
  await rig.settle();
  expect(repeats()).toHaveLength(4);
  expect(groupedOf(2).sort()).toEqual([
    ['other', []],
    ['s1', ['s3', 's4', 's5']],
  ]);
});
