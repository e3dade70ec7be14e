// steprun-watch alerts: list the open alerts: since when, the run that opened them, who was told, who acknowledged.
import type { Command } from 'commander';
import { systemClock } from '../../util/clock';
import { acknowledge, unacknowledge } from '../../alerts/ack';
import { IncidentStore } from '../../alerts/incidents';
import { AlertStore } from '../../alerts/alert-store';
import { holdsLine, receiverHolds } from '../../alerts/receivers';
import { DeliveryStore } from '../../store/deliveries';
import { formatDuration } from '../../notify/notifiers/formats/describe';
import { InvalidInputError } from '../../model/errors';
import { pagerApiOf } from '../../notify/notifiers/webhook';
import { reconcilePager, type PagerDrift } from '../../notify/pager/reconcile';
import { createLogger } from '../../util/logger';
import { defineCommand, report, reportList } from '../command';
import { configOf, notifierFromConfig, withRedis } from '../context';
import { auditedWrite } from '../audited';

export function alertsCommand(program: Command): void {
  const alertsCommand = defineCommand(
    program,
    'alerts',
    'list the open alerts: since when, the run that opened them, who was told, who acknowledged',
    'steprun-watch alerts --json',
    'steprun-watch alerts ack local/churn/step/train --comment "looking"',
  ).action(async (_o, cmd: Command) => {
    const config = await configOf(cmd);
    const [alerts, held] = await withRedis(config, async (redis, keys) => {
      const open = await new AlertStore(redis, keys).list();
      return [open, await receiverHolds(open, new DeliveryStore(redis, keys), new IncidentStore(redis, keys))] as const;
    });
    const now = systemClock.now();
    reportList(
      cmd,
      alerts.map(({ event: _event, ...a }) => ({ ...a, held: held.get(a.id) ?? {} })),
      'no open alerts',
      {
        KEY: (a) => a.key,
        'OPEN FOR': (a) => formatDuration(now - a.openedAt),
        SINCE: (a) => new Date(a.openedAt).toISOString(),
        'OPENED BY RUN': (a) => a.openedRun ?? '-',
        FAILURES: (a) => String(a.failures),
        // What each receiver holds now (issue 36): not merely who was routed a message.
        HOLDS: (a) => holdsLine(a.held),
        ACKED: (a) => (a.acked ? `${a.acked.by} ${new Date(a.acked.at).toISOString()}` : '-'),
      },
    );
  });
  defineAckCommands(alertsCommand);
  defineReconcileCommand(alertsCommand);
}

/** `alerts reconcile`: what PagerDuty holds open against what the daemon holds (notify/pager/reconcile.ts). */
function defineReconcileCommand(alertsCommand: Command): void {
  defineCommand(
    alertsCommand,
    'reconcile',
    "compare the incidents PagerDuty holds open (its REST API: a pager notifier's `api`) with the incident groups open here; --fix mends the drift",
    'steprun-watch alerts reconcile',
    'steprun-watch alerts reconcile --fix --notifier pagerduty',
  )
    .option('--fix', 'resolve incidents of ours open there only; make groups open here only page again')
    .option('--notifier <name>', 'one pager notifier (default: every one with `api`)')
    .action(async (o: { fix?: boolean; notifier?: string }, cmd: Command) => {
      const config = await configOf(cmd);
      const names = Object.keys(config.notifiers).filter((n) => (o.notifier ? n === o.notifier : pagerApiOf(config.notifiers[n]!)));
      if (names.length === 0 || (o.notifier && !pagerApiOf(config.notifiers[o.notifier] ?? {}))) {
        throw new InvalidInputError(
          `${o.notifier ? `notifiers.${o.notifier}` : 'no notifier'}: a pager (format: pagerduty) with api: {token, serviceId} is needed to compare`,
        );
      }
      const logger = createLogger({ level: 'warn', pretty: false });
      const drifts = await withRedis(config, async (redis, keys) => {
        const found = [];
        for (const name of names) {
          const notifier = await notifierFromConfig(config, name, logger);
          try {
            const api = pagerApiOf(config.notifiers[name]!)!;
            found.push(
              await reconcilePager({ name, api, incidents: new IncidentStore(redis, keys), notifier, logger }, { fix: Boolean(o.fix), now: systemClock.now() }),
            );
          } finally {
            await notifier.close?.();
          }
        }
        return found;
      });
      report(cmd, { drifts }, () => drifts.map(driftText).join(''));
    });
}

function driftText(d: PagerDrift): string {
  const lines = [
    ...d.openThereOnly.map((k) => `  open at PagerDuty, no open group here: ${k}`),
    ...d.openHereOnly.map((k) => `  open here, no open incident at PagerDuty: ${k}`),
    ...d.ackedHereOnly.map((k) => `  acknowledged here, triggered at PagerDuty: ${k}`),
    ...d.fixed.map((f) => `  fixed: ${f}`),
  ];
  return `${d.notifier}: ${lines.length ? `drift\n${lines.join('\n')}` : 'PagerDuty holds what the daemon holds'}\n`;
}

/** `alerts ack` and `alerts unack`: an acknowledgement, given or taken back, reaches every pager holding the alert. */
function defineAckCommands(alertsCommand: Command): void {
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
      const done = await auditedWrite(config, `alerts ack ${alert}`, (redis, keys) =>
        acknowledge(new AlertStore(redis, keys), alert, by, systemClock.now(), o.comment, new IncidentStore(redis, keys)),
      );
      report(cmd, { id: done.alert.id, key: done.alert.key, acked: done.alert.acked, outcome: done.outcome }, () =>
        done.outcome === 'acked'
          ? `acknowledged ${done.alert.key} (${done.alert.id}) as ${done.by}\n`
          : `${done.alert.key} was already acknowledged by ${done.by}\n`,
      );
    });
  defineCommand(
    alertsCommand,
    'unack <alert>',
    'take an acknowledgement back (its id or key): repeats resume, and a pager holding it is triggered again',
    'steprun-watch alerts unack local/churn/step/train',
  ).action(async (alert: string, _o: unknown, cmd: Command) => {
    const config = await configOf(cmd);
    const after = await auditedWrite(config, `alerts unack ${alert}`, (redis, keys) =>
      unacknowledge(new AlertStore(redis, keys), alert, systemClock.now(), new IncidentStore(redis, keys)),
    );
    report(
      cmd,
      { id: after.id, key: after.key, acked: after.acked ?? null, outcome: 'unacknowledged' },
      () => `took the acknowledgement of ${after.key} (${after.id}) back\n`,
    );
  });
}
