// The watcher's commands: daemon, track, tracks, untrack, events.
import type { Command } from 'commander';
import { systemClock } from '../../clock';
import { parseDurationMs, parseSince, SINCE_HELP } from '../../duration';
import { trackTargetSchema } from '../../config/schema';
import type { Expectation } from '../../watch/missing';
import { InvalidInputError, TrackNotFoundError } from '../../model/errors';
import { summarize, type WatchEvent } from '../../store/events';
import { describeTarget, TrackStore, trackFromRequest, verifyTarget } from '../../watch/tracks';
import { parseEntry } from '../../store/outbox';
import { EventFanout } from '../../store/outbox-tail';
import { createLogger } from '../../logger';
import { configOf, globalsOf, providerFromConfig, withRedis } from '../context';
import { parseKeyValues, parsePositiveInt } from '../options';
import { printJson, table } from '../format';

export function registerWatchCommands(program: Command): void {
  program
    .command('daemon')
    .description('run the watcher: scheduler, dispatcher and workers in one process (Ctrl-C drains and stops)')
    .addHelpText('after', '\nExamples:\n  steprun-watch daemon\n  steprun-watch daemon --config config/examples/slack.yaml')
    .action(async (_o, cmd: Command) => {
      const { runDaemon } = await import('../run-daemon');
      await runDaemon(await configOf(cmd));
    });

  program
    .command('workers')
    .description('run only workers (poll and delivery) against the shared Redis: for scaling out')
    .option('--only <kind>', 'poll or deliver')
    .addHelpText('after', '\nExample:\n  steprun-watch workers --only deliver')
    .action(async (o: { only?: string }, cmd: Command) => {
      if (o.only && o.only !== 'poll' && o.only !== 'deliver') throw new InvalidInputError(`--only takes poll or deliver, not "${o.only}"`);
      const { runDaemon } = await import('../run-daemon');
      await runDaemon(await configOf(cmd), { scheduler: false, dispatcher: false, pollWorkers: o.only !== 'deliver', deliverWorkers: o.only !== 'poll' });
    });

  program
    .command('track')
    .description('track an experiment (every new pipeline run), a pipeline run (every step) or one step run')
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
    .addHelpText(
      'after',
      '\nExamples:\n  steprun-watch track --experiment demo --label team=ml\n  steprun-watch track --experiment nightly --since 24h\n  steprun-watch track --pipeline-run demo_1764070000_a1b2c3',
    )
    .action(
      async (
        o: {
          experiment?: string;
          pipelineRun?: string;
          stepRun?: string;
          since?: string;
          expectEvery?: string;
          expectBy?: string;
          tz: string;
          maxDuration?: string;
          label: string[];
          verify: boolean;
        },
        cmd: Command,
      ) => {
        const config = await configOf(cmd);
        const providerName = globalsOf(cmd).provider ?? 'local';
        const provider = providerFromConfig(config, providerName);
        const since = o.since === undefined ? undefined : parseSince(o.since, systemClock.now());
        if (o.since !== undefined && since === undefined) throw new InvalidInputError(`--since takes ${SINCE_HELP}, got "${o.since}"`);
        if (o.since !== undefined && (o.pipelineRun || o.stepRun))
          throw new InvalidInputError('--since is for experiment tracks (a pipeline or step run track watches its run whatever its age)');
        const track = trackFromRequest(
          {
            provider: providerName,
            experiment: o.experiment,
            pipelineRun: o.pipelineRun,
            stepRun: o.stepRun,
            since,
            expect: expectationOf(o),
            maxDurationMs: maxDurationOf(o.maxDuration),
            labels: parseKeyValues(o.label, '--label'),
          },
          'cli',
          systemClock.now(),
        );
        if (o.verify) await verifyTarget(track, provider);
        const added = await withRedis(config, (redis, keys) => new TrackStore(redis, keys, systemClock).add(track));
        if (globalsOf(cmd).json) return printJson({ ...track, added });
        process.stdout.write(`${added ? 'tracking' : 'already tracked'}: ${describeTarget(track)} on ${providerName} (track ${track.id})\n`);
      },
    );

  program
    .command('ping')
    .description('check the config and that Redis answers (exit 0), for health checks and troubleshooting')
    .addHelpText('after', '\nExample:\n  steprun-watch ping --config config/docker.yaml')
    .action(async (_o, cmd: Command) => {
      const config = await configOf(cmd);
      // The same checks as `daemon`: every notifier and provider is built (nothing connects), then closed.
      const { buildAll } = await import('../../wiring');
      const built = await buildAll(config, createLogger({ level: 'silent' }));
      await Promise.all([...built.notifiers.values()].map((n) => n.close?.()));
      await Promise.all([...built.providers.values()].map((p) => p.close?.()));
      const started = Date.now();
      await withRedis(config, (redis) => redis.ping());
      if (globalsOf(cmd).json) return printJson({ redis: 'ok', ms: Date.now() - started });
      process.stdout.write(`config ok, Redis answers (${Date.now() - started} ms)\n`);
    });

  program
    .command('tracks')
    .description('list the tracks')
    .addHelpText('after', '\nExample:\n  steprun-watch tracks --json')
    .action(async (_o, cmd: Command) => {
      const config = await configOf(cmd);
      const tracks = await withRedis(config, (redis, keys) => new TrackStore(redis, keys, systemClock).list());
      if (globalsOf(cmd).json) return printJson(tracks);
      if (tracks.length === 0) return void process.stdout.write('nothing tracked (add one: steprun-watch track --experiment NAME)\n');
      process.stdout.write(
        table([
          ['TRACK', 'PROVIDER', 'TARGET', 'LABELS', 'NEXT POLL', 'FAILURES'],
          ...tracks.map((t) => [
            t.id,
            t.provider,
            describeTarget(t),
            Object.entries(t.labels)
              .map(([k, v]) => `${k}=${v}`)
              .join(',') || '-',
            t.nextPollAt ? new Date(t.nextPollAt).toISOString() : '-',
            String(t.failures),
          ]),
        ]),
      );
    });

  program
    .command('untrack <trackId>')
    .description('stop tracking (the id is shown by `tracks`)')
    .addHelpText('after', '\nExample:\n  steprun-watch untrack t3f9a0c1d2e4b5a6')
    .action(async (trackId: string, _o, cmd: Command) => {
      const config = await configOf(cmd);
      const removed = await withRedis(config, (redis, keys) => new TrackStore(redis, keys, systemClock).remove(trackId));
      if (!removed) throw new TrackNotFoundError(trackId);
      if (globalsOf(cmd).json) return printJson({ untracked: trackId });
      process.stdout.write(`untracked ${trackId}\n`);
    });

  program
    .command('events')
    .description('print the events stream (the outbox), oldest first')
    .option('--follow', 'keep printing new events')
    .option('--limit <n>', 'at most the last N events', (v) => parsePositiveInt(v, '--limit'), 100)
    .addHelpText('after', '\nExample:\n  steprun-watch events --follow --json')
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

/** `--expect-every 24h --expect-by 07:00 --tz Europe/Berlin`, checked as the config checks `tracks[].expect`. */
function expectationOf(o: {
  expectEvery?: string;
  expectBy?: string;
  tz: string;
  experiment?: string;
  pipelineRun?: string;
  stepRun?: string;
}): Expectation | undefined {
  if (o.expectEvery === undefined) {
    if (o.expectBy !== undefined) throw new InvalidInputError('--expect-by needs --expect-every (e.g. --expect-every 24h --expect-by 07:00)');
    return undefined;
  }
  if (o.pipelineRun || o.stepRun) throw new InvalidInputError('--expect-every is for experiment tracks');
  const parsed = trackTargetSchema.shape.expect.safeParse({ every: o.expectEvery, by: o.expectBy, tz: o.tz });
  if (!parsed.success)
    throw new InvalidInputError(`--expect-every/--expect-by/--tz: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

function maxDurationOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDurationMs(text);
  if (!ms) throw new InvalidInputError(`--max-duration takes a duration such as 2h or 45m, got "${text}"`);
  return ms;
}
