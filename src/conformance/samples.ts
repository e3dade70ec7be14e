// One sample event per event type, as the daemon builds them, for the conformance suite. Keyed by EventType: a new
// type that has no sample here does not compile. Plus the shapes a message takes on the way out: a grouped
// notification, a repeat, a short "still failing", an acknowledged resolve, links and action buttons.
import type { EventType, StepRunData, WatchEvent } from '../store/events';

const base = {
  time: new Date(0).toISOString(),
  detectedAt: 0,
  trackId: 't_conformance',
  provider: 'local',
  experiment: 'conformance',
  pipelineRunId: 'p1',
  labels: { team: 'x' },
};

const step = (over: Partial<StepRunData>): StepRunData => ({
  stepRunId: 's1',
  name: 'train',
  nodeId: 'n1',
  status: 'Running',
  previousStatus: 'Queued',
  rawStatus: 'Running',
  isReused: false,
  outputNames: [],
  ...over,
});

/** Text that breaks naive formatting in every target: mrkdwn, HTML, Markdown code fences, mentions. */
const NASTY = 'boom <!channel> & <b>bold</b> ```fence``` *star* _under_';

const SAMPLES: Record<EventType, () => Omit<WatchEvent, 'id' | 'type'>> = {
  'steprun.notstarted': () => ({ ...base, stepRun: step({ status: 'NotStarted', previousStatus: null, rawStatus: 'NotStarted' }) }),
  'steprun.queued': () => ({ ...base, stepRun: step({ status: 'Queued', previousStatus: 'NotStarted', rawStatus: 'Preparing' }) }),
  'steprun.running': () => ({ ...base, stepRun: step({ startTime: new Date(0).toISOString() }) }),
  'steprun.finished': () => ({ ...base, stepRun: step({ status: 'Finished', previousStatus: 'Running', rawStatus: 'Completed', durationMs: 61_000 }) }),
  'steprun.failed': () => ({
    ...base,
    stepRun: step({ status: 'Failed', previousStatus: 'Running', rawStatus: 'Failed', error: { code: 'ExitCode1', message: NASTY } }),
    stderrTail: 'Traceback (most recent call last):\n```\nValueError: bad shape',
    links: [{ label: 'Azure ML studio', url: 'https://ml.azure.com/runs/s1' }],
  }),
  'steprun.canceled': () => ({ ...base, stepRun: step({ status: 'Canceled', previousStatus: 'Running', rawStatus: 'Canceled' }) }),
  'steprun.stuck': () => ({ ...base, stepRun: step({}), stuck: { reason: 'running', forMs: 7_200_000, limitMs: 3_600_000, p95Ms: 1_200_000, samples: 12 } }),
  'steprun.substate': () => ({ ...base, stepRun: step({ rawStatus: 'NotResponding' }), subState: { from: 'Running', to: 'NotResponding' } }),
  'pipelinerun.finished': () => ({
    ...base,
    pipelineRun: { name: 'nightly', status: 'Finished', previousStatus: null, rawStatus: 'Completed', durationMs: 600_000, steps: [] },
  }),
  'pipelinerun.failed': () => ({
    ...base,
    pipelineRun: {
      status: 'Failed',
      previousStatus: null,
      rawStatus: 'Failed',
      steps: [
        { name: 'prepare', stepRunId: 's0', status: 'Finished', isReused: true },
        { name: 'train', stepRunId: 's1', status: 'Failed', isReused: false, error: { code: 'ExitCode1', message: NASTY } },
      ],
    },
  }),
  'pipelinerun.canceled': () => ({ ...base, pipelineRun: { status: 'Canceled', previousStatus: null, rawStatus: 'Canceled', steps: [] } }),
  'track.error': () => ({ ...base, error: { code: 'SRW_RUN_NOT_FOUND', message: 'run not found: p1', retryable: false } }),
  'track.recovered': () => ({ ...base }),
  'experiment.missing': () => ({
    ...base,
    pipelineRunId: undefined,
    missing: { windowStart: new Date(0).toISOString(), deadline: new Date(3_600_000).toISOString(), by: '06:00 Europe/Berlin' },
  }),
  'experiment.resumed': () => ({ ...base }),
  'alert.resolved': () => ({
    ...base,
    alertKey: 'local/conformance/step/train',
    alert: {
      key: 'local/conformance/step/train',
      openedAt: new Date(0).toISOString(),
      openedBy: 'e_failed',
      openedType: 'steprun.failed',
      openedSummary: `[Failed] train · ${NASTY}`,
      openedRun: 'p0',
      resolvedBy: 'e_finished',
      resolvedRun: 'p1',
      durationMs: 3_600_000,
      notifiers: ['conformance'],
      acked: { by: '@jane (Slack)', at: new Date(1000).toISOString(), comment: 'on it' },
    },
  }),
};

/** Every event type once, as the daemon builds it (ids `e_<type>`). */
export function sampleEvents(): WatchEvent[] {
  return (Object.keys(SAMPLES) as EventType[]).map((type) => ({ ...SAMPLES[type](), id: `e_${type}`, type }));
}

/** The shapes a message takes on the way out, each on a failure: grouped, repeated, still failing, with actions. */
export function sampleVariants(): { name: string; event: WatchEvent }[] {
  const failed = { ...SAMPLES['steprun.failed'](), type: 'steprun.failed' as const, alertKey: 'local/conformance/step/train' };
  return [
    {
      name: 'a grouped notification',
      event: {
        ...failed,
        id: 'e_grouped',
        grouped: [
          { id: 'e_g2', type: 'steprun.failed', summary: '[Failed] evaluate' },
          { id: 'e_g3', type: 'pipelinerun.failed', summary: '[Failed] pipeline p1' },
        ],
      },
    },
    { name: 'a repeat of an open alert', event: { ...failed, id: 'e_repeat', repeat: 2, severity: 'warning' } },
    { name: 'a short "still failing"', event: { ...failed, id: 'e_still', stillFailing: { failures: 3, openedAt: new Date(0).toISOString() } } },
    {
      name: 'links and action buttons',
      event: { ...failed, id: 'e_actions', dashboardUrl: 'https://srw.example.com/ui/runs/local/p1#step-s1', alertActions: { alertId: 'a1' } },
    },
  ];
}
