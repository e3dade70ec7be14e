// The entry of a deliver thread (deliver-threads.ts): a deliver-only Daemon from the config it was given, its
// delivery counts sent to the parent, stopped (draining its jobs) when the parent says so.
import { parentPort, workerData } from 'node:worker_threads';
import type { LoadedConfig } from '../config/load';
import { createLogger } from '../util/logger';
import { Daemon } from './daemon';
import type { ThreadMessage } from './deliver-threads';

const DELIVER_ONLY = { scheduler: false, dispatcher: false, pollWorkers: false, deliverWorkers: true };

async function run(config: LoadedConfig): Promise<void> {
  const port = parentPort!;
  const send = (m: ThreadMessage) => port.postMessage(m);
  const logger = createLogger({ level: config.log.level, pretty: false }).child({ thread: 'deliver' });
  const daemon = await Daemon.create({ config, logger, roles: DELIVER_ONLY, inThread: { onDelivery: (m) => send({ kind: 'delivery', ...m }) } });
  try {
    await daemon.start();
  } catch (err) {
    await daemon.stop().catch(() => undefined);
    throw err;
  }
  port.on('message', (m: { kind: string }) => {
    if (m.kind !== 'stop') return;
    void daemon.stop().finally(() => {
      send({ kind: 'stopped' });
      port.close();
    });
  });
  send({ kind: 'started' });
}

run((workerData as { config: LoadedConfig }).config).catch((err: Error) => {
  parentPort?.postMessage({ kind: 'failed', message: err.message } satisfies ThreadMessage);
  process.exit(1);
});
