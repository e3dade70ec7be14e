// A process that runs only poll workers (scale-out: start more of these on more machines, one Redis).
import { loadConfig } from '../src/config/load';
import { runDaemon } from '../src/cli/run-daemon';

void (async () => {
  const config = await loadConfig();
  await runDaemon(config, { scheduler: false, dispatcher: false, pollWorkers: true, deliverWorkers: false });
})().catch((err: Error & { code?: string }) => {
  process.stderr.write(`poll worker: ${err.message}${err.code ? ` [${err.code}]` : ''}\n`);
  process.exit(1);
});
