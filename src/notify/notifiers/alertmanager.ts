// The alertmanager notifier: hands alerts to a Prometheus Alertmanager (POST /api/v2/alerts), as Prometheus does —
// firing with an `endsAt` a few resends ahead, posted again every `resend` while the alert is open (the daemon's
// repeat, built in for this notifier), and resolved with `endsAt` = when it resolved. Alertmanager then groups,
// routes, silences and notifies by its own config. Several `url`s (an HA cluster) are each sent every alert.
import { z } from 'zod';
import { alertActionOf } from '../../alerts/alert-key';
import type { WatchEvent } from '../../store/events';
import { maskUrl } from '../../util/logger';
import { resendMsOf } from '../../alerts/policy';
import { duration } from '../../config/field-schemas';
import { postJson } from './http';
import type { Notifier, NotifierFactory } from '../notifier';
import { parseOptions } from '../options';
import { subjectOf } from './formats/describe';

/** A firing alert's endsAt is this many resends ahead: a few lost posts (or a daemon restarting) do not resolve it. */
const RESENDS_AHEAD = 4;

const optionsSchema = z.strictObject({
  type: z.literal('alertmanager'),
  /** One Alertmanager, or every member of an HA cluster. */
  url: z.union([z.string().url(), z.array(z.string().url()).min(1)]),
  /** Post an open alert again this often (`30s`, `1m`); well under Alertmanager's resolve_timeout. */
  resend: duration.optional(),
  headers: z.record(z.string(), z.string()).default({}),
  timeoutMs: z.number().int().positive().default(10000),
});

export const alertmanagerNotifierFactory: NotifierFactory = (raw, ctx): Notifier => {
  const o = parseOptions(optionsSchema, raw, ctx.name);
  const urls = (Array.isArray(o.url) ? o.url : [o.url]).map((u) => `${u.replace(/\/+$/, '')}/api/v2/alerts`);
  const resendMs = resendMsOf(raw);
  return {
    type: 'alertmanager',
    name: ctx.name,
    async deliver(event, delivery) {
      const alert = alertmanagerAlert(event, Date.now(), resendMs);
      if (!alert) return { detail: `skipped: ${event.type} is not an alert` };
      const body = JSON.stringify([alert]);
      const headers = { 'user-agent': 'steprun-watch', ...o.headers, 'content-type': 'application/json' };
      // Every member is sent it; one that took it is enough (Alertmanager's members gossip), none is a failure.
      const results = await Promise.allSettled(urls.map((url) => postJson({ url, body, headers, timeoutMs: o.timeoutMs, signal: delivery.signal })));
      const taken = urls.filter((_u, i) => results[i]!.status === 'fulfilled');
      if (taken.length === 0) throw (results[0] as PromiseRejectedResult).reason;
      const missed = urls.filter((_u, i) => results[i]!.status === 'rejected').map((u) => maskUrl(u));
      return {
        detail:
          `${event.type === 'alert.resolved' ? 'resolved' : 'firing'} at ` +
          `${taken.map((u) => maskUrl(u)).join(', ')}${missed.length ? `; not at ${missed.join(', ')}` : ''}`,
      };
    },
  };
};

interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}

/**
 * The alert as Alertmanager takes it, or undefined for an event that is not one. Its labels are the same for the
 * alert's whole life — firing, each resend and the resolve — so Alertmanager holds one alert: `alertname` (from the
 * type that opened it), `alertkey`, `provider`, `experiment`, `step` or `pipeline`, `severity`, and the track's labels.
 */
export function alertmanagerAlert(e: WatchEvent, now: number, resendMs: number): PostableAlert | undefined {
  if (e.type === 'alert.resolved' && e.alert) {
    const a = e.alert;
    return {
      labels: labelsOf(e, a.openedType, a.key, a.openedStep, a.openedPipeline),
      annotations: { summary: `[Resolved] ${a.openedSummary}`, ...(a.resolvedRun ? { resolvedRun: a.resolvedRun } : {}), ...e.annotations },
      startsAt: a.openedAt,
      endsAt: e.time,
      ...(e.dashboardUrl ? { generatorURL: e.dashboardUrl } : {}),
    };
  }
  if (!e.alertKey || (alertActionOf(e) !== 'open' && !e.repeat && !e.stillFailing)) return undefined;
  const reason = e.stepRun?.error?.message ?? e.error?.message ?? e.stuck?.reason;
  return {
    labels: labelsOf(e, e.type, e.alertKey, e.stepRun?.name, e.pipelineRun ? (e.pipelineRun.name ?? e.experiment) : undefined),
    annotations: {
      summary: subjectOf({ ...e, repeat: undefined, stillFailing: undefined }),
      ...(reason ? { description: reason } : {}),
      ...(e.pipelineRunId ? { pipelineRunId: e.pipelineRunId } : {}),
      ...e.annotations,
    },
    startsAt: e.stillFailing?.openedAt ?? e.time,
    endsAt: new Date(now + RESENDS_AHEAD * resendMs).toISOString(),
    ...(e.dashboardUrl ? { generatorURL: e.dashboardUrl } : e.links?.[0] ? { generatorURL: e.links[0].url } : {}),
  };
}

function labelsOf(e: WatchEvent, type: string, key: string, step: string | undefined, pipeline: string | undefined): Record<string, string> {
  const own: Record<string, string> = {};
  // Label names are [a-zA-Z_][a-zA-Z0-9_]*; a track label that is not one is written with "_".
  for (const [name, value] of Object.entries(e.labels)) own[name.replace(/[^a-zA-Z0-9_]/g, '_').replace(/^(\d)/, '_$1')] = value;
  return {
    ...own,
    alertname: type.replace(/(^|[.])(\w)/g, (_m, _dot, c: string) => c.toUpperCase()).replace(/run/g, 'Run'),
    alertkey: key,
    provider: e.provider,
    experiment: e.experiment,
    ...(step ? { step } : {}),
    ...(pipeline && !step ? { pipeline } : {}),
    severity: type === 'steprun.stuck' || type === 'steprun.substate' || type === 'experiment.missing' ? 'warning' : 'error',
  };
}
