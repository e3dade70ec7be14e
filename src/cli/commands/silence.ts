// steprun-watch silence: mute matching alerts for a while (add, list, expire).
import type { Command } from 'commander';
import { systemClock } from '../../util/clock';
import { matchersText, parseMatchers, SilenceStore } from '../../alerts/silences';
import { parseDurationMs } from '../../util/duration';
import { InvalidInputError } from '../../model/errors';
import { defineCommand, report, reportList } from '../command';
import { configOf, withRedis } from '../context';
import { auditedWrite, cliIdentity } from '../audited';

export function silenceCommand(program: Command): void {
  const silence = defineCommand(
    program,
    'silence',
    'mute matching alerts for a while (add, list, expire)',
    'steprun-watch silence add --match experiment=churn --for 2h --comment "quota"',
    'steprun-watch silence list',
  );
  defineCommand(
    silence,
    'add',
    'silence events matching every FIELD=VALUE (globs allowed) for a duration',
    'steprun-watch silence add --match experiment=churn,type=steprun.failed --for 2h --comment "known quota issue"',
  )
    .requiredOption(
      '--match <matchers>',
      'matchers, comma-separated: FIELD=VALUE (globs: train*), FIELD!=VALUE, FIELD=~REGEX, FIELD!~REGEX; fields: type, status, experiment, ' +
        'pipeline, pipelineRunId, step, provider, trackId, labels.NAME',
    )
    .requiredOption('--for <duration>', 'how long, e.g. 2h, 30m, 1d')
    .option('--comment <text>', 'why (shown by `silence list`)', '')
    .action(async (o: { match: string; for: string; comment: string }, cmd: Command) => {
      const durationMs = parseDurationMs(o.for);
      if (!durationMs) throw new InvalidInputError(`--for takes a duration such as 2h or 30m, got "${o.for}"`);
      const matchers = parseMatchers(o.match);
      const config = await configOf(cmd);
      const createdBy = cliIdentity().name;
      const s = await auditedWrite(config, `silence add ${o.match} for ${o.for}`, (redis, keys) =>
        new SilenceStore(redis, keys).add({ matchers, durationMs, comment: o.comment, createdBy }, systemClock.now()),
      );
      report(cmd, s, () => `silence ${s.id}: ${o.match} until ${new Date(s.endsAt).toISOString()}\n`);
    });
  defineCommand(silence, 'list', 'list silences, active and recently expired', 'steprun-watch silence list --json').action(async (_o, cmd: Command) => {
    const config = await configOf(cmd);
    const now = systemClock.now();
    const list = await withRedis(config, (redis, keys) => new SilenceStore(redis, keys).list(now));
    reportList(cmd, list, 'no silences', {
      ID: (s) => s.id,
      STATE: (s) => (now < s.startsAt ? 'pending' : now < s.endsAt ? 'active' : 'expired'),
      MATCHERS: (s) => matchersText(s.matchers),
      ENDS: (s) => new Date(s.endsAt).toISOString(),
      COMMENT: (s) => s.comment,
    });
  });
  defineCommand(silence, 'expire <id>', 'end a silence now', 'steprun-watch silence expire s3f9a0c1d2e4b').action(async (id: string, _o, cmd: Command) => {
    const config = await configOf(cmd);
    const s = await auditedWrite(config, `silence expire ${id}`, (redis, keys) => new SilenceStore(redis, keys).expire(id, systemClock.now()));
    report(cmd, s, () => `silence ${id} expired\n`);
  });
}
