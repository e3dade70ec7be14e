// The provider conformance suite: what the watcher and the object model rely on from any RunProvider, runnable by a
// plugin's own tests (any test runner). It reads only: it needs one ended pipeline run the provider can see.
import { ConformanceError, isSrwError } from '../model/errors';
import { STATUSES, isTerminal } from '../model/status';
import type { PipelineRunSnapshot, RunProvider, StepRunSnapshot } from '../model/provider';
import { conformanceRun, type ConformanceReport } from './report';

/** A pipeline run that exists in the provider and has ended, with at least one step run. */
export interface KnownRun {
  experiment: string;
  pipelineRunId: string;
}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ConformanceError(message);
}

function checkRunState(s: { status: string; rawStatus: unknown }, what: string): void {
  assert((STATUSES as readonly string[]).includes(s.status), `${what}: status "${s.status}" is not one of ${STATUSES.join(', ')}`);
  assert(typeof s.rawStatus === 'string' && s.rawStatus !== '', `${what}: rawStatus must be the service's own status text`);
}

function checkStep(s: StepRunSnapshot, known: KnownRun): void {
  const what = `step run ${s.stepRunId}`;
  for (const field of ['stepRunId', 'name', 'nodeId'] as const) assert(typeof s[field] === 'string' && s[field] !== '', `${what}: ${field} missing`);
  assert(s.pipelineRunId === known.pipelineRunId, `${what}: pipelineRunId "${s.pipelineRunId}", expected "${known.pipelineRunId}"`);
  assert(s.experiment === known.experiment, `${what}: experiment "${s.experiment}", expected "${known.experiment}"`);
  assert(typeof s.isReused === 'boolean', `${what}: isReused must be a boolean`);
  assert(Array.isArray(s.outputNames) && Array.isArray(s.logNames), `${what}: outputNames and logNames must be arrays`);
  checkRunState(s, what);
}

async function expectNotFound(call: () => Promise<unknown>, what: string): Promise<void> {
  try {
    await call();
  } catch (err) {
    assert(isSrwError(err) && err.code === 'SRW_RUN_NOT_FOUND', `${what}: threw ${(err as Error).message}, not RunNotFoundError`);
    return;
  }
  throw new ConformanceError(`${what}: answered for a run that does not exist`);
}

/**
 * Runs the checks against `provider`, reading the ended pipeline run `known`: locating runs by id, snapshots with
 * normalized statuses, listings that agree with single reads, oldest-first experiment listings, RunNotFoundError for
 * an unknown id, logs, outputs, links, and close() twice. Returns what passed and what failed; it throws nothing.
 */
