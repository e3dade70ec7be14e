// A group's wait counts from when the watcher saw the group's first event, as Alertmanager's counts from the first
// alert's arrival: a dispatcher a few seconds behind (a storm) must not add its lag to every group's first message.
// An event seen longer ago than the whole wait (a backlog after downtime) starts its group's wait when it is
// dispatched, so that the group still gathers what follows it in the backlog.
import { groupId } from '../../src/store/ids';
import type { WatchEvent } from '../../src/store/events';
import { AlertRig, stepEvent } from '../support/alert-rig';

const WAIT_MS = 20_000;
const group = { by: ['pipelineRunId'], wait: '20s', interval: '1m' };

/** A failure the watcher saw `agoMs` before it is appended. */
function seenAgo(rig: AlertRig, run: string, agoMs: number): WatchEvent {
  const e = stepEvent('steprun.failed', `step-${run}`, run); // a step of its own: an open alert joins no second group
  const seen = rig.clock.now() - agoMs;
  return { ...e, detectedAt: seen, time: new Date(seen).toISOString() };
}

/** When the chat route's group of `run` is flushed (its first generation) and when the pager's incident is due. */
async function flushTimes(rig: AlertRig, run: string): Promise<{ chat: number; pager: number }> {
  const chat = await rig.redis.hget(rig.keys.group(groupId(0, 'ce', [run])), 'flushAt:1');
  const pager = await rig.redis.zscore(rig.keys.incidentsDue, groupId(0, 'pd', [run]));
  return { chat: Number(chat), pager: Number(pager) };
}

describe("a group's wait starts at the watcher's sight of its first event", () => {
  let rig: AlertRig;
  beforeAll(async () => {
    rig = await new AlertRig({ config: { routes: [{ match: { type: ['steprun.failed'] }, notify: ['ce', 'pd'], group }] } }).start();
  });
  afterAll(() => rig.stop());

  it('a dispatcher 3 s behind: both groups flush the wait after the sight, not after the dispatch', async () => {
    const event = seenAgo(rig, 'behind', 3_000);
    await rig.emit(event);
    await rig.settle();
    const { chat, pager } = await flushTimes(rig, 'behind');
    expect(chat).toBe(event.detectedAt + WAIT_MS);
    expect(pager).toBe(event.detectedAt + WAIT_MS);
  });

  it('an event seen longer ago than the wait (a backlog): its groups wait from the dispatch', async () => {
    const appended = rig.clock.now();
    await rig.emit(seenAgo(rig, 'backlog', 10 * 60_000));
    await rig.settle();
    const { chat, pager } = await flushTimes(rig, 'backlog');
    expect(chat).toBeGreaterThanOrEqual(appended + WAIT_MS);
    expect(pager).toBeGreaterThanOrEqual(appended + WAIT_MS);
  });

  it('the first message of a group whose wait is over is sent at once, with the event in it', async () => {
    await rig.emit(seenAgo(rig, 'runlate1', WAIT_MS - 500));
    await rig.settle(1_000);
    const told = (receiver: AlertRig['pd']) => receiver.received.filter((r) => r.status < 300 && r.body.includes('runlate1')).length;
    expect([told(rig.ce), told(rig.pd)]).toEqual([1, 1]);
  });
});
