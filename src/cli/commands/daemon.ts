// steprun-watch daemon: run the watcher: scheduler, dispatcher and workers in one process (Ctrl-C drains and stops).
import type { Command } from 'commander';
import { configOf } from '../context';
import { defineCommand } from '../command';

export function daemonCommand(program: Command): void {
  defineCommand(
    program,
    'daemon',
    'run the watcher: scheduler, dispatcher and workers in one process (Ctrl-C drains and stops)',
    'steprun-watch daemon',
    'steprun-watch daemon --config config/examples/slack.yaml',
  )
    .option('--listen <address>', 'where the API and dashboard listen, e.g. 127.0.0.1:8790 (env SRW_API_LISTEN; default 127.0.0.1:8787)')
    .action(async (_o, cmd: Command) => {
      const { runDaemon } = await import('../../runtime/run-daemon');
      await runDaemon(await configOf(cmd, { buildsAll: true }));
    });
}