export async function checkProvider(provider: RunProvider, known: KnownRun, o: { timeoutMs?: number } = {}): Promise<ConformanceReport> {
  const { report, check } = conformanceRun(o.timeoutMs);
  const ref = { experiment: known.experiment, pipelineRunId: known.pipelineRunId };
  let steps: StepRunSnapshot[] = [];
  let pipeline: PipelineRunSnapshot | undefined;

  await check('it has a kind', async () => assert(typeof provider.kind === 'string' && provider.kind !== '', 'kind missing'));
  await check('locateRun finds the pipeline run', async () => {
    const at = await provider.locateRun(known.pipelineRunId);
    assert(at.kind === 'pipeline' && at.pipelineRunId === known.pipelineRunId, `located as ${JSON.stringify(at)}`);
    // The experiment may come back as the service's own id for it (Azure ML's run DTO has the experiment id, not
    // its name): what matters is that the location reads the run.
    assert(at.experiment !== '', 'no experiment');
    const listing = await provider.listStepRuns({ experiment: at.experiment, pipelineRunId: at.pipelineRunId });
    assert(listing.steps.length > 0, `the run has no steps when read with experiment "${at.experiment}"`);
  });
  await check('getPipelineRun answers an ended run with a normalized status', async () => {
    pipeline = await provider.getPipelineRun(ref);
    assert(pipeline.pipelineRunId === known.pipelineRunId, `pipelineRunId "${pipeline.pipelineRunId}"`);
    checkRunState(pipeline, 'pipeline run');
    assert(isTerminal(pipeline.status), `the known run must have ended; it is ${pipeline.status}`);
  });
  await check('listStepRuns lists every step with its fields', async () => {
    const listing = await provider.listStepRuns(ref);
    assert(Array.isArray(listing.unreadable), 'unreadable must be an array (empty when every step could be read)');
    steps = listing.steps;
    assert(steps.length > 0, 'the known run must have at least one step run');
    for (const s of steps) checkStep(s, known);
    assert(new Set(steps.map((s) => s.stepRunId)).size === steps.length, 'a step run is listed twice');
  });
  await check('getStepRun agrees with the listing', async () => {
    for (const listed of steps) {
      const one = await provider.getStepRun({ ...ref, stepRunId: listed.stepRunId });
      checkStep(one, known);
      assert(one.status === listed.status && one.name === listed.name, `${listed.stepRunId}: listed ${listed.status}, read ${one.status}`);
    }
  });
  await check('locateRun finds a step run with its pipeline run', async () => {
    const step = steps[0];
    assert(step, 'no step run listed');
    const at = await provider.locateRun(step.stepRunId);
    assert(at.kind === 'step' && at.stepRunId === step.stepRunId && at.pipelineRunId === known.pipelineRunId, `located as ${JSON.stringify(at)}`);
  });
  await check('listPipelineRuns includes the run, oldest first', async () => {
    const runs = await provider.listPipelineRuns({ experiment: known.experiment }, { since: new Date(0) });
    assert(
      runs.some((r) => r.pipelineRunId === known.pipelineRunId),
      `${known.pipelineRunId} not among ${runs.length} runs`,
    );
    const created = runs.map((r) => (r.createdTime ? Date.parse(r.createdTime) : NaN)).filter((t) => Number.isFinite(t));
    assert(
      created.every((t, i) => i === 0 || t >= created[i - 1]!),
      'runs are not listed oldest first',
    );
  });
  await check('an unknown run id is RunNotFoundError', async () => {
    const unknown = `srw_conformance_missing_${Date.now()}`;
    await expectNotFound(() => provider.locateRun(unknown), 'locateRun');
    await expectNotFound(() => provider.getStepRun({ ...ref, stepRunId: unknown }), 'getStepRun');
  });
  await check('readLog returns text, and at most the tail asked for', async () => {
    const step = steps.find((s) => s.logNames.length > 0) ?? steps[0];
    assert(step, 'no step run listed');
    for (const which of ['stdout', 'stderr', 'job'] as const) {
      const text = await provider.readLog({ ...ref, stepRunId: step.stepRunId }, which);
      assert(typeof text === 'string', `${which}: not a string`);
      const tail = await provider.readLog({ ...ref, stepRunId: step.stepRunId }, which, { tailBytes: 16 });
      assert(Buffer.byteLength(tail) <= 16 && text.endsWith(tail), `${which}: the tail is not the end of the log`);
    }
  });
  await check('listOutputs names only outputs the snapshot lists', async () => {
    for (const step of steps) {
      const outputs = await provider.listOutputs({ ...ref, stepRunId: step.stepRunId });
      for (const out of outputs) {
        assert(step.outputNames.includes(out.name), `${step.stepRunId}: output "${out.name}" is not in outputNames`);
        assert(out.stepRunId === step.stepRunId && out.pipelineRunId === known.pipelineRunId, `${out.name}: belongs to another run`);
      }
    }
  });
  await check('linksFor (when offered) gives absolute URLs', async () => {
    for (const link of provider.linksFor?.({ pipelineRunId: known.pipelineRunId, stepRunId: steps[0]?.stepRunId }) ?? []) {
      assert(link.label && /^(https?|file):\/\//.test(link.url), `link ${JSON.stringify(link)}`);
    }
  });
  await check('close() may be called twice', async () => {
    await provider.close?.();
    await provider.close?.();
  });
  return report;
}
