// Where the daemon's polls read local run records: in a thread of their own. A poll of a changed run lists a folder
// and reads, parses and validates a file per step; on the event loop those reads were a sixth of the daemon's thread
// at saturation (docs/PERFORMANCE.md), time taken from dispatch and delivery. The thread takes one message per
// pipeline run, not per file (fs.promises costs four thread-pool trips per file: why the reads were synchronous).
// Errors cross as their code and message (a structured clone keeps neither code nor class) and are made again here.
import * as path from 'node:path';
import { Worker as Thread } from 'node:worker_threads';
import { isSrwError, RunNotFoundError, SrwError, WorkerExitedError } from '../../model/errors';
import type { ErrorCode } from '../../model/error-catalogue';
import { runsCompiled } from '../../util/compiled';
import type { PipelineRecord } from './records';
import type { RunStore } from './store';

export type StepListing = Awaited<ReturnType<RunStore['readSteps']>>;

/** What a poll reads of a pipeline run: the store itself, or the same reads done in a thread. */
export interface RecordReader {
  readonly root: string;
  readPipeline(pipelineRunId: string): Promise<PipelineRecord>;
  readSteps(pipelineRunId: string, known?: PipelineRecord): Promise<StepListing>;
  close?(): Promise<void>;
}

/** An error as it crosses the thread. */
export interface WireError {
  message: string;
  code?: string;
  retryable?: boolean;
  runId?: string;
  srw: boolean;
}

export interface ReadRequest {
  id: number;
  op: 'pipeline' | 'steps';
  pipelineRunId: string;
  known?: PipelineRecord;
}

export interface ReadReply {
  id: number;
  value?: PipelineRecord | WireListing;
  error?: WireError;
}

export interface WireListing {
  steps: StepListing['steps'];
  unreadable: { stepRunId: string; error: WireError }[];
}

export function toWire(err: unknown): WireError {
  const e = err as Error & { code?: string; runId?: string };
  if (isSrwError(err)) return { message: err.message, code: err.code, retryable: err.retryable, runId: e.runId, srw: true };
  return { message: e?.message ?? String(err), code: typeof e?.code === 'string' ? e.code : undefined, srw: false };
}

export function fromWire(w: WireError): Error {
  // A system error the thread met (ENOENT, EACCES) comes back in Node's shape, its code kept: callers test it.
  if (!w.srw) return Object.assign(new Error(w.message), w.code ? { code: w.code } : {});
  if (w.code === 'SRW_RUN_NOT_FOUND' && w.runId !== undefined) return new RunNotFoundError(w.runId);
  return new SrwError(w.code as ErrorCode, w.message, { retryable: w.retryable });
}

/** The thread's entry, compiled beside this file. */
const ENTRY = path.join(__dirname, 'record-reader-main.js');

/** A thread needs JavaScript: under ts-jest the reads stay on the calling thread. */
export const canReadInThread = runsCompiled;

/**
 * The reads in one worker thread, started at once: it takes ~0.1 s to load, which would otherwise delay the first
 * polls after a restart. It holds the process open only while a read is pending; a thread that dies fails the reads
 * it had (the polls are retried) and the next read starts another.
 */
export class ThreadedReader implements RecordReader {
  private thread?: Thread;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
  private nextId = 0;

  constructor(readonly root: string) {
    this.thread = this.start();
  }

  async readPipeline(pipelineRunId: string): Promise<PipelineRecord> {
    return (await this.ask({ op: 'pipeline', pipelineRunId })) as PipelineRecord;
  }

  async readSteps(pipelineRunId: string, known?: PipelineRecord): Promise<StepListing> {
    const listing = (await this.ask({ op: 'steps', pipelineRunId, known })) as WireListing;
    return { steps: listing.steps, unreadable: listing.unreadable.map((u) => ({ stepRunId: u.stepRunId, error: fromWire(u.error) as SrwError })) };
  }

  async close(): Promise<void> {
    const thread = this.thread;
    this.thread = undefined;
    this.failPending(new WorkerExitedError('the record reader was closed'));
    await thread?.terminate();
  }

  private ask(request: Omit<ReadRequest, 'id'>): Promise<unknown> {
    const thread = (this.thread ??= this.start());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) thread.ref();
      this.pending.set(id, { resolve, reject });
      thread.postMessage({ id, ...request } satisfies ReadRequest);
    });
  }

  private start(): Thread {
    const thread = new Thread(ENTRY, { workerData: { root: this.root } });
    thread.unref();
    thread.on('message', (reply: ReadReply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) thread.unref();
      if (reply.error) waiting.reject(fromWire(reply.error));
      else waiting.resolve(reply.value);
    });
    const lost = (err: Error) => {
      if (this.thread !== thread) return;
      this.thread = undefined;
      this.failPending(err);
    };
    thread.on('error', lost);
    thread.on('exit', (code) => lost(new WorkerExitedError(`the record reader thread exited (code ${code})`)));
    return thread;
  }

  private failPending(err: Error): void {
    for (const { reject } of this.pending.values()) reject(err);
    this.pending.clear();
  }
}
