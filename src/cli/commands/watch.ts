// The watcher's commands: daemon, track, tracks, untrack, events.
import type { Command } from 'commander';
import { systemClock } from '../../util/clock';
import { SINCE_HELP } from '../../util/duration';
import { trackTargetSchema } from '../../config/schema';
import { InvalidInputError, TrackNotFoundError } from '../../model/errors';
import { summarize, type WatchEvent } from '../../store/events';
import { describeTarget, TrackStore, trackOfTarget, verifyTarget } from '../../store/tracks';
import { parseEntry } from '../../store/outbox';
import { EventFanout } from '../../store/outbox-tail';
import { createLogger } from '../../util/logger';
import { configOf, globalsOf, providerFromConfig, withRedis } from '../context';
import { parseKeyValues, parsePositiveInt } from '../options';
import { defineCommand, keyValues, report, reportList } from '../command';

export function registerWatchCommands(program: Command): void {
  daemonCommand(program);
  workersCommand(program);
  trackCommand(program);
  pingCommand(program);
  tracksCommand(program);
  untrackCommand(program);
  eventsCommand(program);
}

function daemonCommand(program: Command): void {
  defineCommand(
    program,
    'daemon',
    'run the watcher: scheduler, dispatcher and workers in one process (Ctrl-C drains and stops)',
    'steprun-watch daemon',
    'steprun-watch daemon --config config/examples/slack.yaml',
  )
    .option('--listen <address>', 'where the API and dashboard listen, e.g. 127.0.0.1:8790 (env SRW_API_LISTEN; default 127.0.0.1:8787)')
    .action(async (_o, cmd: Command) => {
      const { runDaemon } = await import('../run-daemon');
      await runDaemon(await configOf(cmd, { buildsAll: true }));
    });
}

function workersCommand(program: Command): void {
  defineCommand(program, 'workers', 'run only workers (poll and delivery) against the shared Redis: for scaling out', 'steprun-watch workers --only deliver')
    .option('--only <kind>', 'poll or deliver')
    .action(async (o: { only?: string }, cmd: Command) => {
      if (o.only && o.only !== 'poll' && o.only !== 'deliver') throw new InvalidInputError(`--only takes poll or deliver, not "${o.only}"`);
      const { runDaemon } = await import('../run-daemon');
      await runDaemon(await configOf(cmd, { buildsAll: true }), {
        scheduler: false,
        dispatcher: false,
        pollWorkers: o.only !== 'deliver',
        deliverWorkers: o.only !== 'poll',
      });
    });
}

function trackCommand(program: Command): void {
  defineCommand(
    program,
    'track',
    'track an experiment (every new pipeline run), a pipeline run (every step) or one step run',
    'steprun-watch track --experiment demo --label team=ml',
    'steprun-watch track --experiment nightly --since 24h',
    'steprun-watch track --pipeline-run demo_1764070000_a1b2c3',
  )
    .option('--experiment <name>', 'experiment; alone: track its pipeline runs still active and every new one')
    .option('--since <when>', `experiment tracks: also take the runs created since then: ${SINCE_HELP}`)
    .option('--expect-every <duration>', 'experiment tracks: a pipeline run must start this often (24h), else one experiment.missing')
    .option('--expect-by <HH:MM>', 'with --expect-every: by this local time each day')
    .option('--tz <zone>', 'time zone of --expect-by (IANA, e.g. Europe/Berlin)', 'UTC')
    .option('--max-duration <duration>', 'a step is stuck once Running this long (instead of the learned limit), e.g. 2h')
    .option('--pipeline-run <id>', 'track every step of this pipeline run')
    .option('--step-run <id>', 'track this step run')
    .option('--label <key=value>', 'label carried by its events, for routing (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--no-verify', 'do not ask the provider whether the run exists')
    .action(async (o: TrackFlags & { verify: boolean }, cmd: Command) => {
      const config = await configOf(cmd);
      const providerName = globalsOf(cmd).provider ?? 'local';
      const provider = providerFromConfig(config, providerName);
      const track = trackOfTarget(targetOfFlags(providerName, o), 'cli', systemClock.now());
      if (o.verify) await verifyTarget(track, provider);
      const added = await withRedis(config, (redis, keys) => new TrackStore(redis, keys, systemClock).add(track));
      report(cmd, { ...track, added }, () => `${added ? 'tracking' : 'already tracked'}: ${describeTarget(track)} on ${providerName} (track ${track.id})\n`);
    });
}

function pingCommand(program: Command): void {
  defineCommand(
    program,
    'ping',
    'check the config and that Redis answers (exit 0), for health checks and troubleshooting',
    'steprun-watch ping --config config/docker.yaml',
  ).action(async (_o, cmd: Command) => {
    const config = await configOf(cmd, { buildsAll: true });
    // The same checks as `daemon`: every notifier and provider is built (nothing connects), then closed.
    const { buildAll } = await import('../../runtime/wiring');
    const built = await buildAll(config, createLogger({ level: 'silent' }));
    await Promise.all([...built.notifiers.values()].map((n) => n.close?.()));
    await Promise.all([...built.providers.values()].map((p) => p.close?.()));
    const started = Date.now();
    await withRedis(config, (redis) => redis.ping());
    report(cmd, { redis: 'ok', ms: Date.now() - started }, (r) => `config ok, Redis answers (${r.ms} ms)\n`);
  });
}

