// The entry of the record reader thread (record-reader.ts): the run store's reads, one message per pipeline run.
import { parentPort, workerData } from 'node:worker_threads';
import { toWire, type ReadReply, type ReadRequest } from './record-reader';
import { RunStore } from './store';

const store = new RunStore((workerData as { root: string }).root);
const port = parentPort!;

async function answer(request: ReadRequest): Promise<ReadReply> {
  const { id, pipelineRunId } = request;
  try {
    if (request.op === 'pipeline') return { id, value: await store.readPipeline(pipelineRunId) };
    const listing = await store.readSteps(pipelineRunId, request.known);
    return { id, value: { steps: listing.steps, unreadable: listing.unreadable.map((u) => ({ stepRunId: u.stepRunId, error: toWire(u.error) })) } };
  } catch (err) {
    return { id, error: toWire(err) };
  }
}

port.on('message', (request: ReadRequest) => {
  void answer(request).then((reply) => port.postMessage(reply));
});
