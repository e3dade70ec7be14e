// What a poll adds to its events from the provider before they are committed: links to the service's UI, stderr tails.
import { Status } from '../model/status';
import type { RunProvider } from '../model/provider';
import type { Logger } from '../util/logger';
import type { Transition } from '../store/state-store';

/** Every event of a run carries its links to the service's UI (pure: the provider builds them from ids). */
export function attachLinks(provider: RunProvider, transitions: Transition[]): void {
  if (!provider.linksFor) return;
  for (const t of transitions) {
    const e = t.event;
    if (e.pipelineRunId) e.links = provider.linksFor({ pipelineRunId: e.pipelineRunId, stepRunId: e.stepRun?.stepRunId });
  }
}

/** A failure event carries the last lines of the step's stderr: one extra read, only for failures. */
export async function attachStderrTails(
  deps: { settings: { stderrTailLines: number }; logger: Logger },
  provider: RunProvider,
  transitions: Transition[],
): Promise<void> {
  for (const t of transitions) {
    const s = t.event.stepRun;
    if (!s || s.status !== Status.Failed) continue;
    try {
      const text = await provider.readLog({ stepRunId: s.stepRunId, pipelineRunId: t.event.pipelineRunId, experiment: t.event.experiment }, 'stderr', {
        tailBytes: 8192,
      });
      const lines = text.replace(/\n$/, '').split('\n');
      t.event.stderrTail = lines.slice(-deps.settings.stderrTailLines).join('\n');
    } catch (err) {
      deps.logger.debug({ stepRunId: s.stepRunId, err: (err as Error).message }, 'stderr tail not available');
    }
  }
}
