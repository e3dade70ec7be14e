// The console notifier: one structured log line per event.
import { statusOf, summarize } from '../../store/events';
import type { Notifier, NotifierFactory } from '../notifier';

export const consoleNotifierFactory: NotifierFactory = (_options, ctx): Notifier => {
  const log = ctx.logger.child({ component: 'notifier', notifier: ctx.name });
  return {
    type: 'console',
    name: ctx.name,
    async deliver(event) {
      log.info(
        {
          eventId: event.id,
          type: event.type,
          experiment: event.experiment,
          pipelineRunId: event.pipelineRunId,
          step: event.stepRun?.name,
          stepRunId: event.stepRun?.stepRunId,
          status: statusOf(event),
          previousStatus: event.stepRun?.previousStatus ?? event.pipelineRun?.previousStatus,
          error: event.stepRun?.error ?? event.pipelineRun?.error ?? event.error,
        },
        summarize(event),
      );
    },
  };
};