function tracksCommand(program: Command): void {
  defineCommand(program, 'tracks', 'list the tracks', 'steprun-watch tracks --json').action(async (_o, cmd: Command) => {
    const config = await configOf(cmd);
    const tracks = await withRedis(config, (redis, keys) => new TrackStore(redis, keys, systemClock).list());
    reportList(cmd, tracks, 'nothing tracked (add one: steprun-watch track --experiment NAME)', {
      TRACK: (t) => t.id,
      PROVIDER: (t) => t.provider,
      TARGET: (t) => describeTarget(t),
      LABELS: (t) => keyValues(t.labels),
      'NEXT POLL': (t) => (t.nextPollAt ? new Date(t.nextPollAt).toISOString() : '-'),
      FAILURES: (t) => String(t.failures),
    });
  });
}

function untrackCommand(program: Command): void {
  defineCommand(program, 'untrack <trackId>', 'stop tracking (the id is shown by `tracks`)', 'steprun-watch untrack t3f9a0c1d2e4b5a6').action(
    async (trackId: string, _o, cmd: Command) => {
      const config = await configOf(cmd);
      const removed = await withRedis(config, (redis, keys) => new TrackStore(redis, keys, systemClock).remove(trackId));
      if (!removed) throw new TrackNotFoundError(trackId);
      report(cmd, { untracked: trackId }, () => `untracked ${trackId}\n`);
    },
  );
}

function eventsCommand(program: Command): void {
  defineCommand(program, 'events', 'print the events stream (the outbox), oldest first', 'steprun-watch events --follow --json')
    .option('--follow', 'keep printing new events')
    .option('--limit <n>', 'at most the last N events', (v) => parsePositiveInt(v, '--limit'), 100)
    .action(async (o: { follow?: boolean; limit: number }, cmd: Command) => {
      const config = await configOf(cmd);
      const json = globalsOf(cmd).json;
      const print = (e: WatchEvent): void => void process.stdout.write(json ? JSON.stringify(e) + '\n' : `${e.time}  ${e.type.padEnd(20)} ${summarize(e)}\n`);
      await withRedis(config, async (redis, keys) => {
        const recent = (await redis.xrevrange(keys.events, '+', '-', 'COUNT', o.limit)).reverse();
        for (const [, fields] of recent) {
          const e = parseEntry(fields);
          if (e) print(e);
        }
        if (!o.follow) return;
        // The same tailer as the API's event stream: from the last entry shown, until Ctrl-C.
        const tail = new EventFanout(redis, keys.events, createLogger({ level: 'silent' }));
        await tail.subscribe(
          {
            onEntry: ([, fields]) => {
              const e = parseEntry(fields);
              if (e) print(e);
            },
          },
          recent.at(-1)?.[0],
        );
        await new Promise<void>((resolve) => process.once('SIGINT', resolve));
        await tail.close();
      });
    });
}

/** The `track` command's flags, as commander gives them. */
interface TrackFlags {
  experiment?: string;
  pipelineRun?: string;
  stepRun?: string;
  since?: string;
  expectEvery?: string;
  expectBy?: string;
  tz: string;
  maxDuration?: string;
  label: string[];
}

/** The flag each field of a track target comes from: errors name what the person typed. */
const FLAG_OF: Record<string, string> = {
  since: '--since',
  maxDuration: '--max-duration',
  labels: '--label',
  expect: '--expect-every',
  'expect.every': '--expect-every',
  'expect.by': '--expect-by',
  'expect.tz': '--tz',
  '(root)': '--experiment/--pipeline-run/--step-run',
};

/** The `track` flags checked by the one track schema (the config's `tracks[]` and `POST /tracks` use it too). */
function targetOfFlags(provider: string, o: TrackFlags) {
  if (o.expectBy !== undefined && o.expectEvery === undefined)
    throw new InvalidInputError('--expect-by needs --expect-every (e.g. --expect-every 24h --expect-by 07:00)');
  const parsed = trackTargetSchema.safeParse({
    provider,
    experiment: o.experiment,
    pipelineRun: o.pipelineRun,
    stepRun: o.stepRun,
    since: o.since,
    maxDuration: o.maxDuration,
    labels: parseKeyValues(o.label, '--label'),
    expect: o.expectEvery === undefined ? undefined : { every: o.expectEvery, by: o.expectBy, tz: o.tz },
  });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.join('.') || '(root)';
  throw new InvalidInputError(`${FLAG_OF[field] ?? field}: ${issue.message}`);
}
