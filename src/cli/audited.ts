// The CLI's writes in the audit log: the CLI reaches Redis itself, as an admin, and is recorded as `cli:<user>`
// from `local`, whatever the write's outcome (an error is recorded by its code).
import * as os from 'node:os';
import type { Redis } from 'ioredis';
import type { LoadedConfig } from '../config/load';
import { AuditLog, auditRetentionOf } from '../api/auth/audit';
import type { Identity } from '../api/auth/roles';
import type { Keys } from '../store/keys';
import { withRedis } from './context';

/** Who the CLI is: the operating system's user. */
export function cliIdentity(): Identity {
  return { name: `cli:${process.env.USER ?? os.userInfo().username}`, role: 'admin', via: 'cli' };
}

/** Runs a write against Redis and records it (`action`: what it did, e.g. `silence add experiment=churn`). */
export async function auditedWrite<T>(config: LoadedConfig, action: string, write: (redis: Redis, keys: Keys) => Promise<T>): Promise<T> {
  return withRedis(config, async (redis, keys) => {
    const log = new AuditLog(redis, keys, auditRetentionOf(config.api.audit));
    const record = (result: string) => log.add(cliIdentity(), { action, from: 'local', result }, Date.now());
    try {
      const out = await write(redis, keys);
      await record('ok');
      return out;
    } catch (err) {
      await record((err as { code?: string }).code ?? 'error').catch(() => undefined);
      throw err;
    }
  });
}
