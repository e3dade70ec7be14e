// The config schema: one zod schema that validates and documents every setting (docs/CONFIG.md mirrors it).
import { z } from 'zod';
import { annotationsSchema, duration, name } from './field-schemas';
import { auditSchema, oidcSchema, sessionsSchema } from './auth-schema';
import { inhibitRuleSchema, routesSchema } from './route-schema';
import { parseSince, SINCE_HELP } from '../util/duration';
import { timeRangeSchema, validTimeZone } from './time-range-schema';

export { timeRangeSchema } from './time-range-schema';

/** `host:port` of a Redis node. */
const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'host:port, e.g. 10.0.0.5:6379');
/** A provider instance: `type` picks the factory, the rest are that provider's options. */
export const providerSchema = z.looseObject({ type: z.string() });
/** A notifier instance: `type` picks the plugin, the rest are its options (checked by the plugin). */
export const notifierSchema = z.looseObject({ type: z.string() });

/** An experiment name or run id: what Azure ML and the local run store take (it becomes a URL segment and a folder name). */
const runName = z.string().refine((v) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(v), {
  error: (issue) => `"${String(issue.input)}" is not a run or experiment name: 1-255 letters, digits, '.', '_' or '-', starting with a letter or digit`,
});

export const trackTargetSchema = z
  .strictObject({
    provider: name.default('local'),
    experiment: runName.optional(),
    pipelineRun: runName.optional(),
    stepRun: runName.optional(),
    labels: z.record(z.string(), z.string()).default({}),
    /** `runbook`, `summary`, `description`, ...: Mustache over the event's fields, in every message of this track (over a route's). */
    annotations: annotationsSchema.optional(),
    /** Experiment tracks: also take the runs created since then (runs not yet terminal are always taken). */
    since: z
      .string()
      .refine((s) => parseSince(s, Date.now()) !== undefined, SINCE_HELP)
      .optional(),
    /** A step of this track is stuck once Running this long, whatever it learned (steprun.stuck). */
    maxDuration: duration.optional(),
    /** Experiment tracks: a pipeline run must start every `every` (by `by`, local time in `tz`), else experiment.missing. */
    expect: z
      .strictObject({
        every: duration,
        by: z
          .string()
          .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM')
          .optional(),
        tz: z.string().default('UTC').refine(validTimeZone, 'an IANA time zone such as Europe/Berlin'),
      })
      .transform(({ every, ...rest }) => ({ everyMs: every, ...rest }))
      .optional(),
  })
  // The most specific id decides the kind; the others may be given as hints (Azure ML needs the experiment).
  .refine((t) => Boolean(t.experiment || t.pipelineRun || t.stepRun), { message: 'a track needs one of experiment, pipelineRun or stepRun' })
  // One schema for the config, the API and the CLI: what only an experiment track can use is refused on the others.
  .refine((t) => t.since === undefined || !(t.pipelineRun || t.stepRun), {
    message: 'is for experiment tracks (a pipeline or step run track watches its run whatever its age)',
    path: ['since'],
  })
  .refine((t) => t.expect === undefined || !(t.pipelineRun || t.stepRun), { message: 'is for experiment tracks', path: ['expect'] });

