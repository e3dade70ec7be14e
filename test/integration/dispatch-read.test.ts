// One read of the outbox is dispatched as if its events came one by one: its group additions go out without waiting
// each, so an event of an alert key already planned in the read must be decided again on that key's notes. Two
// failures of one step and its recovery, in one read and in three, give the receivers the same messages.
import type { WatchEvent } from '../../src/store/events';
import { AlertRig, stepEvent } from '../support/alert-rig';

/** What the receivers got for the sequence, as (receiver, kind, key), each receiver's in order. */
async function played(oneRead: boolean): Promise<string[]> {
  const rig = await new AlertRig({
    config: {
      routes: [
        { match: { type: ['steprun.failed'] }, notify: ['ce'], group: { by: ['experiment'], wait: '0.5s', interval: '1s' } },
        { match: { type: ['steprun.failed'] }, notify: ['pd'], group: { by: ['experiment'], wait: '0.5s', interval: '1s' } },
      ],
    },
  }).start();
  try {
    const events: WatchEvent[] = [stepEvent('steprun.failed', 'train', 'run1'), stepEvent('steprun.failed', 'train', 'run2')];
    if (oneRead) await rig.emit(...events);
    else
      for (const e of events) {
        await rig.emit(e);
        await rig.settle();
      }
    await rig.settle(2_000);
    const alert = await rig.alerts.get('local/E/step/train');
    await rig.emit(stepEvent('steprun.finished', 'train', 'run3'));
    await rig.settle(3_000);
    // Each receiver's messages in the order it got them; the two receivers' groups flush at the same moment, so how
    // their messages interleave is not part of what is compared.
    const inOrder = (notifier: string) => rig.messages().filter((m) => m.notifier === notifier);
    return [`failures ${alert?.failures}`, ...[...inOrder('ce'), ...inOrder('pd')].map((m) => `${m.notifier} ${m.kind} ${m.key}`)];
  } finally {
    await rig.stop();
  }
}

it('two failures of one key and its recovery: the same messages in one read as in three', async () => {
  const apart = await played(false);
  const together = await played(true);
  expect(together).toEqual(apart);
  expect(apart).toContain('failures 2');
  expect(apart.filter((m) => m.startsWith('ce ') && m.includes('resolve'))).toHaveLength(1);
});
