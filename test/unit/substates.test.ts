// Azure ML's raw sub-states as events of their own. nextEvents against a model: a random walk of raw
// statuses, committed as the commit script would (compare-and-set per field), must give exactly one steprun.substate
// per raw change within a status, each id once, and NotResponding's alert opened and resolved in turn.
import { alertActionOf, alertKeyOf } from '../../src/alerts/alert-key';
import { normalizeStatus, type StepStatus } from '../../src/model/status';
import { routeMatches } from '../../src/alerts/routing';
import type { StepRunSnapshot } from '../../src/model/provider';
import type { WatchEvent } from '../../src/store/events';
import { nextEvents } from '../../src/watch/state';
import { type Transition } from '../../src/store/state-store';
import { trackFromRequest } from '../../src/store/tracks';
import { routesSchema } from '../../src/config/route-schema';

const track = trackFromRequest({ provider: 'azureml', pipelineRun: 'p1' }, 'cli', 0);

function seen(rawStatus: string): StepRunSnapshot {
  return {
    stepRunId: 'sr-1',
    pipelineRunId: 'p1',
    experiment: 'churn',
    nodeId: 'n',
    name: 'train',
    status: normalizeStatus(rawStatus)!,
    rawStatus,
    isReused: false,
    outputNames: [],
    logNames: [],
  };
}

/** Applies transitions as commitPoll-8.lua does: each only if its field still holds what it expects. */
function commit(state: Record<string, string>, transitions: Transition[]): WatchEvent[] {
  const appended: WatchEvent[] = [];
  for (const t of transitions)
    if ((state[t.field] ?? '') === t.expected) {
      state[t.field] = t.next;
      appended.push(t.event);
    }
  return appended;
}

function observe(state: Record<string, string>, raws: string[]): WatchEvent[] {
  return raws.flatMap((raw, i) => commit(state, nextEvents(track, state, [seen(raw)], i)));
}

describe('steprun.substate', () => {
  it('Running → NotResponding → Running: one event each way, the warning alert opened then resolved under its own key', () => {
    const events = observe({}, ['Running', 'NotResponding', 'NotResponding', 'Running']);
    expect(events.map((e) => e.type)).toEqual(['steprun.running', 'steprun.substate', 'steprun.substate']);
    const [, into, out] = events;
    expect(into!.subState).toEqual({ from: 'Running', to: 'NotResponding' });
    expect([alertActionOf(into!), alertKeyOf(into!)]).toEqual(['open', 'azureml/churn/step/train/NotResponding']);
    expect([alertActionOf(out!), alertKeyOf(out!)]).toEqual(['resolve-substate', 'azureml/churn/step/train/NotResponding']);
  });

  it('first seen NotResponding (Event Grid spells it lower case): its status event and the sub-state, from nothing', () => {
    const events = observe({}, ['notresponding']);
    expect(events.map((e) => [e.type, e.subState])).toEqual([
      ['steprun.running', undefined],
      ['steprun.substate', { from: null, to: 'NotResponding' }],
    ]);
  });

  it('NotResponding → Failed: the failure with its reason, and the sub-state left (its alert resolved)', () => {
    const events = observe({}, ['Running', 'NotResponding', 'Failed']);
    expect(events.slice(2).map((e) => [e.type, e.subState, alertActionOf(e)])).toEqual([
      ['steprun.failed', undefined, 'open'],
      ['steprun.substate', { from: 'NotResponding', to: 'Failed' }, 'resolve-substate'],
    ]);
  });

  it('a status change through ordinary sub-states is one status event; the next raw move starts from the status’s raw', () => {
    const events = observe({}, ['Preparing', 'Running', 'Finalizing', 'Completed']);
    expect(events.map((e) => [e.type, e.subState])).toEqual([
      ['steprun.queued', undefined],
      ['steprun.running', undefined],
      ['steprun.substate', { from: 'Running', to: 'Finalizing' }],
      ['steprun.finished', undefined],
    ]);
  });

  it('a plain spelling of the status is no sub-state: Completed after a stored Finished (an older daemon’s state) is nothing new', () => {
    expect(nextEvents(track, { 'sr-1': '2|Finished' }, [seen('Completed')], 0)).toEqual([]);
    expect(nextEvents(track, { 'sr-1': '1|Running' }, [seen('running')], 0)).toEqual([]);
    const [into] = commit({ 'sr-1': '1|Running' }, nextEvents(track, { 'sr-1': '1|Running' }, [seen('Finalizing')], 0));
    expect(into!.subState).toEqual({ from: 'Running', to: 'Finalizing' });
  });

  it('routes take ordinary sub-states only by naming the type; NotResponding’s open and resolve match like any event', () => {
    const route = (match: Record<string, unknown>) => routesSchema.parse([{ match, notify: ['x'] }])[0]!;
    const [, finalizing] = observe({}, ['Running', 'Finalizing']);
    const [, , notResponding] = observe({}, ['Running', 'Finalizing', 'NotResponding']);
    expect(routeMatches(route({ type: 'steprun.*' }), finalizing!)).toBe(false);
    expect(routeMatches(route({}), finalizing!)).toBe(false);
    expect(routeMatches(route({ type: 'steprun.substate' }), finalizing!)).toBe(true);
    expect(routeMatches(route({ type: 'steprun.*' }), notResponding!)).toBe(true);
    expect(routeMatches(route({}), notResponding!)).toBe(true);
    expect(routeMatches(route({ type: 'steprun.failed' }), notResponding!)).toBe(false);
  });

  it('a random walk of raw statuses, each poll possibly replayed: every change once, ids unique, the alert in step', () => {
    const raws = ['NotStarted', 'Queued', 'Preparing', 'Provisioning', 'Starting', 'Running', 'Finalizing', 'NotResponding', 'Paused', 'CancelRequested'];
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let walk = 0; walk < 200; walk++) {
      const state: Record<string, string> = {};
      const ids = new Set<string>();
      let lastRaw: string | undefined;
      let lastStatus: StepStatus | undefined;
      let open = false;
      for (let i = 0; i < 30; i++) {
        const raw = raws[rand(raws.length)]!;
        const status = normalizeStatus(raw)!;
        const transitions = nextEvents(track, state, [seen(raw)], i);
        const events = commit(state, transitions);
        // A replay of the same poll (a second worker, a retried job) appends nothing.
        expect(commit(state, transitions)).toEqual([]);
        expect(commit(state, nextEvents(track, state, [seen(raw)], i))).toEqual([]);
        for (const e of events) {
          expect(ids.has(e.id)).toBe(false);
          ids.add(e.id);
        }
        const statusEvents = events.filter((e) => e.type !== 'steprun.substate');
        const subEvents = events.filter((e) => e.type === 'steprun.substate');
        expect(statusEvents.length).toBe(status !== lastStatus ? 1 : 0);
        const rawMoved = raw !== lastRaw;
        const alerting = raw === 'NotResponding' || lastRaw === 'NotResponding';
        expect(subEvents.length).toBe(rawMoved && (status === lastStatus || alerting) ? 1 : 0);
        for (const e of subEvents) {
          const action = alertActionOf(e);
          if (action === 'open') expect(open).toBe(false);
          if (action === 'resolve-substate') expect(open).toBe(true);
          if (action === 'open') open = true;
          if (action === 'resolve-substate') open = false;
        }
        expect(open).toBe(raw === 'NotResponding');
        lastRaw = raw;
        lastStatus = status;
      }
    }
  });
});
