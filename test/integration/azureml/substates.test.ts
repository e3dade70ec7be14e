// Azure ML's sub-states through the daemon. A step that stops responding raises one warning alert (a
// steprun.substate event, routed by `steprun.*`), the run page shows "Running (NotResponding)" on its node, and the
// step coming back resolves the alert once; an ordinary sub-state (Finalizing) is recorded but sent nowhere.
import { systemClock } from '../../../src/util/clock';
import type { Daemon } from '../../../src/runtime/daemon';
import type { WatchEvent } from '../../../src/store/events';
import { TrackStore, trackFromRequest } from '../../../src/store/tracks';
import { azureOptions, AzureMlServer, fixture } from '../../support/azureml-server';
import { startDaemon, testConfig } from '../../support/daemon';
import { dropPrefix, testRedis, uniquePrefix } from '../../support/redis';
import { tempDir } from '../../support/tmp';
import { waitFor } from '../../support/wait-for';
import { WebhookReceiver } from '../../support/webhook-receiver';

jest.setTimeout(60_000);

const server = new AzureMlServer();
const hook = new WebhookReceiver();
const redis = testRedis();
const prefix = uniquePrefix('azsub');
let daemon: Daemon;

const sent = () => hook.received.map((r) => (r.json as { data: WatchEvent }).data);
const events = async () => (await redis.xrange(`{${prefix}}:events`, '-', '+')).map(([, f]) => JSON.parse(f[1]!) as WatchEvent);
const setStatus = (runId: string, status: string) => server.addRun({ ...server.runs.get(runId)!, status });

beforeAll(async () => {
  await server.start();
  server.addRun(fixture('pipeline-run'));
  for (const name of ['step-reused', 'step-failed', 'step-running']) server.addRun(fixture(name));
  const url = await hook.start();
  daemon = await startDaemon(
    testConfig({
      prefix,
      dataDir: tempDir('azsub'),
      extra: {
        providers: { prod: azureOptions(server, { maxRequestsPerMinute: 10_000 }) },
        notifiers: { hook: { type: 'webhook', url: `${url}/hook` } },
        routes: [{ match: { type: 'steprun.*' }, notify: ['hook'] }],
        // The fixture's step has been running for days: its stuck alert is another test's business.
        stuck: { enabled: false },
      },
    }),
  );
  await new TrackStore(redis, daemon.keys, systemClock).add(
    trackFromRequest({ provider: 'prod', pipelineRun: 'pipeline_run_1', experiment: 'churn' }, 'cli', Date.now()),
  );
  await waitFor(async () => (await events()).length === 3, { what: 'the three steps’ first events' });
});

afterAll(async () => {
  await daemon.stop();
  await server.close();
  await hook.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

it('NotResponding: one warning through steprun.*, shown on the run page’s node; back to Running resolves it once', async () => {
  setStatus('step_eval_2', 'NotResponding');
  const warning = await waitFor(() => sent().find((e) => e.type === 'steprun.substate'), { timeoutMs: 20_000, what: 'the NotResponding warning' });
  expect(warning).toMatchObject({
    subState: { from: 'Running', to: 'NotResponding' },
    stepRun: { name: 'evaluate', status: 'Running', rawStatus: 'NotResponding' },
    alertKey: 'prod/churn/step/evaluate/NotResponding',
  });
  const alerts = ((await (await fetch(`${daemon.apiUrl}/alerts`)).json()) as { alerts: { key: string }[] }).alerts;
  // Its own alert, beside the failed step's (train): not the step's failure alert.
  expect(alerts.map((a) => a.key).sort()).toEqual(['prod/churn/step/evaluate/NotResponding', 'prod/churn/step/train']);

  const page = await (await fetch(`${daemon.apiUrl}/ui/runs/prod/pipeline_run_1`)).text();
  expect(page).toContain('data-substate="NotResponding"');
  expect(page).toContain('evaluate: Running (NotResponding)');

  setStatus('step_eval_2', 'Running');
  const resolved = await waitFor(() => sent().find((e) => e.type === 'alert.resolved'), { timeoutMs: 20_000, what: 'the resolve' });
  expect(resolved.alert).toMatchObject({ key: warning.alertKey, openedType: 'steprun.substate' });
  // Ordinary sub-states are recorded as events, sent nowhere.
  setStatus('step_eval_2', 'Finalizing');
  await waitFor(async () => (await events()).some((e) => e.subState?.to === 'Finalizing'), { timeoutMs: 20_000, what: 'the Finalizing event' });
  await waitFor(async () => (await redis.xpending(`{${prefix}}:events`, 'dispatch'))[0] === 0, { what: 'the dispatcher caught up' });
  const substates = (await events()).filter((e) => e.type === 'steprun.substate').map((e) => `${e.subState!.from}→${e.subState!.to}`);
  expect(substates).toEqual(['Running→NotResponding', 'NotResponding→Running', 'Running→Finalizing']);
  // Sent: the way in and the way out (they match steprun.*, as a step's failure and finish do) and the resolve, once each.
  const told = sent()
    .filter((e) => e.type === 'alert.resolved' || e.subState)
    .map((e) => (e.subState ? `${e.subState.from}→${e.subState.to}` : e.type))
    .sort();
  expect(told).toEqual(['NotResponding→Running', 'Running→NotResponding', 'alert.resolved']);
});
