// Inhibition (pure): an open alert mutes related events — Alertmanager's inhibit_rules, and by default a pipeline
// run's failure while every failed step of it is silenced or already paged.
import type { PipelineStepSummary, WatchEvent } from '../store/events';
import { fieldOf } from './alert-key';
import type { AlertPolicy, DecisionState } from './decision-types';
import { alertKeyFor } from './route-choice';
import { matchersHold } from './routing';
import { activeSilencesFor } from './silences';

/**
 * The open alert that inhibits this event for this notifier, by key. Rules first (Alertmanager's inhibit_rules); then
 * the default: a pipeline run's failure is inhibited when every failed step of the run is silenced or already paged.
 */
export function inhibitorOf(policy: AlertPolicy, state: DecisionState, e: WatchEvent, key: string | undefined, notifier: string): string | undefined {
  for (const rule of policy.inhibit) {
    if (!matchersHold(rule.target.matchers, e)) continue;
    const source = state
      .openAlerts()
      .find((a) => a.key !== key && matchersHold(rule.source.matchers, a.event) && rule.equal.every((f) => fieldOf(a.event, f) === fieldOf(e, f)));
    if (source) return source.key;
  }
  if (e.type !== 'pipelinerun.failed' || !e.pipelineRun) return undefined;
  const failed = e.pipelineRun.steps.filter((s) => s.status === 'Failed');
  if (failed.length === 0) return undefined;
  const pager = policy.traits.get(notifier)?.pager === true;
  let first: string | undefined;
  for (const step of failed) {
    const failure = stepFailureOf(e, step);
    const stepKey = alertKeyFor(policy, failure);
    const silenced = activeSilencesFor(state.silences, failure, state.now).length > 0;
    const view = state.alert(stepKey);
    // "Already paged" inhibits on a pager only (one incident per failure); a log, mail or chat receiver still gets every
    // transition once. A silenced step mutes its pipeline's failure everywhere.
    const paged = pager && view !== undefined && (view.told[notifier] !== undefined || view.pending[notifier] !== undefined);
    if (!silenced && !paged) return undefined;
    first ??= `${stepKey} (${silenced ? 'silenced' : 'already paged'})`;
  }
  return first;
}

/** A failed step of a pipeline event, as the step's own failure event would read (for its key and silences). */
export function stepFailureOf(e: WatchEvent, step: PipelineStepSummary): WatchEvent {
  return {
    ...e,
    type: 'steprun.failed',
    pipelineRun: undefined,
    stepRun: {
      stepRunId: step.stepRunId,
      name: step.name,
      nodeId: '',
      isReused: step.isReused,
      outputNames: [],
      status: 'Failed',
      previousStatus: null,
      rawStatus: 'Failed',
      ...(step.error ? { error: step.error } : {}),
    },
  };
}
