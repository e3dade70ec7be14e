// Once before the whole suite: a Redis where the tests look for one (REDIS_URL, else 127.0.0.1:6379). A fresh machine
// has none running: one is started (and stopped by global-teardown.ts), or the run fails at once saying what to
// install — never a silent hang. A run of the unit tests alone needs none.
import { ensureLocalRedis } from '../../src/runtime/local-redis';

/** Jest's global config, the part read here. */
interface GlobalConfig {
  selectProjects?: string[];
}

export default async function globalSetup(globalConfig: GlobalConfig): Promise<void> {
  const only = globalConfig.selectProjects;
  if (only && only.every((p) => p === 'unit')) return;
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const started = await ensureLocalRedis(url, { say: (line) => process.stderr.write(`\n${line}\n`) });
  (globalThis as { __srwTestRedis__?: unknown }).__srwTestRedis__ = started;
}
