// The one wait loop behind StepRun.waitForCompletion and PipelineRun.waitForCompletion.
import { StepFailedError, WaitTimeoutError } from './errors';
import { isTerminal, Status, type StepStatus } from './status';

export interface WaitOptions {
  /** Print status changes (and, for a step, new log lines) to stdout. Default true, as in the seed. */
  showOutput?: boolean;
  /** Give up after this many seconds with a WaitTimeoutError. Default: wait forever. */
  timeoutSeconds?: number;
  /** Throw StepFailedError when the run ends Failed. Default true. */
  raiseOnError?: boolean;
  /** Poll interval; defaults to the workspace's. */
  pollIntervalMs?: number;
  /** Where showOutput writes (default process.stdout). */
  output?: NodeJS.WritableStream;
  signal?: AbortSignal;
}

export interface WaitTarget {
  runId: string;
  poll(): Promise<{ status: StepStatus; rawStatus: string; error?: { code: string; message: string } }>;
  /** New log text since the last call, for showOutput. */
  newOutput?(): Promise<string>;
}

export async function waitUntilTerminal(target: WaitTarget, o: WaitOptions & { pollIntervalMs: number }): Promise<StepStatus> {
  const showOutput = o.showOutput ?? true;
  const out = o.output ?? process.stdout;
  const deadline = o.timeoutSeconds !== undefined && Number.isFinite(o.timeoutSeconds) ? Date.now() + o.timeoutSeconds * 1000 : Infinity;
  let last: string | undefined;
  for (;;) {
    const seen = await target.poll();
    if (showOutput) {
      if (seen.rawStatus !== last) out.write(`${target.runId}: ${seen.status}${seen.rawStatus !== seen.status ? ` (${seen.rawStatus})` : ''}\n`);
      const text = target.newOutput ? await target.newOutput() : '';
      if (text) out.write(text);
    }
    last = seen.rawStatus;
    if (isTerminal(seen.status)) {
      if (seen.status === Status.Failed && (o.raiseOnError ?? true)) throw new StepFailedError(target.runId, seen.error);
      return seen.status;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new WaitTimeoutError(target.runId, o.timeoutSeconds ?? 0, seen.status);
    await sleep(Math.min(o.pollIntervalMs, remaining), o.signal);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
