// A provider that answers 429, 500s, garbage and too late: that track backs off and recovers, the others are not delayed.
import { azureOptions, AzureMlServer, fixture } from '../../support/azureml-server';
import { FaultRig } from '../../support/fault-rig';
import { waitFor } from '../../support/wait-for';

const rig = new FaultRig();
afterAll(async () => rig.close());

describe('provider faults', () => {
  it('a provider answering 429, 500s, garbage and too late: that track backs off and recovers; another track is not delayed', async () => {
    const server = new AzureMlServer();
    await server.start();
    server.pageSize = 100;
    server.addRun(fixture('pipeline-run'));
    server.addRun(fixture('step-running'));
    server.addRun({ ...fixture('pipeline-run'), runId: 'healthy_run' });
    server.addRun({ ...fixture('step-running'), runId: 'healthy_step', parentRunId: 'healthy_run', displayName: 'h' });
    const bad = /runs\/pipeline_run_1\/children$/;
    server.faults.push(
      { match: bad, status: 429, headers: { 'retry-after': '1' }, times: 4 },
      { match: bad, status: 500, times: 4 },
      { match: bad, status: 200, body: '{"value": [{"runId": ', times: 2 },
      { match: bad, status: 200, body: '{}', delayMs: 1500, times: 4 },
    );
    const { daemon, keys } = await rig.daemonWith({
      providers: {
        local: { type: 'local' },
        prod: azureOptions(server, { timeoutMs: 800 }),
      },
      poll: { tick: '* * * * * *', minIntervalSeconds: 0.2, maxIntervalSeconds: 3, errorAfterFailures: 2, concurrency: 4 },
    });
    try {
      const started = Date.now();
      await rig.trackRun(keys, { provider: 'prod', pipelineRun: 'pipeline_run_1', labels: { which: 'faulty' } });
      await rig.trackRun(keys, { provider: 'prod', pipelineRun: 'healthy_run', labels: { which: 'healthy' } });
      await waitFor(async () => (await rig.events(keys)).some((e) => e.labels.which === 'healthy'), { timeoutMs: 10000, what: 'the healthy track' });
      const healthyAfter = Date.now() - started;
      expect(healthyAfter).toBeLessThan(5000);
      await waitFor(async () => (await rig.events(keys)).some((e) => e.labels.which === 'faulty' && e.type === 'steprun.running'), {
        timeoutMs: 60000,
        what: 'the faulty track recovering',
      });
      const faulty = (await rig.events(keys)).filter((e) => e.labels.which === 'faulty');
      expect(faulty.filter((e) => e.type === 'track.error')).toHaveLength(1);
      expect(faulty.filter((e) => e.type === 'steprun.running')).toHaveLength(1);
      expect(server.faults.every((f) => (f.times ?? 0) === 0)).toBe(true);
      expect(await daemon.ready()).toBe(true);
    } finally {
      await daemon.stop();
      await server.close();
    }
  });
});
