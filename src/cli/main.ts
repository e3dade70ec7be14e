// The steprun-watch command: global options, subcommands, and one place that turns errors into exit codes.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { isSrwError } from '../model/errors';
import { alertsCommand } from './commands/alerts';
import { daemonCommand } from './commands/daemon';
import { deliveriesCommand } from './commands/deliveries';
import { demoCommand } from './commands/demo';
import { downloadCommand } from './commands/download';
import { eventsCommand } from './commands/events';
import { execCommand } from './commands/exec';
import { logsCommand } from './commands/logs';
import { outputsCommand } from './commands/outputs';
import { pingCommand } from './commands/ping';
import { routesCommand } from './commands/routes';
import { runCommand } from './commands/run';
import { silenceCommand } from './commands/silence';
import { tokensCommand } from './commands/tokens';
import { auditCommand } from './commands/audit';
import { statusCommand } from './commands/status';
import { stepsCommand } from './commands/steps';
import { trackCommand } from './commands/track';
import { tracksCommand } from './commands/tracks';
import { untrackCommand } from './commands/untrack';
import { waitCommand } from './commands/wait';
import { workersCommand } from './commands/workers';
import { EXIT, exitCodeFor } from '../model/error-catalogue';
import { packageRoot } from '../util/package-root';

/** Every subcommand, one file each in commands/, in the order `--help` lists them. */
const COMMANDS: ((program: Command) => void)[] = [
  execCommand,
  runCommand,
  statusCommand,
  stepsCommand,
  logsCommand,
  outputsCommand,
  downloadCommand,
  waitCommand,
  daemonCommand,
  workersCommand,
  trackCommand,
  pingCommand,
  tracksCommand,
  untrackCommand,
  eventsCommand,
  deliveriesCommand,
  alertsCommand,
  silenceCommand,
  tokensCommand,
  auditCommand,
  routesCommand,
  demoCommand,
];

export function buildProgram(): Command {
  const program = new Command('steprun-watch')
    .description('Watch ML pipeline step runs (Azure ML and local) and alert once per status change.')
    .option('--config <file>', 'config file, YAML or JSON (env SRW_CONFIG); default: embedded defaults')
    .option('--data-dir <dir>', 'data folder: local runs, outbox, harvest (env SRW_DATA_DIR; default .steprun-watch)')
    .option('--redis-prefix <prefix>', 'Redis key prefix: one per deployment sharing a Redis (env SRW_REDIS_PREFIX; default srw)')
    .option('--provider <name>', 'provider instance from the config (default: local)')
    .option('--json', 'print data as JSON')
    .option('--debug', 'show stack traces on errors')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError()
    .exitOverride();
  for (const command of COMMANDS) command(program);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** Runs one command line; resolves true when it succeeded (process.exitCode says how it ended otherwise). */
export async function main(argv: string[]): Promise<boolean> {
  endQuietlyOnClosedPipe();
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return true;
  } catch (err) {
    process.exitCode = reportError(err, argv.includes('--debug'));
    return false;
  }
}

/**
 * `steprun-watch events | head -1`: when the reader closes the pipe, stop as a Unix tool does (nothing on stderr,
 * exit 0), instead of an EPIPE stack trace. Any other stdout error is still reported.
 */
function endQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(EXIT.ok);
      throw err;
    });
  }
}

function reportError(err: unknown, debug: boolean): number {
  if (err instanceof CommanderError) {
    // Help and version are "errors" to commander with exit code 0; usage errors were printed already.
    return err.exitCode === 0 ? EXIT.ok : EXIT.invalidInput;
  }
  if (isSrwError(err)) {
    process.stderr.write(`steprun-watch: ${err.message} [${err.code}]\n`);
    if (debug) process.stderr.write(`${err.stack}\n`);
    return exitCodeFor(err.code);
  }
  const e = err as Error;
  process.stderr.write(`steprun-watch: unexpected error: ${e?.message ?? String(err)}${debug ? '' : ' (run with --debug for details)'}\n`);
  if (debug) process.stderr.write(`${e?.stack}\n`);
  return EXIT.failed;
}

if (require.main === module) {
  void main(process.argv);
}
