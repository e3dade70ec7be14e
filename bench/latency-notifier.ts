// A notifier for benchmarks: records when each event arrives, next to when its status changed at the provider.
import type { Notifier, NotifierFactory } from '../src/notify/notifier';

export interface Arrival {
  eventId: string;
  type: string;
  /** When the step's record changed (its endTime), ms. */
  changedAt?: number;
  deliveredAt: number;
}

/** Shared with the benchmark in the same process (the module is loaded once). */
export const arrivals: Arrival[] = [];

export const create: NotifierFactory = (_options, ctx): Notifier => ({
  type: 'bench',
  name: ctx.name,
  async deliver(event) {
    const end = event.stepRun?.endTime;
    arrivals.push({ eventId: event.id, type: event.type, changedAt: end ? Date.parse(end) : undefined, deliveredAt: Date.now() });
  },
});
