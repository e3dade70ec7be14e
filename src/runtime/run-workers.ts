// Entry of the worker-only processes (workers/*.ts): load the config from the environment, run one kind of worker, report a failed start in one line.
import { loadConfig } from '../config/load';
import type { Roles } from './daemon';
import { runDaemon } from './run-daemon';

export function runWorkersProcess(label: string, roles: Roles): void {
  void (async () => {
    const config = await loadConfig();
    await runDaemon(config, roles);
  })().catch((err: Error & { code?: string }) => {
    process.stderr.write(`${label}: ${err.message}${err.code ? ` [${err.code}]` : ''}\n`);
    process.exit(1);
  });
}
