// steprun-watch track: track an experiment (every new pipeline run), a pipeline run (every step) or one step run.
import type { Command } from 'commander';
import { systemClock } from '../../util/clock';
import { SINCE_HELP } from '../../util/duration';
import { trackTargetSchema } from '../../config/schema';
import { InvalidInputError } from '../../model/errors';
import { describeTarget, TrackStore, trackOfTarget, verifyTarget } from '../../store/tracks';
import { configOf, globalsOf, providerFromConfig } from '../context';
import { auditedWrite, cliIdentity } from '../audited';
import { parseKeyValues } from '../options';
import { defineCommand, report } from '../command';

export function trackCommand(program: Command): void {
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
      const track = { ...trackOfTarget(targetOfFlags(providerName, o), 'cli', systemClock.now()), createdBy: cliIdentity().name };
      if (o.verify) await verifyTarget(track, provider);
      const added = await auditedWrite(config, `track ${track.id}`, (redis, keys) => new TrackStore(redis, keys, systemClock).add(track));
      report(cmd, { ...track, added }, () => `${added ? 'tracking' : 'already tracked'}: ${describeTarget(track)} on ${providerName} (track ${track.id})\n`);
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
  experiment: '--experiment',
  pipelineRun: '--pipeline-run',
  stepRun: '--step-run',
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
