// The incident ticker: due flushes of incident groups become delivery jobs (deliver/incident-flush.ts).
import type { Queue } from 'bullmq';
import type { IncidentStore } from '../../alerts/incidents';
import { incidentFlushJobId } from '../../store/ids';
import type { Clock } from '../../util/clock';
import type { Logger } from '../../util/logger';

/** How often the ticker looks for due flushes (ms): a group's wait is kept to within this. */
const TICK_MS = 250;

/** Flushes claimed at once; a tick claims again while a claim comes back full (a storm's groups come due together). */
const CLAIM_AT_ONCE = 200;

/**
 * Turns due incident flushes into delivery jobs: a group's wait, interval and repeat, an acknowledgement, a silence
 * ending — everything that should make a group look again — is a due time in one sorted set, read here.
 */
export class IncidentTicker {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(private readonly o: { incidents: IncidentStore; deliverQueue: Queue; clock: Clock; logger: Logger; tickMs?: number }) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.tick()
        .then(() => undefined)
        .catch((err: Error) => this.o.logger.warn({ err: err.message }, 'incident flushes: Redis command failed; retrying'))
        .finally(() => (this.running = undefined));
    }, this.o.tickMs ?? TICK_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Claims everything due and adds its flush jobs; returns how many. */
  async tick(): Promise<number> {
    let claimed = 0;
    for (;;) {
      const due = await this.o.incidents.claimDue(this.o.clock.now(), CLAIM_AT_ONCE);
      if (due.length) {
        await this.o.deliverQueue.addBulk(
          due.map(({ groupId: id, dueAt }) => ({ name: 'incident', data: { incident: { id } }, opts: { jobId: incidentFlushJobId(id, dueAt) } })),
        );
      }
      claimed += due.length;
      if (due.length < CLAIM_AT_ONCE) return claimed;
    }
  }
}
