// The record files of the local run store and their validation: a corrupt file is named, never half-read.
import { z } from 'zod';
import { readFileSync } from 'node:fs';
import { RecordCorruptError, RunNotFoundError } from '../../model/errors';
import { STATUSES } from '../../model/status';

const statusSchema = z.enum(STATUSES as unknown as [string, ...string[]]);
const errorSchema = z.object({ code: z.string(), message: z.string() });
const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not an ISO time');

export const pipelineRecordSchema = z.object({
  schema: z.literal(1),
  pipelineRunId: z.string(),
  experiment: z.string(),
  createdTime: isoTime,
  startTime: isoTime.optional(),
  endTime: isoTime.optional(),
  /** null while the run is open (made by `exec`): its status is then derived from its steps. */
  status: statusSchema.nullable(),
  error: errorSchema.optional(),
  source: z.enum(['run', 'exec']),
  /** The pipeline's name (the pipeline file's, for `run`): the same across its runs. */
  name: z.string().optional(),
  steps: z.array(z.string()).optional(),
});

export const stepRecordSchema = z.object({
  schema: z.literal(1),
  stepRunId: z.string(),
  pipelineRunId: z.string(),
  experiment: z.string(),
  nodeId: z.string(),
  name: z.string(),
  status: statusSchema,
  rawStatus: z.string(),
  createdTime: isoTime,
  startTime: isoTime.optional(),
  endTime: isoTime.optional(),
  error: errorSchema.optional(),
  command: z.string(),
  exitCode: z.number().int().nullable().optional(),
  isReused: z.boolean(),
  currentNodeId: z.string().optional(),
  reusedRunId: z.string().optional(),
  reusedNodeId: z.string().optional(),
  reusedPipelineRunId: z.string().optional(),
  /** The steps (by name) this one waits for, from the pipeline file (`run`); none for `exec`. */
  needs: z.array(z.string()).optional(),
  /** Output name -> declared path; captured files live in the step's outputs/<name>/ folder. */
  outputs: z.record(z.string(), z.string()),
});

export type PipelineRecord = z.infer<typeof pipelineRecordSchema> & { status: import('../../model/status').StepStatus | null };
export type StepRecord = z.infer<typeof stepRecordSchema> & { status: import('../../model/status').StepStatus };

/**
 * Reads and validates one record file; a missing file is an unknown run, anything unreadable is corrupt.
 * The read is synchronous: a record is a small local file, and polls read thousands of them a second, where
 * fs.promises.readFile costs five times the CPU (docs/PERFORMANCE.md).
 */
export async function readRecord<T>(file: string, schema: z.ZodType<T>, runId: string): Promise<T> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new RunNotFoundError(runId);
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new RecordCorruptError(file, 'not valid JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RecordCorruptError(file, `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
