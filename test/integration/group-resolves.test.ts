// Resolves on a grouped chat route (Alertmanager's send_resolved within a group): the alerts of a group that resolve
// are told in the group's next notification — one message for the group, not one per alert (a 1,000-step recovery was
// 1,000 messages: bench:storm). The resolve never goes before the message it resolves, and an alert whose message
// never went out is not resolved at the receiver.
import type { WatchEvent } from '../../src/store/events';
import { AlertRig, stepEvent } from '../support/alert-rig';
import { waitFor } from '../support/wait-for';

let rig: AlertRig;
const posts = () => rig.ce.received.filter((r) => r.status < 300).map((r) => (r.json as { data: WatchEvent }).data);
const resolvedIn = (d: WatchEvent) => [d, ...(d.grouped ?? [])].filter((e) => e.type === 'alert.resolved').map((e) => e.id);

beforeAll(async () => {
  rig = await new AlertRig({
    config: {
      routes: [{ match: { type: ['steprun.failed'] }, notify: ['ce'], group: { by: ['pipelineRunId'], wait: '0.5s', interval: '2s' } }],
    },
  }).start();
});
afterAll(async () => rig?.stop());

it('three alerts of a group that resolve are told in one message of that group', async () => {
  await rig.emit(...['s1', 's2', 's3'].map((s) => stepEvent('steprun.failed', s, 'run1')));
  await waitFor(() => posts().length >= 1, { what: 'the group’s first message' });
  await rig.settle(3_000);
  expect(posts()).toHaveLength(1);
  expect(posts()[0]!.grouped).toHaveLength(2);

  // They pass in a later run: their resolves go to the group that told them (run1's), in one message.
  await rig.emit(...['s1', 's2', 's3'].map((s) => stepEvent('steprun.finished', s, 'run2')));
  await waitFor(() => posts().length >= 2, { what: 'the resolves' });
  await rig.settle(3_000);
  const after = posts().slice(1);
  expect(after).toHaveLength(1);
  expect(after[0]!.type).toBe('alert.resolved');
  expect(after[0]!.grouped).toHaveLength(2);
  expect(resolvedIn(after[0]!)).toHaveLength(3);
});

it('a group whose alerts resolve while it still waits tells nothing (nothing was sent to resolve)', async () => {
  const before = posts().length;
  await rig.emit(stepEvent('steprun.failed', 'q1', 'run3'));
  await rig.emit(stepEvent('steprun.finished', 'q1', 'run4'));
  await rig.settle(3_000);
  expect(posts().slice(before)).toEqual([]);
});

it('an alert silenced during its group’s wait is told once the silence ends (found by the model test’s grouped route)', async () => {
  const before = posts().length;
  await rig.emit(stepEvent('steprun.failed', 'm1', 'run5'));
  await rig.settle(); // dispatched: its group waits (0.5 s), and the silence comes during the wait
  const silence = await rig.silences.add({ matchers: { step: 'm1' }, durationMs: 3_600_000 }, rig.clock.now());
  await rig.settle(3_000);
  expect(posts().slice(before)).toEqual([]);
  await rig.silences.expire(silence.id, rig.clock.now());
  rig.clock.advance(61_000);
  await rig.repeatTick();
  await rig.settle(3_000);
  const told = posts().slice(before);
  expect(told.map((d) => [d.alertKey, d.type])).toEqual([['local/E/step/m1', 'steprun.failed']]);
});
