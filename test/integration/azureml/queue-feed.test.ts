// The Storage Queue feed on Azurite's queue service: a receive's messages reach the hint router together (it gathers
// what arrives together into one call), and each message is deleted once its own hints are recorded.
import { QueueClient, StorageSharedKeyCredential } from '@azure/storage-queue';
import type { ChangedRun } from '../../../src/model/provider';
import { watchQueue } from '../../../src/providers/azureml/queue-feed';
import { Azurite, DEV_ACCOUNT, DEV_KEY } from '../../support/azurite';
import { waitFor } from '../../support/wait-for';

const azurite = new Azurite('queue');
const MESSAGES = 10;

beforeAll(async () => {
  await azurite.start();
});
afterAll(async () => {
  await azurite.stop();
});

/** A RunStatusChanged event for step `i` of one run, as Event Grid writes it to a storage queue (base64 JSON). */
function eventMessage(i: number): string {
  const event = {
    topic: '/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.MachineLearningServices/workspaces/ws-1',
    subject: `experiments/0d1c2b3a/runs/run_${i}_train`,
    eventType: 'Microsoft.MachineLearningServices.RunStatusChanged',
    eventTime: new Date().toISOString(),
    id: `eg-${i}`,
    data: { experimentName: 'churn', runId: `run_${i}_train`, runType: 'azureml.StepRun', runTags: { 'azureml.pipeline': `run_${i}` }, runStatus: 'Failed' },
    dataVersion: '',
    metadataVersion: '1',
  };
  return Buffer.from(JSON.stringify(event)).toString('base64');
}

it("hands a receive's messages over together, and deletes each once its hints are recorded", async () => {
  const url = azurite.queueUrl('together');
  const queue = new QueueClient(url, new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY));
  await queue.create();
  for (let i = 0; i < MESSAGES; i++) await queue.sendMessage(eventMessage(i));

  // Each hint is recorded only once every message's hint has arrived: handled one at a time, the first never would be.
  const arrived: ChangedRun[] = [];
  let recordAll!: () => void;
  const allArrived = new Promise<void>((resolve) => (recordAll = resolve));
  const errors: Error[] = [];
  const stop = await watchQueue(
    { url, accountKey: DEV_KEY, visibilityTimeoutSeconds: 30, idleWaitMs: 100, maxDequeueCount: 5 },
    { token: async () => 'unused' },
    async (run) => {
      arrived.push(run);
      if (arrived.length === MESSAGES) recordAll();
      await allArrived;
    },
    (err) => errors.push(err),
  );
  try {
    await waitFor(async () => (await queue.getProperties()).approximateMessagesCount === 0, { timeoutMs: 20_000, what: 'every message deleted' });
  } finally {
    await stop();
  }
  expect(errors).toEqual([]);
  expect(new Set(arrived.map((r) => r.pipelineRunId))).toEqual(new Set(Array.from({ length: MESSAGES }, (_, i) => `run_${i}`)));
});
