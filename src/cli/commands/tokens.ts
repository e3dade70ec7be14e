// steprun-watch tokens: personal and machine API tokens (create: printed once; list; revoke). The CLI reaches Redis
// itself, as an admin; each change goes in the audit log.
import type { Command } from 'commander';
import { systemClock } from '../../util/clock';
import { expiryMs, TokenStore } from '../../api/auth/tokens';
import { parseRole } from '../../api/auth/roles';
import { defineCommand, report, reportList } from '../command';
import { configOf, withRedis } from '../context';
import { auditedWrite, cliIdentity } from '../audited';

export function tokensCommand(program: Command): void {
  const tokens = defineCommand(
    program,
    'tokens',
    'API tokens for people and machines (create, list, revoke); used as Authorization: Bearer <token>',
    'steprun-watch tokens create --name ci --role operator --expires 90d',
    'steprun-watch tokens list',
  );
  defineCommand(tokens, 'create', 'make a token: printed once, stored only as a digest', 'steprun-watch tokens create --name ci --role operator --expires 90d')
    .requiredOption('--name <name>', 'what or whom it is for (unique): ci, alice')
    .requiredOption('--role <role>', 'viewer (reads), operator (acknowledges, silences, retries) or admin (also tracks and manages tokens)')
    .option('--expires <duration>', 'it stops working after this long, e.g. 90d (default: never)')
    .action(async (o: { name: string; role: string; expires?: string }, cmd: Command) => {
      const config = await configOf(cmd);
      const now = systemClock.now();
      const expiresAt = o.expires === undefined ? undefined : now + expiryMs(o.expires);
      const created = await auditedWrite(config, `tokens create ${o.name}`, (redis, keys) =>
        new TokenStore(redis, keys).create({ name: o.name, role: parseRole(o.role), createdBy: cliIdentity().name, expiresAt }, now),
      );
      report(
        cmd,
        created,
        ({ token, record }) =>
          `${token}\n\ntoken "${record.name}" (${record.role}${record.expiresAt ? `, expires ${new Date(record.expiresAt).toISOString()}` : ''}): ` +
          'shown this once, keep it in a secret store\n',
      );
    });
  defineCommand(tokens, 'list', 'the tokens (never the tokens themselves)', 'steprun-watch tokens list --json').action(async (_o, cmd: Command) => {
    const config = await configOf(cmd);
    const list = await withRedis(config, (redis, keys) => new TokenStore(redis, keys).list());
    const when = (ms?: number) => (ms ? new Date(ms).toISOString() : '-');
    reportList(cmd, list, 'no API tokens', {
      NAME: (t) => t.name,
      ROLE: (t) => t.role,
      CREATED: (t) => `${when(t.createdAt)} by ${t.createdBy}`,
      EXPIRES: (t) => (t.expiresAt && t.expiresAt <= systemClock.now() ? `expired ${when(t.expiresAt)}` : when(t.expiresAt)),
      'LAST USED': (t) => when(t.lastUsedAt),
    });
  });
  defineCommand(tokens, 'revoke <name>', 'stop a token working, now', 'steprun-watch tokens revoke ci').action(async (name: string, _o, cmd: Command) => {
    const config = await configOf(cmd);
    const revoked = await auditedWrite(config, `tokens revoke ${name}`, (redis, keys) => new TokenStore(redis, keys).revoke(name));
    report(cmd, { revoked }, () => `token "${name}" revoked\n`);
  });
}
