// Builds an in-process Daemon on a test prefix with fast ticks, and a notifier that records what it receives.
import * as path from 'node:path';
import { validateConfig, type LoadedConfig } from '../../src/config/load';
import { Daemon, type Roles } from '../../src/runtime/daemon';
import { createLogger } from '../../src/util/logger';

export function testConfig(o: { prefix: string; dataDir: string; redisUrl?: string; extra?: Record<string, unknown> }): LoadedConfig {
  return validateConfig(
    {
      redis: { url: o.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: o.prefix },
      providers: { local: { type: 'local' } },
      poll: { tick: '* * * * * *', minIntervalSeconds: 0.2, maxIntervalSeconds: 1, errorAfterFailures: 2 },
      delivery: { attempts: 3, backoffMs: 100 },
      workers: { lockDurationMs: 2000, reclaimIdleMs: 500 },
      notifiers: { console: { type: 'console' } },
      routes: [{ match: {}, notify: ['console'] }],
      log: { level: 'warn' },
      api: { listen: '127.0.0.1:0' },
      ...o.extra,
    },
    { dataDir: o.dataDir, env: {} },
  );
}

export async function startDaemon(config: LoadedConfig, roles?: Roles): Promise<Daemon> {
  const daemon = await Daemon.create({ config, logger: createLogger({ level: config.log.level, pretty: false }), roles });
  await daemon.start();
  return daemon;
}

export const RECORDING_NOTIFIER = path.resolve(__dirname, '../fixtures/recording-notifier.js');