export const configSchema = z.strictObject({
  dataDir: z.string().optional(),
  redis: z
    .strictObject({
      url: z
        .string()
        .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
        .optional(),
      prefix: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, "_" or "-" (at most 32)')
        .default('srw'),
      /** Redis Cluster: seed nodes. Every key and BullMQ queue shares the `{prefix}` hash tag, so all of one deployment lives in one slot. */
      cluster: z.array(hostPort).min(1).optional(),
      /** Redis Sentinel: the sentinels, and `name`, the master they watch. */
      sentinels: z.array(hostPort).min(1).optional(),
      name: z.string().min(1).optional(),
      /** For cluster and sentinel nodes (a `url` carries its own); from the environment. */
      password: z.string().min(1).optional(),
    })
    .refine((r) => !(r.cluster && r.sentinels), { message: 'give cluster or sentinels, not both', path: ['cluster'] })
    .refine((r) => !r.sentinels || r.name, { message: "sentinels need the master's name (redis.name)", path: ['name'] })
    .prefault({}),
  providers: z.record(name, providerSchema).default({}),
  poll: z
    .strictObject({
      /** node-cron expression of the scheduler tick (six fields: seconds first). */
      tick: z.string().default('*/5 * * * * *'),
      minIntervalSeconds: z.number().positive().default(5),
      maxIntervalSeconds: z.number().positive().default(300),
      /** Tracks claimed per tick at most (the rest wait for the next tick). */
      batch: z.number().int().positive().default(2000),
      /** Polls in flight per provider and process (a job may carry several polls due close together). */
      concurrency: z.number().int().positive().default(16),
      /** Per provider instance: poll concurrency and a rate limit of provider calls (its polls then go one per job). */
      providers: z
        .record(name, z.strictObject({ concurrency: z.number().int().positive().optional(), maxPerMinute: z.number().int().positive().optional() }))
        .default({}),
      /** Polls that fail this many times in a row raise one track.error event. */
      errorAfterFailures: z.number().int().positive().default(3),
      /** A pipeline run with no status of its own (made by `exec`) is watched this long after its last step ended. */
      openRunGraceSeconds: z.number().nonnegative().default(600),
      /**
       * A metered provider's (Azure ML's) running steps whose durations are learned (stuck.minSamples Finished runs)
       * are polled where they usually end, sparsely before: false keeps the back-off on the time since the last change.
       */
      placeByLearnedDurations: z.boolean().default(true),
      /** Change hints (a provider's change feed: the local run store, Azure ML's Event Grid) make a track's poll happen now. */
      hints: z
        .strictObject({
          enabled: z.boolean().default(true),
          /** A hinted poll waits this long, so that a burst of writes is one poll. */
          debounceMs: z.number().int().nonnegative().default(50),
          /** Hinted polls of one track are at least this far apart. */
          minGapMs: z.number().int().nonnegative().default(1000),
          /** While hints arrived within this long, a provider's quiet tracks are polled at maxIntervalSeconds (0: never). */
          pushedForSeconds: z.number().nonnegative().default(600),
        })
        .prefault({}),
    })
    .prefault({}),
  delivery: z
    .strictObject({
      attempts: z.number().int().positive().default(6),
      backoffMs: z.number().int().positive().default(2000),
      concurrency: z.number().int().positive().default(32),
    })
    .prefault({}),
  workers: z
    .strictObject({
      /** BullMQ lock: a killed worker's job comes back after about this long. */
      lockDurationMs: z.number().int().min(1000).default(30000),
      stalledIntervalMs: z.number().int().min(500).optional(),
      /** Stream entries left pending by a dead dispatcher are reclaimed after this long. */
      reclaimIdleMs: z.number().int().min(100).default(30000),
      /** Worker-only processes (`steprun-watch workers`) serve /healthz, /readyz and /metrics here; beyond loopback it needs api.token. */
      listen: z.string().default('127.0.0.1:8788'),
      /** Threads that deliver beside the daemon's (docs/PERFORMANCE.md); auto: one on four cores or more. */
      deliverThreads: z.union([z.literal('auto'), z.number().int().min(0).max(16)]).default(0),
    })
    .prefault({}),
  events: z.strictObject({ maxLen: z.number().int().positive().default(100000) }).prefault({}),
  /** Stuck steps: Running longer than max(minDuration, factor × p95 of its last Finished runs), or Queued longer than maxQueued. */
  stuck: z
    .strictObject({
      enabled: z.boolean().default(true),
      minDuration: duration.default(15 * 60_000),
      factor: z.number().positive().default(3),
      /** With no history (fewer than `minSamples` Finished runs), a Running step is stuck after this. */
      maxDuration: duration.default(6 * 3_600_000),
      minSamples: z.number().int().positive().default(5),
      maxQueued: duration.default(2 * 3_600_000),
      /** Raw sub-states of Running with a limit of their own (Azure ML's Finalizing, CancelRequested, NotResponding, Paused). */
      states: z.record(z.string(), duration).default({ Finalizing: 3_600_000, CancelRequested: 1_800_000, NotResponding: 1_800_000, Paused: 86_400_000 }),
    })
    .prefault({}),
  notifiers: z.record(name, notifierSchema).default({}),
  routes: routesSchema,
  /** Named weekly windows that routes mute or are active in (`mute`, `activeOnly`). */
  timeIntervals: z.record(name, z.array(timeRangeSchema).min(1)).default({}),
  /** Inhibition rules; besides them, a pipeline run's failure is inhibited when each of its failed steps is silenced or already paged. */
  inhibit: z.array(inhibitRuleSchema).default([]),
  tracks: z.array(trackTargetSchema).default([]),
  log: z.strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info') }).prefault({}),
  api: z
    .strictObject({
      enabled: z.boolean().default(true),
      listen: z.string().default('127.0.0.1:8787'),
      /**
       * Bearer token; required when listening beyond loopback, then at least 32 characters (config-check.ts). An empty
       * value (e.g. an unset `${VAR:-}`) is an error, never "auth off".
       */
      token: z.string().min(1, 'is empty (an unset ${VAR:-}?): give a token, or remove the field').optional(),
      /** Sign-in with an OpenID Connect provider (Entra ID, any other), and who gets which role (docs/SIGN-IN.md). */
      oidc: oidcSchema.optional(),
      /** Dashboard sessions: idle and absolute lifetimes. */
      sessions: sessionsSchema,
      /** The audit log of every write: how long and how much of it is kept. */
      audit: auditSchema,
      /** Where people reach the dashboard (`https://srw.example.com`): every message links to its run's page there. */
      publicUrl: z
        .string()
        .regex(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, 'an http(s) address such as https://srw.example.com (no query or fragment)')
        .optional(),
      /** Host names requests may be addressed to, besides the listen address and loopback names (DNS rebinding defence). */
      allowedHosts: z.array(z.string().min(1)).default([]),
      /** Server-Sent Events clients at most (they share one Redis reader); more get 429. */
      maxStreamClients: z.number().int().positive().default(100),
      /** POST /hooks/eventgrid: Azure Event Grid pushes Azure ML run events as change hints for this azureml provider. */
      eventGrid: z
        .strictObject({
          provider: z.string().min(1),
          /** Carried in the subscription's endpoint URL (?secret=...); from the environment, e.g. ${SRW_EVENTGRID_SECRET}. */
          secret: z.string().min(16, 'at least 16 characters (it is the only thing that keeps forged hints out)'),
        })
        .optional(),
      /** POST /hooks/pagerduty: PagerDuty v3 webhooks (acknowledged, unacknowledged, resolved) signed with any of these secrets (rotation). */
      pagerDuty: z.strictObject({ secrets: z.array(z.string().min(16, 'at least 16 characters (PagerDuty gives 64)')).min(1) }).optional(),
      /** POST /hooks/slack: the Slack app's interactivity (buttons), verified with its signing secret; the buttons appear when it is set. */
      slack: z
        .strictObject({
          signingSecret: z.string().min(16, "the Slack app's signing secret (Basic Information → App Credentials)"),
          /** Where a click's response_url may point: Slack's own hooks only (a signed click could name any host). */
          responseUrlPrefixes: z.array(z.string().url()).min(1).default(['https://hooks.slack.com/']),
        })
        .optional(),
    })
    .prefault({}),
});

/** `127.0.0.1:8787`, `localhost:80`, `[::1]:8787` or a bare port (which binds to 127.0.0.1). */
export function isLoopbackListen(listen: string): boolean {
  const host = /^(?:\[([^\]]+)\]|([^:]+)):\d+$/.exec(listen)?.slice(1).find(Boolean);
  if (host === undefined) return /^\d+$/.test(listen);
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export type Config = z.infer<typeof configSchema>;
export type TrackTargetConfig = z.infer<typeof trackTargetSchema>;
export type { InhibitRule, RouteConfig } from './route-schema';
