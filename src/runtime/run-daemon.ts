// Runs a Daemon until SIGINT/SIGTERM, then drains and exits: shared by `steprun-watch daemon` and workers/*.ts.
import type { LoadedConfig } from '../config/load';
import { ALL_ROLES, Daemon, type Roles } from './daemon';
import { createLogger } from '../util/logger';

export async function runDaemon(config: LoadedConfig, roles: Roles = ALL_ROLES): Promise<void> {
  const logger = createLogger({ level: config.log.level });
  const daemon = await Daemon.create({ config, logger, roles });
  try {
    await daemon.start();
  } catch (err) {
    // Whatever start opened (connections, workers, the API socket) is closed before the error is reported.
    await daemon.stop().catch(() => undefined);
    throw err;
  }
  if (roles.scheduler) {
    const tracked = await daemon.connection.scard(daemon.keys.tracks).catch(() => -1);
    if (tracked === 0) logger.warn('nothing is tracked yet: add a track, e.g. `steprun-watch track --experiment demo`');
  }
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      logger.info({ signal }, 'signal received');
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await daemon.stop();
}
