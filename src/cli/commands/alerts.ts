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
import { defineCommand, keyValues, report, reportList } from '../command';
import { configOf, withRedis } from '../context';

export function registerAlertCommands(program: Command): void {
  defineCommand(program, 'alerts', 'list the open alerts: since when, the run that opened them, who was told', 'steprun-watch alerts --json').action(
    async (_o, cmd: Command) => {
      const config = await configOf(cmd);
      const alerts = await withRedis(config, (redis, keys) => new AlertStore(redis, keys).list());
      const now = systemClock.now();
      reportList(
        cmd,
        alerts.map(({ event: _event, ...a }) => a),
        'no open alerts',
        {
          KEY: (a) => a.key,
          'OPEN FOR': (a) => formatDuration(now - a.openedAt),
          SINCE: (a) => new Date(a.openedAt).toISOString(),
          'OPENED BY RUN': (a) => a.openedRun ?? '-',
          FAILURES: (a) => String(a.failures),
          NOTIFIERS: (a) => a.notifiers.join(',') || '-',
        },
      );
    },
  );

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
    .requiredOption('--match <matchers>', 'FIELD=VALUE[,FIELD=VALUE]: type, status, experiment, pipeline, pipelineRunId, step, provider, trackId, labels.NAME')
    .requiredOption('--for <duration>', 'how long, e.g. 2h, 30m, 1d')
    .option('--comment <text>', 'why (shown by `silence list`)', '')
    .action(async (o: { match: string; for: string; comment: string }, cmd: Command) => {
      const durationMs = parseDurationMs(o.for);
      if (!durationMs) throw new InvalidInputError(`--for takes a duration such as 2h or 30m, got "${o.for}"`);
      const matchers = parseMatchers(o.match);
      const config = await configOf(cmd);
      const s = await withRedis(config, (redis, keys) =>
        new SilenceStore(redis, keys).add({ matchers, durationMs, comment: o.comment, createdBy: process.env.USER }, systemClock.now()),
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
      MATCHERS: (s) => keyValues(s.matchers),
      ENDS: (s) => new Date(s.endsAt).toISOString(),
      COMMENT: (s) => s.comment,
    });
  });
  defineCommand(silence, 'expire <id>', 'end a silence now', 'steprun-watch silence expire s3f9a0c1d2e4b').action(async (id: string, _o, cmd: Command) => {
    const config = await configOf(cmd);
    const s = await withRedis(config, (redis, keys) => new SilenceStore(redis, keys).expire(id, systemClock.now()));
    report(cmd, s, () => `silence ${id} expired\n`);
  });

  const routes = defineCommand(
    program,
    'routes',
    'check routing: `routes test` explains who would get an event, and why',
    'steprun-watch routes test --event-id e3f0a1b2c3d4e5f6a7b8c9d',
  );
  defineCommand(
    routes,
    'test',
    'which routes an event matches and why, the notifiers, and what silences, groups or quiet periods hold it',
    'steprun-watch routes test --event-id e3f0...',
    'steprun-watch routes test failed-event.json',
  )
    .option('--event-id <id>', 'an event of the events stream')
    .argument('[event.json]', 'or an event as JSON (as `events --json` prints it)')
    .action(async (file: string | undefined, o: { eventId?: string }, cmd: Command) => {
      if (!file === !o.eventId) throw new InvalidInputError('routes test takes --event-id ID or an EVENT.json file (one of them)');
      const config = await configOf(cmd);
      const now = systemClock.now();
      const { event, silences } = await withRedis(config, async (redis, keys) => ({
        event: o.eventId ? await findEvent(redis, keys, o.eventId) : await readEventFile(file!),
        silences: await new SilenceStore(redis, keys).list(now),
      }));
      const result = explainRouting(config.routes, silences, event, now, onCallGroups(config));
      report(cmd, result, () => {
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
        return out.join('\n') + '\n';
      });
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
