// steprun-watch routes: check routing: `routes test` explains who would get an event, and why.
import { promises as fs } from 'node:fs';
import type { Command } from 'commander';
import { systemClock } from '../../util/clock';
import { AlertStore } from '../../alerts/alert-store';
import { readDecisionState } from '../../alerts/decision-state';
import { explainRouting, type Explanation, type IncidentExplanation } from '../../alerts/explain';
import { IncidentStore } from '../../alerts/incidents';
import { deliveryHistory } from '../../alerts/history';
import { alertPolicyOf } from '../../alerts/policy';
import { findEvent } from '../../store/outbox';
import { SilenceStore } from '../../alerts/silences';
import { InvalidInputError } from '../../model/errors';
import { DeliveryStore, type DeliveryRecord } from '../../store/deliveries';
import { formatDuration } from '../../notify/notifiers/formats/describe';
import { eventFromJson, type WatchEvent } from '../../store/events';
import { defineCommand, report } from '../command';
import { configOf, withRedis } from '../context';

export function routesCommand(program: Command): void {
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
    'steprun-watch routes test --tree failed-event.json',
  )
    .option('--event-id <id>', 'an event of the events stream')
    .option('--tree', 'print the route tree only, with the path the event takes (as amtool config routes test --tree)')
    .argument('[event.json]', 'or an event as JSON (as `events --json` prints it)')
    .action(async (file: string | undefined, o: { eventId?: string; tree?: boolean }, cmd: Command) => {
      if (!file === !o.eventId) throw new InvalidInputError('routes test takes --event-id ID or an EVENT.json file (one of them)');
      const config = await configOf(cmd);
      const now = systemClock.now();
      const policy = alertPolicyOf(config);
      const result = await withRedis(config, async (redis, keys) => {
        const event = o.eventId ? await findEvent(redis, keys, o.eventId) : await readEventFile(file!);
        const state = await readDecisionState({ policy, alerts: new AlertStore(redis, keys), silences: new SilenceStore(redis, keys) }, [event], now);
        const history = o.eventId ? await deliveryHistory(redis, keys, new DeliveryStore(redis, keys), policy, event) : undefined;
        return new IncidentStore(redis, keys).explain(explainRouting(policy, state, event, history));
      });
      report(cmd, result, () => (o.tree ? treeText(result) : explanationText(result)));
    });
}

/** `routes test` for people: what happened to the event (--event-id), then, apart, what the routes would do now. */
function explanationText(result: Explanation): string {
  const { event, alert } = result;
  const out: string[] = [`event ${event.id} (${event.type}): ${event.summary}`];
  if (alert) {
    const open = alert.open;
    const state = open ? ` — open since ${open.since}, ${open.failures} failure(s), told: ${open.told.join(', ') || 'nobody'}` : ' — not open now';
    out.push(`  ${alert.action}s alert ${alert.key}${state}`);
  }
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
    out.push(`${'  '.repeat(r.depth + 1)}${r.at} ${routeMark(r)} -> ${r.notify.join(', ') || 'nobody'}: ${r.why}${extras ? ` (${extras})` : ''}`);
  }
  for (const s of result.silencedBy) out.push(`  silenced by ${s.id} until ${s.endsAt}: ${s.comment}`);
  for (const d of result.deliveries) {
    out.push(`  ${d.notifier}: ${d.outcome} — ${d.reason}${d.route >= 0 ? ` (${result.routes[d.route]?.at ?? `routes[${d.route}]`})` : ''}`);
    if (d.incident) out.push(`    ${incidentLine(d.incident)}`);
  }
  out.push(`  deliveries: ${result.deliveries.map((d) => `${d.notifier} (${d.outcome})`).join(', ') || 'none: no route matches'}`);
  return out.join('\n') + '\n';
}

/** MATCHED (this route takes it), matched (a child route takes it, or nobody), no match, or not reached. */
function routeMark(r: Explanation['routes'][number]): string {
  return r.taken ? 'MATCHED' : r.matched ? 'matched' : r.why.startsWith('not reached') ? 'not reached' : 'no match';
}

/** The tree as amtool's `config routes test --tree` shows it: every route indented under its parent, the path taken marked. */
function treeText(result: Explanation): string {
  const lines = result.routes.map((r) => `${'  '.repeat(r.depth)}${r.taken ? '*' : r.matched ? '+' : '-'} ${r.at} -> ${r.notify.join(', ') || 'nobody'}`);
  const taken = result.routes.filter((r) => r.taken).map((r) => r.at);
  return (
    `${lines.join('\n')}\n${taken.length ? `taken by: ${taken.join(', ')}` : 'no route takes it'}\n(* takes it, + matched and passed on to ` +
    `a child, - not matched or not reached)\n`
  );
}

/** A pager's incident in words: its group, the key the pager holds, what it was last sent, and the next flush. */
function incidentLine(i: IncidentExplanation): string {
  const log = i.log
    ? `last sent ${i.log.action} at ${i.log.at} (${i.log.firing} firing, ${i.log.resolved} resolved; ${i.log.notifications} notification(s))`
    : 'never sent';
  const next = i.nextFlushAt ? `; next flush ${i.nextFlushAt}` : '';
  return `incident group ${i.groupId}, key ${i.key}: ${log}${i.pending ? '; a message is on its way' : ''}${next}`;
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
    case 'incident':
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
  const event = eventFromJson(value);
  if (!event) throw new InvalidInputError(`${file}: an event needs at least a "type" (as \`events --json\` prints it)`);
  return event;
}
