// Delivery in worker threads. Node runs a process's JavaScript on one core: at saturation the daemon's one thread
// polls, dispatches and delivers. With `workers.deliverThreads` (default 0; auto: one on four cores or more) the
// delivery worker runs in threads of its own, each a deliver-only Daemon built from the same config: the same BullMQ
// queue, the same Redis claims and records, so a delivery is sent once whichever thread takes it, and a thread that
// dies is restarted (its jobs come back to the queue when their lock expires). Its counts go to this thread's /metrics.
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker as Thread } from 'node:worker_threads';
import type { LoadedConfig } from '../config/load';
import { runsCompiled } from '../util/compiled';
import type { Logger } from '../util/logger';
import { WorkerExitedError } from '../model/errors';

/** What a deliver thread tells the thread that started it. */
export type ThreadMessage =
  | { kind: 'started' }
  | { kind: 'stopped' }
  | { kind: 'failed'; message: string }
  | { kind: 'delivery'; notifier: string; outcome: 'delivered' | 'retry' | 'dead'; latencySeconds?: number };

/** The thread's entry, compiled beside this file. */
const ENTRY = path.join(__dirname, 'deliver-thread-main.js');

/**
 * How many deliver threads: the config's number, or for `auto` one on four cores or more (on two, measured, a thread
 * cost 40 % more CPU per change and delivered no faster: Redis and the daemon's thread want the cores). None when this
 * code runs uncompiled (a thread needs JavaScript: under ts-jest the daemon delivers in its own thread) or when an
 * embedder passed registries of its own (they cannot cross into a thread).
 */
export function deliverThreadCount(config: LoadedConfig, o: { registries?: unknown }): number {
  if (o.registries || !runsCompiled()) return 0;
  const wanted = config.workers.deliverThreads;
  return wanted === 'auto' ? (os.availableParallelism() >= 4 ? 1 : 0) : wanted;
}

export class DeliverThreads {
  private readonly threads = new Set<Thread>();
  private stopping = false;

  constructor(
    private readonly o: {
      config: LoadedConfig;
      count: number;
      logger: Logger;
      onDelivery(m: Extract<ThreadMessage, { kind: 'delivery' }>): void;
    },
  ) {}

  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.o.count }, () => this.spawn()));
  }

  /** Every thread runs (for /readyz). */
  running(): boolean {
    return this.threads.size === this.o.count;
  }

  /** Each thread drains its in-flight jobs and stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.threads].map(
        (thread) =>
          new Promise<void>((resolve) => {
            thread.once('exit', () => resolve());
            thread.postMessage({ kind: 'stop' });
          }),
      ),
    );
  }

  /** Starts one thread; resolves once its daemon runs, rejects with its start-up error. */
  private spawn(): Promise<void> {
    const thread = new Thread(ENTRY, { workerData: { config: this.o.config } });
    this.threads.add(thread);
    return new Promise((resolve, reject) => {
      thread.on('message', (m: ThreadMessage) => {
        if (m.kind === 'delivery') this.o.onDelivery(m);
        else if (m.kind === 'started') resolve();
        else if (m.kind === 'failed') reject(new WorkerExitedError(`deliver thread did not start: ${m.message}`));
      });
      thread.on('error', (err) => this.o.logger.error({ err: err.message }, 'deliver thread failed'));
      thread.on('exit', (code) => {
        this.threads.delete(thread);
        reject(new WorkerExitedError(`deliver thread exited (${code}) before it started`));
        if (this.stopping) return;
        this.o.logger.error({ code }, 'deliver thread exited: starting another');
        const again = () => {
          if (!this.stopping) this.spawn().catch((err: Error) => this.o.logger.error({ err: err.message }, 'deliver thread did not start'));
        };
        setTimeout(again, 1000).unref();
      });
    });
  }
}
