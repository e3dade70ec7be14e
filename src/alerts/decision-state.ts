// The state the alert decision reads (decide.ts), read from Redis in one go for a batch of events: silences, and the
// alerts the events open, resolve or are inhibited by. The dispatcher applies its own opens and resolves to it as it
// plans, so that a pipeline's failure right after its step's (same batch) sees the step's alert open and paged.
import type { AlertNotes, AlertStore } from './alert-store';
import { MAX_OPEN_ALERTS } from './alert-store';
import { alertActionOf } from './alert-key';
import { alertKeyFor, stepFailureOf, type AlertPolicy, type AlertView, type DecisionState } from './decide';
import { matchersHold } from './routing';
import type { Silence, SilenceStore } from './silences';
import type { WatchEvent } from '../store/events';

export interface StateSources {
  policy: AlertPolicy;
  alerts?: AlertStore;
  silences?: SilenceStore;
}

/** Reads, in a few round trips, what deciding on `events` at `now` needs. */
export async function readDecisionState(src: StateSources, events: WatchEvent[], now: number): Promise<BatchState> {
  const { policy } = src;
  const silences = src.silences ? await src.silences.list(now) : [];
  const keys = new Set<string>();
  for (const e of events) {
    if (alertActionOf(e) && e.type !== 'alert.resolved') keys.add(alertKeyFor(policy, e));
    if (e.type === 'pipelinerun.failed')
      for (const step of e.pipelineRun?.steps ?? []) if (step.status === 'Failed') keys.add(alertKeyFor(policy, stepFailureOf(e, step)));
  }
  const views = src.alerts ? await src.alerts.views([...keys]) : new Map<string, AlertView>();
  const ruleTargets = policy.inhibit.length > 0 && events.some((e) => policy.inhibit.some((r) => matchersHold(r.target.matchers, e)));
  const open = ruleTargets && src.alerts ? await src.alerts.list(MAX_OPEN_ALERTS) : [];
  return new BatchState(now, silences, views, open);
}

/**
 * The alerts of one batch as the decision sees them: read once, then changed as each event is planned, so that the
 * pipeline failure after its step's failure (same batch) sees the step's alert open and paged.
 */
export class BatchState implements DecisionState {
  private readonly alerts: Map<string, AlertView>;

  constructor(
    readonly now: number,
    readonly silences: Silence[],
    views: Map<string, AlertView>,
    open: AlertView[],
  ) {
    this.alerts = new Map([...open.map((a) => [a.key, a] as const), ...views]);
  }

  alert(key: string): AlertView | undefined {
    return this.alerts.get(key);
  }

  openAlerts(): AlertView[] {
    return [...this.alerts.values()];
  }

  isOpen(key: string, openedType?: string): boolean {
    const view = this.alerts.get(key);
    return view !== undefined && (!openedType || view.event.type === openedType);
  }

  noteOpen(key: string, e: WatchEvent, notes: AlertNotes): void {
    const known = this.alerts.get(key);
    const view: AlertView = known
      ? { ...known, told: { ...known.told }, pending: { ...known.pending } }
      : { key, openedBy: e.id, openedAt: this.now, failures: 1, told: {}, pending: {}, repeats: {}, event: e };
    // Another failure counts once, as openAlert-2.lua counts it.
    if (known && view.openedBy !== e.id && view.lastBy !== e.id) view.failures += 1;
    view.lastBy = e.id;
    Object.assign(view.told, notes.told);
    Object.assign(view.pending, notes.pending);
    this.alerts.set(key, view);
  }

  noteResolved(key: string): void {
    this.alerts.delete(key);
  }
}
