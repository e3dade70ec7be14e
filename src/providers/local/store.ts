// The local run store's layout on disk, its ids, and its atomic reads and writes (see docs/PROVIDERS.md).
import { randomBytes, createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createFileExclusive, writeJsonAtomic } from '../../fs/atomic';
import { AlreadyExistsError, InvalidInputError, isSrwError, RecordCorruptError, RunNotFoundError, type SrwError } from '../../model/errors';
import { noteChange } from './change-feed';
import { pipelineRecordSchema, readRecord, stepRecordSchema, type PipelineRecord, type StepRecord } from './records';

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Run ids and experiment names become folder names: only safe characters get in. */
export function assertValidId(value: string, what: string): string {
  if (!ID_PATTERN.test(value)) {
    throw new InvalidInputError(`${what} "${value}" is not valid: use 1-128 letters, digits, '.', '_' or '-'`);
  }
  return value;
}

export function newPipelineRunId(experiment: string, now: Date): string {
  const slug = experiment.replace(/[^A-Za-z0-9]+/g, '_').slice(0, 40);
  return `${slug}_${Math.floor(now.getTime() / 1000)}_${randomBytes(3).toString('hex')}`;
}

export function newStepRunId(): string {
  return `s_${randomBytes(8).toString('hex')}`;
}

/** A node id is stable for a step name within an experiment's graph, as Azure ML's are per node. */
export function nodeIdFor(experiment: string, stepName: string): string {
  return createHash('sha256').update(`${experiment}\0${stepName}`).digest('hex').slice(0, 8);
}

export const LOG_FILES = { stdout: 'stdout.log', stderr: 'stderr.log', job: 'job.log' } as const;

/**
 * runs/
 *   pipelines/<pipelineRunId>/pipeline.json
 *   pipelines/<pipelineRunId>/steps/<stepRunId>/{step.json,stdout.log,stderr.log,job.log,outputs/<name>/}
 *   experiments/<experiment>/<createdMs>__<pipelineRunId>     empty marker: lists an experiment's runs by time
 *   index/<stepRunId>                                          holds the step's pipeline run id
 *   reuse/<experiment>/<fingerprint>.json                      the Finished step a reusable step can reuse
 *   changes/<experiment>@<pipelineRunId>                       touched on every write of the run: the change feed
 */
export class RunStore {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  pipelineDir(pipelineRunId: string): string {
    return path.join(this.root, 'pipelines', assertValidId(pipelineRunId, 'pipeline run id'));
  }

  stepDir(pipelineRunId: string, stepRunId: string): string {
    return path.join(this.pipelineDir(pipelineRunId), 'steps', assertValidId(stepRunId, 'step run id'));
  }

  outputsDir(pipelineRunId: string, stepRunId: string): string {
    return path.join(this.stepDir(pipelineRunId, stepRunId), 'outputs');
  }

  logFile(pipelineRunId: string, stepRunId: string, which: keyof typeof LOG_FILES): string {
    return path.join(this.stepDir(pipelineRunId, stepRunId), LOG_FILES[which]);
  }

  reuseFile(experiment: string, fingerprint: string): string {
    return path.join(this.root, 'reuse', assertValidId(experiment, 'experiment'), `${fingerprint}.json`);
  }

  /** Creates a pipeline run record; false when one with that id exists already. */
  async createPipeline(record: PipelineRecord): Promise<boolean> {
    assertValidId(record.experiment, 'experiment');
    const created = await createFileExclusive(path.join(this.pipelineDir(record.pipelineRunId), 'pipeline.json'), JSON.stringify(record, null, 2) + '\n');
    if (created) {
      const marker = `${String(Date.parse(record.createdTime)).padStart(15, '0')}__${record.pipelineRunId}`;
      await createFileExclusive(path.join(this.root, 'experiments', record.experiment, marker), '');
      await noteChange(this.root, record.experiment, record.pipelineRunId);
    }
    return created;
  }

  /** Creates a pipeline run that must be new (`run --run-id`). */
  async createNewPipeline(record: PipelineRecord): Promise<void> {
    if (!(await this.createPipeline(record))) {
      throw new AlreadyExistsError(`pipeline run ${record.pipelineRunId} exists already`);
    }
  }

  async writePipeline(record: PipelineRecord): Promise<void> {
    await writeJsonAtomic(path.join(this.pipelineDir(record.pipelineRunId), 'pipeline.json'), record);
    await noteChange(this.root, record.experiment, record.pipelineRunId);
  }

