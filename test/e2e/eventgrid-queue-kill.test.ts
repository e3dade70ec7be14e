// Event Grid's pull side on Azurite's queue service. A message is deleted only after its hint is recorded:
// SIGKILL of the daemon between the two, and the message comes back, the hint is seen again, the alert goes out once.
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { QueueClient, StorageSharedKeyCredential } from '@azure/storage-queue';
import { Queue } from 'bullmq';
import { stringify as stringifyYaml } from 'yaml';
import { runsOfMessage } from '../../src/providers/azureml/queue-feed';
import { trackId } from '../../src/store/ids';
import { azureOptions, AzureMlServer, fixture } from '../support/azureml-server';
import { Azurite, DEV_ACCOUNT, DEV_KEY } from '../support/azurite';
import { ProcessGroup, sigkill } from '../support/cli';
import { dropPrefix, REDIS_URL, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';
import { waitFor } from '../support/wait-for';
import { WebhookReceiver } from '../support/webhook-receiver';

const RUN = 'pipe_queue_1';
const STEP = `${RUN}_train`;
const redis = testRedis();
const prefix = uniquePrefix('egqueue');
const dir = tempDir('egqueue');
const azurite = new Azurite('queue');
const server = new AzureMlServer();
const receiver = new WebhookReceiver();
const processes = new ProcessGroup();

/**
 * Between the daemon and Azurite: forwards every request, but holds each DELETE of a message (and tells the test),
 * so that the test can kill the daemon after it received and recorded a message and before the delete lands.
 */
class HoldingProxy {
  readonly heldDeletes: string[] = [];
  holdDeletes = true;
  private server?: http.Server;

  async start(target: number): Promise<number> {
    this.server = http.createServer((req, res) => {
      if (this.holdDeletes && req.method === 'DELETE' && /\/messages\/[^/?]+/.test(req.url ?? '')) {
        this.heldDeletes.push(req.url!);
        return; // never answered: the daemon is killed while it waits
      }
      const upstream = http.request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}

const proxy = new HoldingProxy();
let queue: QueueClient;
let env: NodeJS.ProcessEnv;

/** A RunStatusChanged event for the step, as Event Grid writes it to a storage queue (base64 of the event's JSON). */
function eventMessage(): string {
  const event = {
    topic: '/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.MachineLearningServices/workspaces/ws-1',
    subject: `experiments/0d1c2b3a/runs/${STEP}`,
    eventType: 'Microsoft.MachineLearningServices.RunStatusChanged',
    eventTime: new Date().toISOString(),
    id: 'eg-1',
    data: { experimentName: 'churn', runId: STEP, runType: 'azureml.StepRun', runTags: { 'azureml.pipeline': RUN }, runStatus: 'Failed' },
    dataVersion: '',
    metadataVersion: '1',
  };
  return Buffer.from(JSON.stringify(event)).toString('base64');
}

/** The statuses of the step's transitions the webhook received (every event of the step but stuck alerts). */
function statuses(): string[] {
  return receiver.received
    .map((r) => r.json as { type?: string; data?: { stepRun?: { stepRunId?: string; status?: string } } })
    .filter((e) => e.data?.stepRun?.stepRunId === STEP && !e.type?.endsWith('.stuck'))
    .map((e) => e.data!.stepRun!.status!);
}

beforeAll(async () => {
  await Promise.all([azurite.start(), server.start()]);
  const hookUrl = await receiver.start();
  const proxyPort = await proxy.start(azurite.port);
  queue = new QueueClient(azurite.queueUrl('hints'), new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY));
  await queue.create();
  server.addRun({ ...fixture('pipeline-run'), runId: RUN, rootRunId: RUN, name: RUN });
  // Started now: the recorded start time is a day old, which would (rightly) raise a steprun.stuck too.
  server.addRun({ ...fixture('step-running'), runId: STEP, parentRunId: RUN, startTimeUtc: new Date().toISOString(), tags: { 'azureml.pipeline': RUN } });
  const config = {
    redis: { url: REDIS_URL, prefix },
    providers: {
      prod: azureOptions(server, {
        timeoutMs: 5000,
        changeQueue: { url: `http://127.0.0.1:${proxyPort}/${DEV_ACCOUNT}/hints`, accountKey: DEV_KEY, visibilityTimeoutSeconds: 2, idleWaitMs: 100 },
      }),
    },
    // Polling alone would look again in an hour: what arrives sooner came through the queue.
    poll: { tick: '* * * * * *', minIntervalSeconds: 3600, maxIntervalSeconds: 3600, hints: { debounceMs: 20, minGapMs: 0 } },
    workers: { lockDurationMs: 2000, reclaimIdleMs: 1000 },
    notifiers: { hook: { type: 'webhook', url: hookUrl } },
    routes: [{ match: { type: 'steprun.*' }, notify: ['hook'] }],
    tracks: [{ provider: 'prod', pipelineRun: RUN, experiment: 'churn' }],
    api: { enabled: false },
  };
  await fs.writeFile(path.join(dir, 'config.yaml'), stringifyYaml(config));
  env = { SRW_CONFIG: path.join(dir, 'config.yaml'), SRW_DATA_DIR: path.join(dir, 'data') };
});

afterAll(async () => {
  await processes.killAll();
  await Promise.all([azurite.stop(), server.close(), receiver.close(), proxy.close()]);
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

it('reads the events Event Grid writes, base64-encoded or not', () => {
  const text = Buffer.from(eventMessage(), 'base64').toString('utf8');
  expect(runsOfMessage(eventMessage())).toEqual([{ experiment: 'churn', pipelineRunId: RUN, stepRunId: STEP }]);
  expect(runsOfMessage(text)).toEqual([{ experiment: 'churn', pipelineRunId: RUN, stepRunId: STEP }]);
  expect(runsOfMessage('not an event')).toBeUndefined();
});

it('SIGKILL between recording the hint and deleting the message: the message comes back, the alert goes out once', async () => {
  const a = processes.start(['daemon'], { env });
  await waitFor(() => statuses().includes('Running'), { timeoutMs: 30_000, what: 'the first poll' });

  server.runs.set(STEP, { ...server.runs.get(STEP)!, status: 'Failed', endTimeUtc: new Date().toISOString() });
  await queue.sendMessage(eventMessage());
  // The daemon received the message and recorded its hint (it deletes only after that): kill it before the delete lands.
  await waitFor(() => proxy.heldDeletes.length === 1, { timeoutMs: 30_000, what: 'the delete of the message' });
  // The delete comes only after the hint is recorded: the track is claimed for a hinted poll already.
  expect(await redis.hget(`{${prefix}}:track:${trackId('prod', 'pipeline', RUN)}`, 'hintAt')).not.toBeNull();
  await sigkill(a);
  expect((await queue.getProperties()).approximateMessagesCount).toBe(1);

  // The next daemon: the message is visible again after its timeout, is hinted again, and now deleted.
  proxy.holdDeletes = false;
  processes.start(['daemon'], { env });
  await waitFor(async () => (await queue.getProperties()).approximateMessagesCount === 0, { timeoutMs: 30_000, what: 'the message deleted' });
  await waitFor(() => statuses().includes('Failed'), { timeoutMs: 30_000, what: 'the alert' });
  const polls = new Queue('poll-prod', { connection: redis, prefix: `{${prefix}}` });
  await waitFor(async () => Object.values(await polls.getJobCounts('waiting', 'delayed', 'active', 'prioritized')).every((n) => n === 0), {
    what: 'every hinted poll done',
  });
  await polls.close();
  // Both hints (the killed daemon's and the replayed one) polled: the alert still went out once.
  expect(statuses()).toEqual(['Running', 'Failed']);
});
