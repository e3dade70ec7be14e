// The pull side of Event Grid, for daemons behind a firewall: Event Grid delivers Azure ML's run events to an Azure
// Storage Queue; this reads the queue and deletes a message only once its hints are recorded. A daemon killed in
// between leaves the message to come back after its visibility timeout: the hint is seen again, and since a hint
// only makes a poll sooner, seeing it twice costs a poll, never an alert.
import type { QueueClient } from '@azure/storage-queue';
import type { ChangedRun } from '../../model/provider';
import type { TokenSource } from './auth';
import { readEventGridDelivery } from './event-grid';
import { ProviderResponseError } from '../../model/errors';

export interface ChangeQueueOptions {
  /** The queue's URL: https://<account>.queue.core.windows.net/<queue> (a SAS query string is kept). */
  url: string;
  /** The storage account key (shared-key auth); without it, a SAS in the URL, else the provider's credential. */
  accountKey?: string;
  /** A message handed out is hidden this long; if it is not deleted by then (a crash), it comes back. */
  visibilityTimeoutSeconds: number;
  /** How long to wait before asking an empty queue again. */
  idleWaitMs: number;
  /** A message delivered this many times without being handled is dropped (logged): it would loop forever. */
  maxDequeueCount: number;
}

const STORAGE_SCOPE = 'https://storage.azure.com/.default';

async function queueClient(o: ChangeQueueOptions, tokens: TokenSource): Promise<QueueClient> {
  const { QueueClient, StorageSharedKeyCredential } = await import('@azure/storage-queue');
  const url = new URL(o.url);
  if (o.accountKey) {
    // Azure: <account>.queue.core.windows.net/<queue>; an emulator or private endpoint: <host>/<account>/<queue>.
    const account = /^([a-z0-9]+)\.queue\./.exec(url.hostname)?.[1] ?? url.pathname.split('/')[1] ?? '';
    return new QueueClient(o.url, new StorageSharedKeyCredential(account, o.accountKey));
  }
  if (url.searchParams.has('sig')) return new QueueClient(o.url);
  return new QueueClient(o.url, {
    getToken: async () => ({ token: await tokens.token(STORAGE_SCOPE), expiresOnTimestamp: Date.now() + 5 * 60_000 }),
  });
}

/** Event Grid writes each event as JSON, base64-encoded unless the subscription says otherwise: read either. */
export function runsOfMessage(text: string): ChangedRun[] | undefined {
  for (const candidate of [Buffer.from(text, 'base64').toString('utf8'), text]) {
    try {
      return readEventGridDelivery(JSON.parse(candidate)).runs;
    } catch {
      // not this encoding
    }
  }
  return undefined;
}

/**
 * Reads the queue until stopped: each message's runs go to `onChange` (awaited: the hint is recorded), then the
 * message is deleted. A message whose hint could not be recorded stays, and comes back after its visibility timeout.
 */
export async function watchQueue(
  o: ChangeQueueOptions,
  tokens: TokenSource,
  onChange: (run: ChangedRun) => Promise<void>,
  onError: (err: Error) => void,
): Promise<() => Promise<void>> {
  const queue = await queueClient(o, tokens);
  const stop = new AbortController();
  const idle = () => new Promise((r) => setTimeout(r, o.idleWaitMs).unref());

  const handle = async (message: { messageId: string; popReceipt: string; messageText: string; dequeueCount: number }) => {
    const runs = runsOfMessage(message.messageText);
    if (runs === undefined || message.dequeueCount > o.maxDequeueCount) {
      const why = runs === undefined ? 'not an Event Grid event' : `delivered ${message.dequeueCount} times`;
      onError(new ProviderResponseError(`queue message ${message.messageId} dropped: ${why}`));
    } else {
      await Promise.all(runs.map((run) => onChange(run)));
    }
    await queue.deleteMessage(message.messageId, message.popReceipt, { abortSignal: stop.signal });
  };

  const loop = (async () => {
    while (!stop.signal.aborted) {
      try {
        const { receivedMessageItems } = await queue.receiveMessages({
          numberOfMessages: 32,
          visibilityTimeout: o.visibilityTimeoutSeconds,
          abortSignal: stop.signal,
        });
        // Handled together: the hint router sends what arrives together in one call (a message at a time, 32 calls).
        if (stop.signal.aborted) return;
        await Promise.all(receivedMessageItems.map((message) => handle(message).catch(onError)));
        if (receivedMessageItems.length === 0) await idle();
      } catch (err) {
        if (stop.signal.aborted) return;
        onError(err as Error);
        await idle();
      }
    }
  })();

  return async () => {
    stop.abort();
    await loop;
  };
}