  async readPipeline(pipelineRunId: string): Promise<PipelineRecord> {
    assertValidId(pipelineRunId, 'pipeline run id');
    return (await readRecord(path.join(this.pipelineDir(pipelineRunId), 'pipeline.json'), pipelineRecordSchema, pipelineRunId)) as PipelineRecord;
  }

  async writeStep(record: StepRecord): Promise<void> {
    await writeJsonAtomic(path.join(this.stepDir(record.pipelineRunId, record.stepRunId), 'step.json'), record);
    await createFileExclusive(path.join(this.root, 'index', record.stepRunId), record.pipelineRunId);
    await noteChange(this.root, record.experiment, record.pipelineRunId);
  }

  async readStep(stepRunId: string, pipelineRunId?: string): Promise<StepRecord> {
    const pipeline = pipelineRunId ?? (await this.pipelineOfStep(stepRunId));
    return (await readRecord(path.join(this.stepDir(pipeline, stepRunId), 'step.json'), stepRecordSchema, stepRunId)) as StepRecord;
  }

  async pipelineOfStep(stepRunId: string): Promise<string> {
    assertValidId(stepRunId, 'step run id');
    try {
      return fs.readFileSync(path.join(this.root, 'index', stepRunId), 'utf8').trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new RunNotFoundError(stepRunId);
      throw err;
    }
  }

  async isStep(runId: string): Promise<boolean> {
    return fileExists(path.join(this.root, 'index', assertValidId(runId, 'run id')));
  }

  /**
   * Every step record of a pipeline run, in creation order (a folder listing, one read per step). A record
   * that cannot be read is returned apart with its error: it must not hide its siblings.
   */
  async readSteps(
    pipelineRunId: string,
    /** The pipeline record when the caller has just read it (it orders the steps). */
    known?: PipelineRecord,
  ): Promise<{ steps: StepRecord[]; unreadable: { stepRunId: string; error: SrwError }[] }> {
    const pipeline = known ?? (await this.readPipeline(pipelineRunId)); // unknown pipeline run -> RunNotFoundError
    const dir = path.join(this.pipelineDir(pipelineRunId), 'steps');
    const names = await listDir(dir);
    const steps: StepRecord[] = [];
    const unreadable: { stepRunId: string; error: SrwError }[] = [];
    for (const name of names) {
      try {
        steps.push(await this.readStep(name, pipelineRunId));
      } catch (err) {
        // A step folder whose record is not written yet (exec between mkdir and rename) is not a step yet.
        const code = (err as { code?: string }).code;
        if (code === 'SRW_RUN_NOT_FOUND') continue;
        unreadable.push({ stepRunId: name, error: isSrwError(err) ? err : new RecordCorruptError(path.join(dir, name, 'step.json'), (err as Error).message) });
      }
    }
    // A pipeline file's steps in the file's order (they are recorded in one millisecond); `exec` steps by creation.
    const order = new Map((pipeline.steps ?? []).map((name, i) => [name, i]));
    const rank = (s: StepRecord) => order.get(s.name) ?? order.size;
    steps.sort((a, b) => rank(a) - rank(b) || a.createdTime.localeCompare(b.createdTime) || a.stepRunId.localeCompare(b.stepRunId));
    return { steps, unreadable };
  }

  /** Pipeline run ids of an experiment created at or after `sinceMs`, oldest first. */
  async pipelineIdsOf(experiment: string, sinceMs = 0): Promise<string[]> {
    return (await this.pipelineMarkersOf(experiment, sinceMs)).map((m) => m.pipelineRunId);
  }

  /** The experiment's run markers (id and creation time, no record read) created at or after `sinceMs`, oldest first. */
  async pipelineMarkersOf(experiment: string, sinceMs = 0): Promise<{ pipelineRunId: string; createdMs: number }[]> {
    assertValidId(experiment, 'experiment');
    const markers = await listDir(path.join(this.root, 'experiments', experiment));
    return markers
      .map((m) => /^(\d{15})__(.+)$/.exec(m))
      .filter((m): m is RegExpExecArray => m !== null && Number(m[1]) >= sinceMs)
      .sort((a, b) => a[1]!.localeCompare(b[1]!))
      .map((m) => ({ pipelineRunId: m[2]!, createdMs: Number(m[1]) }));
  }
}

// Synchronous reads, as in records.ts: small local folders, listed on every poll.
async function listDir(dir: string): Promise<string[]> {
  try {
    return fs.readdirSync(dir).filter((n) => !n.startsWith('.'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function fileExists(file: string): Promise<boolean> {
  return fs.existsSync(file);
}
