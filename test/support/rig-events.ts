// The events the alert rig's tests emit: a step's or a pipeline run's end in experiment E, as the watcher builds them.
import type { WatchEvent } from '../../src/store/events';

let seq = 0;

/** What every event of the rig shares: a fresh id, now, experiment E, the track of pipeline run `run`. */
function eventBase(type: WatchEvent['type'], run: string): Omit<WatchEvent, 'stepRun' | 'pipelineRun'> {
  return {
    id: `e${++seq}x${Date.now().toString(36)}`,
    type,
    time: new Date().toISOString(),
    detectedAt: Date.now(),
    trackId: `t-${run}`,
    provider: 'local',
    experiment: 'E',
    pipelineRunId: run,
    labels: {},
  };
}

/** A step's transition in pipeline run `run` of experiment E (the alert key is `local/E/step/<step>`). */
export function stepEvent(type: 'steprun.failed' | 'steprun.finished', step: string, run: string): WatchEvent {
  const status = type === 'steprun.failed' ? 'Failed' : 'Finished';
  return {
    ...eventBase(type, run),
    stepRun: {
      stepRunId: `${run}-${step}`,
      name: step,
      nodeId: step,
      isReused: false,
      outputNames: [],
      status,
      previousStatus: 'Running',
      rawStatus: status,
      ...(status === 'Failed' ? { error: { code: 'ExitCode1', message: `${step} exited with code 1` } } : {}),
    },
  };
}

/** A pipeline run's end, with its steps (a failed step's failure is what the default inhibition looks at). */
export function pipelineEvent(type: 'pipelinerun.failed' | 'pipelinerun.finished', run: string, failedSteps: string[] = []): WatchEvent {
  const status = type === 'pipelinerun.failed' ? 'Failed' : 'Finished';
  return {
    ...eventBase(type, run),
    pipelineRun: {
      name: 'P',
      status,
      previousStatus: 'Running',
      rawStatus: status,
      steps: failedSteps.map((name) => ({ name, stepRunId: `${run}-${name}`, status: 'Failed' as const, isReused: false })),
    },
  };
}
