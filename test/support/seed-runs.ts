// Seeded local pipeline runs: records written to a local run store as `run` would write them, with no process behind
// them — fixtures for the tests and the benchmarks alike.
import { Status, type StepStatus } from '../../src/model/status';
import type { StepRecord } from '../../src/providers/local/records';
import { nodeIdFor } from '../../src/providers/local/store';

/** The record of step `s` of a seeded pipeline run, as the local store keeps it (no process behind it). */
export function seededStep(experiment: string, pipelineRunId: string, s: number, status: StepStatus, at: Date): StepRecord {
  return {
    schema: 1,
    stepRunId: `${pipelineRunId}_s${s}`,
    pipelineRunId,
    experiment,
    nodeId: nodeIdFor(experiment, `step${s}`),
    name: `step${s}`,
    status,
    rawStatus: status,
    createdTime: at.toISOString(),
    startTime: at.toISOString(),
    ...(status === Status.Finished ? { endTime: at.toISOString() } : {}),
    command: 'bench',
    isReused: false,
    outputs: {},
  };
}

/** A pipeline run of `steps` steps, all in `status`, written to a local run store as `run` would (no process behind it). */
export async function seedRun(
  store: { createPipeline(r: object): Promise<boolean>; writeStep(r: StepRecord): Promise<void> },
  o: { experiment: string; pipelineRunId: string; steps?: number; status?: StepStatus; at?: Date },
): Promise<StepRecord[]> {
  const at = o.at ?? new Date();
  await store.createPipeline({
    schema: 1,
    pipelineRunId: o.pipelineRunId,
    experiment: o.experiment,
    createdTime: at.toISOString(),
    status: Status.Running,
    source: 'run',
  });
  const records = Array.from({ length: o.steps ?? 1 }, (_, s) => seededStep(o.experiment, o.pipelineRunId, s, o.status ?? Status.Running, at));
  await Promise.all(records.map((r) => store.writeStep(r)));
  return records;
}
