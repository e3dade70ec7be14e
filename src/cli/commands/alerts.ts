// On-call commands: `alerts` (what is open), `silence add|list|expire`, `routes test` (who would get an event, and why).
import { promises as fs } from 'node:fs';
import type { Command } from 'commander';
import { systemClock } from '../../util/clock';
import { acknowledge } from '../../alerts/ack';
import { AlertStore } from '../../alerts/alert-store';
import { readDecisionState } from '../../alerts/decision-state';
import { explainRouting, type Explanation } from '../../alerts/explain';
import { deliveryHistory } from '../../alerts/history';
import { alertPolicyOf } from '../../alerts/policy';
import { findEvent } from '../../alerts/lookup';
import { parseMatchers, SilenceStore } from '../../alerts/silences';
import { parseDurationMs } from '../../util/duration';
import { InvalidInputError } from '../../model/errors';
import { DeliveryStore, type DeliveryRecord } from '../../store/deliveries';
import { formatDuration } from '../../notify/notifiers/formats/describe';
import type { WatchEvent } from '../../store/events';
import { defineCommand, keyValues, report, reportList } from '../command';
import { configOf, withRedis } from '../context';

export function registerAlertCommands(program: Command): void {
  alertsCommand(program);
  silenceCommand(program);
  routesCommand(program);
}

function alertsCommand(program: Command): void {
  const alertsCommand = defineCommand(
    program,
    'alerts',
    'list the open alerts: since when, the run that opened them, who was told, who acknowledged',
    'steprun-watch alerts --json',
    'steprun-watch alerts ack local/churn/step/train --comment "looking"',
  ).action(async (_o, cmd: Command) => {
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
        ACKED: (a) => (a.acked ? `${a.acked.by} ${new Date(a.acked.at).toISOString()}` : '-'),
      },
    );
  });
  defineCommand(
    alertsCommand,
    'ack <alert>',
    'acknowledge an open alert (its id or key): no more repeats; it stays open until its step recovers',
    'steprun-watch alerts ack local/churn/step/train --comment "quota raised, rerunning"',
  )
    .option('--comment <text>', 'why, or what is being done (shown with the alert and in its resolve)')
    .option('--by <name>', 'who acknowledges (default: $USER)')
    .action(async (alert: string, o: { comment?: string; by?: string }, cmd: Command) => {
      const config = await configOf(cmd);
      const by = o.by ?? process.env.USER ?? 'cli';
      const done = await withRedis(config, (redis, keys) => acknowledge(new AlertStore(redis, keys), alert, by, systemClock.now(), o.comment));
      report(cmd, { id: done.alert.id, key: done.alert.key, acked: done.alert.acked, outcome: done.outcome }, () =>
        done.outcome === 'acked'
          ? `acknowledged ${done.alert.key} (${done.alert.id}) as ${done.by}\n`
          : `${done.alert.key} was already acknowledged by ${done.by}\n`,
      );
    });
}

function silenceCommand(program: Command): void {
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
}

function routesCommand(program: Command): void {
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
      const policy = alertPolicyOf(config);
      const result = await withRedis(config, async (redis, keys) => {
        const event = o.eventId ? await findEvent(redis, keys, o.eventId) : await readEventFile(file!);
        const state = await readDecisionState({ policy, alerts: new AlertStore(redis, keys), silences: new SilenceStore(redis, keys) }, [event], now);
        const history = o.eventId ? await deliveryHistory(redis, keys, new DeliveryStore(redis, keys), policy, event) : undefined;
        return explainRouting(policy, state, event, history);
      });
      report(cmd, result, () => explanationText(result));
    });
}

/** `routes test` for people: what happened to the event (--event-id), then, apart, what the routes would do now. */
function explanationText(result: Explanation): string {
  const { event, alert } = result;
  const out: string[] = [`event ${event.id} (${event.type}): ${event.summary}`];
  if (alert)
    out.push(
      `  ${alert.action}s alert ${alert.key}${alert.open ? ` — open since ${alert.open.since}, ${alert.open.failures} failure(s), told: ${alert.open.told.join(', ') || 'nobody'}` : ' — not open now'}`,
    );
  if (result.history) {
    out.push('', 'What happened to it:');
    if (result.history.length === 0) out.push('  no delivery records (kept for the last 10,000 deliveries)');
    for (const d of result.history) out.push(`  ${d.notifier}: ${historyLine(d)}  [${d.id}]`);
    out.push('', 'What the routes would do with it now:');
  }
  for (const r of result.routes) {
    const extras = [
      r.group && `grouped by ${r.group.by.join(',')}=${r.group.values.join(',')}`,
      r.holdUntil && `held until ${r.holdUntil}`,
      r.repeatEveryMs && `repeats every ${formatDuration(r.repeatEveryMs)}`,
    ]
      .filter(Boolean)
      .join('; ');
    out.push(`  routes[${r.route}] ${r.matched ? 'MATCHED' : 'no match'} -> ${r.notify.join(', ')}: ${r.why}${extras ? ` (${extras})` : ''}`);
  }
  for (const s of result.silencedBy) out.push(`  silenced by ${s.id} until ${s.endsAt}: ${s.comment}`);
  for (const d of result.deliveries) out.push(`  ${d.notifier}: ${d.outcome} — ${d.reason}${d.route >= 0 ? ` (routes[${d.route}])` : ''}`);
  out.push(`  deliveries: ${result.deliveries.map((d) => `${d.notifier} (${d.outcome})`).join(', ') || 'none: no route matches'}`);
  return out.join('\n') + '\n';
}

/** One delivery record in words: sent, grouped into generation N, silenced by S, inhibited by K, repeat n, dead letter. */
function historyLine(d: DeliveryRecord): string {
  const what =
    d.eventType === 'group'
      ? `group notification (generation ${d.id.split('-').at(-2)})`
      : d.summary.startsWith('repeat ')
        ? d.summary.split(':')[0]!
        : 'the event';
  const when = new Date(d.updatedAt || d.createdAt).toISOString();
  switch (d.status) {
    case 'delivered':
      return `${what} sent at ${when}${d.detail ? ` (${d.detail})` : ''}`;
    case 'failed':
      return `${what}: dead letter after ${d.attempts} attempt(s): ${d.lastError ?? ''}`;
    case 'silenced':
      return `${what} silenced by ${d.silencedBy ?? '?'}${d.reason ? ` — ${d.reason}` : ''}`;
    case 'inhibited':
    case 'suppressed':
      return `${what} ${d.status}: ${d.reason ?? ''}`;
    default:
      return `${what} ${d.status}${d.heldUntil ? ` (held until ${new Date(d.heldUntil).toISOString()})` : ''}${d.reason ? ` — ${d.reason}` : ''}`;
  }
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
