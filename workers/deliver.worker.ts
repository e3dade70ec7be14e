// A process that runs only delivery workers (scale-out: start more of these on more machines, one Redis).
import { loadConfig } from '../src/config/load';
import { runDaemon } from '../src/cli/run-daemon';

void (async () => {
  const config = await loadConfig();
  await runDaemon(config, { scheduler: false, dispatcher: false, pollWorkers: false, deliverWorkers: true });
})().catch((err: Error & { code?: string }) => {
  process.stderr.write(`deliver worker: ${err.message}${err.code ? ` [${err.code}]` : ''}\n`);
  process.exit(1);
});
