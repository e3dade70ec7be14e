// Events for notifier tests, shaped exactly as the watcher builds them.
import { Status, type StepStatus } from '../../src/model/status';
import type { PipelineRunSnapshot, StepRunSnapshot } from '../../src/model/provider';
import { type WatchEvent } from '../../src/store/events';
import { pipelineEvent, stepEvent } from '../../src/store/event-builders';
import { trackFromRequest } from '../../src/store/tracks';

const track = trackFromRequest({ provider: 'local', pipelineRun: '1234', labels: { team: 'ml' } }, 'cli', 0);

export function stepSnapshot(o: Partial<StepRunSnapshot> = {}): StepRunSnapshot {
  return {
    stepRunId: 's_train1',
    pipelineRunId: '1234',
    experiment: 'churn',
    nodeId: 'ab12cd34',
    name: 'train',
    status: Status.Failed,
    rawStatus: 'Failed',
    startTime: '2026-11-25T02:00:00.000Z',
    endTime: '2026-11-25T02:03:05.000Z',
    error: { code: 'ExitCode3', message: 'exited with code 3' },
    isReused: false,
    outputNames: ['model'],
    logNames: [],
    ...o,
  };
}

export function failedStepEvent(
  o: Partial<StepRunSnapshot> = {},
  stderrTail = 'Traceback (most recent call last):\nRuntimeError: CUDA error: out of memory',
): WatchEvent {
  return { ...stepEvent(track, stepSnapshot(o), Status.Running, 2, Date.parse('2026-11-25T02:03:06Z')), stderrTail };
}

export function stepEventWith(status: StepStatus, previous: StepStatus | null, o: Partial<StepRunSnapshot> = {}): WatchEvent {
  return stepEvent(
    track,
    stepSnapshot({ status, rawStatus: status, error: status === Status.Failed ? { code: 'E', message: 'm' } : undefined, ...o }),
    previous,
    3,
    Date.now(),
  );
}

export function pipelineFailedEvent(): WatchEvent {
  const p: PipelineRunSnapshot = {
    pipelineRunId: '1234',
    experiment: 'churn',
    status: Status.Failed,
    rawStatus: 'Failed',
    startTime: '2026-11-25T02:00:00Z',
    endTime: '2026-11-25T02:05:00Z',
    error: { code: 'StepFailed', message: 'step train failed' },
  };
  const steps = [
    stepSnapshot({
      name: 'prepare',
      stepRunId: 's_prep',
      status: Status.Finished,
      rawStatus: 'Completed',
      error: undefined,
      isReused: true,
      reusedRunId: 's_old',
    }),
    stepSnapshot(),
  ];
  return pipelineEvent(track, p, steps, null, 1, Date.parse('2026-11-25T02:05:01Z'));
}

/**
 * A hand-made step event for tests of pure decisions (routing, alert keys, rendering): `step` and `status`
 * set the step run's name and status; any other field of the event may be given.
 */
export function stepEventFixture(o: Partial<WatchEvent> & { status?: StepStatus; step?: string } = {}): WatchEvent {
  const { status = Status.Failed, step = 'train', ...rest } = o;
  return {
    id: 'e1',
    type: `steprun.${status.toLowerCase()}` as WatchEvent['type'],
    time: '',
    detectedAt: 0,
    trackId: 't1',
    provider: 'local',
    experiment: 'churn',
    pipelineRunId: 'run1',
    labels: { team: 'ml' },
    stepRun: { stepRunId: 's', name: step, nodeId: 'n', status, previousStatus: 'Running', rawStatus: status, isReused: false, outputNames: [] },
    ...rest,
  };
}
