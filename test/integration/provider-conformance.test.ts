// The provider conformance suite — both built-in providers pass it (local on real runs, azureml on the
// documented REST API), and a provider that breaks the contract is told which check it failed.
import * as path from 'node:path';
import { checkProvider, type RunProvider } from '../../src';
import { AzureMlProvider } from '../../src/providers/azureml/provider';
import { parseAzureMlOptions } from '../../src/providers/azureml/options';
import { LocalProvider } from '../../src/providers/local/provider';
import { azureOptions, AzureMlServer, fixture } from '../support/azureml-server';
import { runPipelineText } from '../support/local-runs';
import { tempDir } from '../support/tmp';

describe('provider conformance', () => {
  it('local passes on a pipeline run it ran', async () => {
    const dir = tempDir('conf-local');
    const provider = new LocalProvider({ root: path.join(dir, 'runs') });
    const run = await runPipelineText(
      provider.store,
      `experiment: conformance
steps:
  - name: prepare
    run: echo preparing; echo warn >&2; mkdir -p out && echo 1 > out/data.csv
    outputs: { data: out/data.csv }
  - name: train
    needs: [prepare]
    run: echo training; exit 3
`,
      dir,
    );
    const report = await checkProvider(provider, { experiment: 'conformance', pipelineRunId: run.pipelineRunId });
    expect(report.failed).toEqual([]);
    expect(report.passed.length).toBe(12);
  });

  it('azureml passes against the documented REST API', async () => {
    const server = new AzureMlServer();
    await server.start();
    try {
      // The same recorded runs as the provider's tests, ended: the suite reads an ended pipeline run.
      server.addRun({ ...fixture('pipeline-run'), status: 'Failed' });
      for (const name of ['step-reused', 'step-failed']) server.addRun(fixture(name));
      server.addRun({ ...fixture('step-running'), status: 'Canceled' });
      server.logs.set('step_train_2/user_logs/std_log.txt', 'epoch 1\nTraceback (most recent call last):\nValueError: bad shape\n');
      const provider = new AzureMlProvider(parseAzureMlOptions(azureOptions(server, { timeoutMs: 5000 }), 'prod'));
      const report = await checkProvider(provider, { experiment: 'churn', pipelineRunId: 'pipeline_run_1' });
      expect(report.failed).toEqual([]);
      expect(report.passed.length).toBe(12);
    } finally {
      await server.close();
    }
  });

  it('a provider that breaks the contract is told which checks failed, and why', async () => {
    const dir = tempDir('conf-broken');
    const local = new LocalProvider({ root: path.join(dir, 'runs') });
    const run = await runPipelineText(local.store, 'experiment: conformance\nsteps:\n  - name: only\n    run: echo ok\n', dir);
    // Says "Done" instead of a normalized status, and answers for runs that do not exist.
    const broken: RunProvider = {
      ...local,
      kind: 'broken',
      getStepRun: async (ref) => ({ ...(await local.getStepRun(ref)), status: 'Done' as never }),
      getPipelineRun: (ref) => local.getPipelineRun(ref),
      listStepRuns: (ref) => local.listStepRuns(ref),
      listPipelineRuns: (exp, opts) => local.listPipelineRuns(exp, opts),
      locateRun: async (id) => ({ kind: 'pipeline', experiment: 'conformance', pipelineRunId: id }),
      readLog: (ref, which, opts) => local.readLog(ref, which, opts),
      listOutputs: (ref) => local.listOutputs(ref),
      download: (out, to, opts) => local.download(out, to, opts),
    };
    const report = await checkProvider(broken, { experiment: 'conformance', pipelineRunId: run.pipelineRunId });
    expect(report.failed.map((f) => f.check)).toEqual([
      'getStepRun agrees with the listing',
      'locateRun finds a step run with its pipeline run',
      'an unknown run id is RunNotFoundError',
    ]);
    expect(report.failed[0]!.error).toMatch(/status "Done" is not one of/);
  });
});
