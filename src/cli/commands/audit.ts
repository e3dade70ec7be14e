// steprun-watch audit: who did what, when, from where, and how it ended (the API's, the dashboard's and the CLI's writes).
import type { Command } from 'commander';
import { systemClock } from '../../util/clock';
import { InvalidInputError } from '../../model/errors';
import { parseSince, SINCE_HELP } from '../../util/duration';
import { AuditLog, auditRetentionOf } from '../../api/auth/audit';
import { parsePositiveInt } from '../options';
import { defineCommand, reportList } from '../command';
import { configOf, withRedis } from '../context';

export function auditCommand(program: Command): void {
  defineCommand(program, 'audit', 'the audit log, newest first: every write, who made it, from where, and its result', 'steprun-watch audit --since 1d')
    .option('--since <when>', `only entries since then: ${SINCE_HELP}`)
    .option('--limit <n>', 'at most N entries', (v) => parsePositiveInt(v, '--limit'), 100)
    .action(async (o: { since?: string; limit: number }, cmd: Command) => {
      const since = o.since === undefined ? undefined : parseSince(o.since, systemClock.now());
      if (o.since !== undefined && since === undefined) throw new InvalidInputError(`--since takes ${SINCE_HELP}, got "${o.since}"`);
      const config = await configOf(cmd);
      const entries = await withRedis(config, (redis, keys) => new AuditLog(redis, keys, auditRetentionOf(config.api.audit)).list({ since, limit: o.limit }));
      reportList(cmd, entries, 'nothing in the audit log', {
        WHEN: (e) => new Date(e.at).toISOString(),
        WHO: (e) => `${e.actor} (${e.role})`,
        WHAT: (e) => e.action,
        FROM: (e) => e.from,
        RESULT: (e) => e.result,
      });
    });
}
