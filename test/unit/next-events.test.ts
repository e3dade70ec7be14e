import { Status, type StepStatus } from '../../src/model/status';
import type { PipelineRunSnapshot, StepRunSnapshot } from '../../src/model/provider';
import { nextEvents, pipelineTransition } from '../../src/watch/state';
import { decodeState, encodeState } from '../../src/store/state-fields';
import { trackFromRequest } from '../../src/store/tracks';

const track = trackFromRequest({ provider: 'local', pipelineRun: 'p1', labels: { team: 'ml' } }, 'cli', 0);

function step(id: string, status: StepStatus, extra: Partial<StepRunSnapshot> = {}): StepRunSnapshot {
  return {
    stepRunId: id,
    pipelineRunId: 'p1',
    experiment: 'e',
    nodeId: 'n',
    name: id,
    status,
    rawStatus: status,
    isReused: false,
    outputNames: [],
    logNames: [],
    ...extra,
  };
}

describe('nextEvents', () => {
  it('emits a step seen for the first time with previousStatus null', () => {
    const [t] = nextEvents(track, {}, [step('a', Status.Running)], 1000);
    expect(t).toMatchObject({ field: 'a', expected: '', next: '1|Running' });
    expect(t!.event).toMatchObject({
      type: 'steprun.running',
      stepRun: { previousStatus: null, status: 'Running' },
      labels: { team: 'ml' },
      pipelineRunId: 'p1',
    });
  });

  it('a raw move within the same status is a steprun.substate event on its own field, not a status event', () => {
    const out = nextEvents(track, { a: '1|Queued' }, [step('a', Status.Queued, { rawStatus: 'Provisioning' })], 0);
    expect(out.map((t) => [t.field, t.expected, t.next, t.event.type])).toEqual([['@sub:a', '', '1|Provisioning|1', 'steprun.substate']]);
    expect(out[0]!.event.subState).toEqual({ from: 'Queued', to: 'Provisioning' });
  });

  it('emits one event per changed step, with the stored value as the compare-and-set expectation', () => {
    const out = nextEvents(
      track,
      { a: '1|Running', b: '2|Running' },
      [step('a', Status.Running), step('b', Status.Failed, { error: { code: 'E', message: 'm' } }), step('c', Status.Queued)],
      0,
    );
    expect(out.map((t) => [t.field, t.expected, t.next, t.event.type])).toEqual([
      ['b', '2|Running', '3|Failed', 'steprun.failed'],
      ['c', '', '1|Queued', 'steprun.queued'],
    ]);
    expect(out[0]!.event.stepRun).toMatchObject({ previousStatus: 'Running', error: { code: 'E', message: 'm' } });
  });

  it('gives the same event id for the same transition (replays are recognisable) and a new one for the next', () => {
    const a = nextEvents(track, { a: '1|Queued' }, [step('a', Status.Running)], 5)[0]!.event.id;
    const b = nextEvents(track, { a: '1|Queued' }, [step('a', Status.Running)], 99)[0]!.event.id;
    const c = nextEvents(track, { a: '2|Running' }, [step('a', Status.Queued)], 99)[0]!.event.id;
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(a).not.toMatch(/:/);
  });

  it('carries duration and reuse fields', () => {
    const [t] = nextEvents(
      track,
      {},
      [
        step('a', Status.Finished, {
          startTime: '2026-01-01T00:00:00Z',
          endTime: '2026-01-01T00:01:30Z',
          isReused: true,
          reusedRunId: 'r',
          reusedNodeId: 'rn',
          reusedPipelineRunId: 'rp',
        }),
      ],
      0,
    );
    expect(t!.event.stepRun).toMatchObject({ durationMs: 90000, isReused: true, reusedRunId: 'r', reusedNodeId: 'rn', reusedPipelineRunId: 'rp' });
  });
});

describe('pipelineTransition', () => {
  const pipeline = (status: StepStatus): PipelineRunSnapshot => ({ pipelineRunId: 'p1', experiment: 'e', status, rawStatus: status });

  it('emits once the pipeline run and all its steps are terminal', () => {
    const t = pipelineTransition(track, {}, pipeline(Status.Failed), [step('a', Status.Finished), step('b', Status.Failed)], 0);
    expect(t!.event.type).toBe('pipelinerun.failed');
    expect(t!.event.pipelineRun!.steps.map((s) => [s.name, s.status])).toEqual([
      ['a', 'Finished'],
      ['b', 'Failed'],
    ]);
  });

  it('emits nothing while a step is still running, or when it was already emitted', () => {
    expect(pipelineTransition(track, {}, pipeline(Status.Finished), [step('a', Status.Running)], 0)).toBeUndefined();
    expect(pipelineTransition(track, { '@pipeline': '1|Finished' }, pipeline(Status.Finished), [step('a', Status.Finished)], 0)).toBeUndefined();
    expect(pipelineTransition(track, {}, pipeline(Status.Running), [step('a', Status.Finished)], 0)).toBeUndefined();
  });
});

describe('state encoding', () => {
  it('round-trips and rejects garbage', () => {
    expect(decodeState(encodeState({ seq: 4, status: Status.Canceled }))).toEqual({ seq: 4, status: 'Canceled' });
    expect(decodeState('x|Nope')).toBeUndefined();
    expect(decodeState(undefined)).toBeUndefined();
  });
});
