// On-call commands: `alerts` (what is open), `silence add|list|expire`, `routes test` (who would get an event, and why).
import { promises as fs } from 'node:fs';
import type { Command } from 'commander';
import { systemClock } from '../../clock';
import { AlertStore } from '../../alerts/alert-store';
import { explainRouting } from '../../alerts/explain';
import { findEvent, onCallGroups } from '../../alerts/lookup';
import { parseMatchers, SilenceStore } from '../../alerts/silences';
import { parseDurationMs } from '../../duration';
import { InvalidInputError } from '../../model/errors';
import { formatDuration } from '../../notify/formats/describe';
import type { WatchEvent } from '../../store/events';
import { configOf, globalsOf, withRedis } from '../context';
import { printJson, table } from '../format';

export function registerAlertCommands(program: Command): void {
  program
    .command('alerts')
    .description('list the open alerts: since when, the run that opened them, who was told')
    .addHelpText('after', '\nExample:\n  steprun-watch alerts --json')
    .action(async (_o, cmd: Command) => {
      const config = await configOf(cmd);
      const alerts = await withRedis(config, (redis, keys) => new AlertStore(redis, keys, config.events.maxLen).list());
      if (globalsOf(cmd).json) return printJson(alerts.map(({ event: _event, ...a }) => a));
      if (alerts.length === 0) return void process.stdout.write('no open alerts\n');
      const now = systemClock.now();
      process.stdout.write(
        table([
          ['KEY', 'OPEN FOR', 'SINCE', 'OPENED BY RUN', 'FAILURES', 'NOTIFIERS'],
          ...alerts.map((a) => [
            a.key,
            formatDuration(now - a.openedAt),
            new Date(a.openedAt).toISOString(),
            a.openedRun ?? '-',
            String(a.failures),
            a.notifiers.join(',') || '-',
          ]),
        ]),
      );
    });

  const silence = program
    .command('silence')
    .description('mute matching alerts for a while (add, list, expire)')
    .addHelpText('after', '\nExamples:\n  steprun-watch silence add --match experiment=churn --for 2h --comment "quota"\n  steprun-watch silence list');
  silence
    .command('add')
    .description('silence events matching every FIELD=VALUE (globs allowed) for a duration')
    .requiredOption('--match <matchers>', 'FIELD=VALUE[,FIELD=VALUE]: type, status, experiment, pipeline, pipelineRunId, step, provider, trackId, labels.NAME')
    .requiredOption('--for <duration>', 'how long, e.g. 2h, 30m, 1d')
    .option('--comment <text>', 'why (shown by `silence list`)', '')
    .addHelpText('after', '\nExample:\n  steprun-watch silence add --match experiment=churn,type=steprun.failed --for 2h --comment "known quota issue"')
    .action(async (o: { match: string; for: string; comment: string }, cmd: Command) => {
      const durationMs = parseDurationMs(o.for);
      if (!durationMs) throw new InvalidInputError(`--for takes a duration such as 2h or 30m, got "${o.for}"`);
      const matchers = parseMatchers(o.match);
      const config = await configOf(cmd);
      const s = await withRedis(config, (redis, keys) =>
        new SilenceStore(redis, keys).add({ matchers, durationMs, comment: o.comment, createdBy: process.env.USER }, systemClock.now()),
      );
      if (globalsOf(cmd).json) return printJson(s);
      process.stdout.write(`silence ${s.id}: ${o.match} until ${new Date(s.endsAt).toISOString()}\n`);
    });
  silence
    .command('list')
    .description('list silences, active and recently expired')
    .addHelpText('after', '\nExample:\n  steprun-watch silence list --json')
    .action(async (_o, cmd: Command) => {
      const config = await configOf(cmd);
      const now = systemClock.now();
      const list = await withRedis(config, (redis, keys) => new SilenceStore(redis, keys).list(now));
      if (globalsOf(cmd).json) return printJson(list);
      if (list.length === 0) return void process.stdout.write('no silences\n');
      process.stdout.write(
        table([
          ['ID', 'STATE', 'MATCHERS', 'ENDS', 'COMMENT'],
          ...list.map((s) => [
            s.id,
            now < s.startsAt ? 'pending' : now < s.endsAt ? 'active' : 'expired',
            Object.entries(s.matchers)
              .map(([k, v]) => `${k}=${v}`)
              .join(','),
            new Date(s.endsAt).toISOString(),
            s.comment,
          ]),
        ]),
      );
    });
  silence
    .command('expire <id>')
    .description('end a silence now')
    .addHelpText('after', '\nExample:\n  steprun-watch silence expire s3f9a0c1d2e4b')
    .action(async (id: string, _o, cmd: Command) => {
      const config = await configOf(cmd);
      const s = await withRedis(config, (redis, keys) => new SilenceStore(redis, keys).expire(id, systemClock.now()));
      if (globalsOf(cmd).json) return printJson(s);
      process.stdout.write(`silence ${id} expired\n`);
    });

  program
    .command('routes')
    .description('check routing: `routes test` explains who would get an event, and why')
    .addHelpText('after', '\nExample:\n  steprun-watch routes test --event-id e3f0a1b2c3d4e5f6a7b8c9d')
    .command('test')
    .description('which routes an event matches and why, the notifiers, and what silences, groups or quiet periods hold it')
    .option('--event-id <id>', 'an event of the events stream')
    .argument('[event.json]', 'or an event as JSON (as `events --json` prints it)')
    .addHelpText('after', '\nExamples:\n  steprun-watch routes test --event-id e3f0...\n  steprun-watch routes test failed-event.json')
    .action(async (file: string | undefined, o: { eventId?: string }, cmd: Command) => {
      if (!file === !o.eventId) throw new InvalidInputError('routes test takes --event-id ID or an EVENT.json file (one of them)');
      const config = await configOf(cmd);
      const now = systemClock.now();
      const { event, silences } = await withRedis(config, async (redis, keys) => ({
        event: o.eventId ? await findEvent(redis, keys, o.eventId) : await readEventFile(file!),
        silences: await new SilenceStore(redis, keys).list(now),
      }));
      const result = explainRouting(config.routes, silences, event, now, onCallGroups(config));
      if (globalsOf(cmd).json) return printJson(result);
      const out: string[] = [`event ${event.id} (${event.type})${result.alert ? `, ${result.alert.action}s alert ${result.alert.key}` : ''}`];
      for (const r of result.routes) {
        const extras = [
          r.group && `grouped by ${r.group.by.join(',')}=${r.group.values.join(',')}`,
          r.quietUntil && `held until ${r.quietUntil}`,
          r.repeatEveryMs && `repeats every ${formatDuration(r.repeatEveryMs)}`,
        ]
          .filter(Boolean)
          .join('; ');
        out.push(`  routes[${r.route}] ${r.matched ? 'MATCHED' : 'no match'} -> ${r.notify.join(', ')}: ${r.why}${extras ? ` (${extras})` : ''}`);
      }
      for (const s of result.silencedBy) out.push(`  silenced by ${s.id} until ${s.endsAt}: ${s.comment}`);
      out.push(`  deliveries: ${result.deliveries.map((d) => `${d.notifier} (${d.outcome})`).join(', ') || 'none'}`);
      process.stdout.write(out.join('\n') + '\n');
    });
}

async function readEventFile(file: string): Promise<WatchEvent> {
  let value: unknown;
  try {
    value = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    throw new InvalidInputError(`${file}: not a JSON event (${(err as Error).message.split('\n')[0]})`);
  }
  const e = value as Partial<WatchEvent>;
  if (typeof e?.type !== 'string' || typeof e.id !== 'string') throw new InvalidInputError(`${file}: an event needs at least "id" and "type"`);
  return { labels: {}, experiment: '', provider: 'local', trackId: '', time: '', detectedAt: 0, ...e } as WatchEvent;
}
