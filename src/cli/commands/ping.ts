// steprun-watch ping: check the config and that Redis answers (exit 0), for health checks and troubleshooting.
import type { Command } from 'commander';
import { createLogger } from '../../util/logger';
import { configOf, withRedis } from '../context';
import { defineCommand, report } from '../command';

export function pingCommand(program: Command): void {
  defineCommand(
    program,
    'ping',
    'check the config and that Redis answers (exit 0), for health checks and troubleshooting',
    'steprun-watch ping --config config/docker.yaml',
  ).action(async (_o, cmd: Command) => {
    const config = await configOf(cmd, { buildsAll: true });
    // The same checks as `daemon`: every notifier and provider is built (nothing connects), then closed.
    const { buildAll } = await import('../../runtime/wiring');
    const built = await buildAll(config, createLogger({ level: 'silent' }));
    await Promise.all([...built.notifiers.values()].map((n) => n.close?.()));
    await Promise.all([...built.providers.values()].map((p) => p.close?.()));
    const started = Date.now();
    await withRedis(config, (redis) => redis.ping());
    report(cmd, { redis: 'ok', ms: Date.now() - started }, (r) => `config ok, Redis answers (${r.ms} ms)\n`);
  });
}
