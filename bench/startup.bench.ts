// CLI start-up time: `--version` and `status ID` as a user types them (median and worst of N runs), against plain node.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { arg, percentile, round } from './support';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/steprun-watch.js');

function time(args: string[], env: NodeJS.ProcessEnv): number {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env: { ...process.env, ...env }, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function report(label: string, ms: number[]): void {
  console.log(`${label.padEnd(28)} median ${round(percentile(ms, 50) / 1000)} s   max ${round(Math.max(...ms) / 1000)} s`);
}

function main(): void {
  const runs = arg('runs', 10);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'srw-startup-'));
  const env = { SRW_DATA_DIR: dataDir };
  try {
    const out = execFileSync(process.execPath, [BIN, 'exec', '--experiment', 'bench', '--step', 's', '--json', '--', 'true'], {
      env: { ...process.env, ...env },
      cwd: dataDir,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const { stepRunId } = JSON.parse(out.toString()) as { stepRunId: string };
    const measure = (args: string[]) => Array.from({ length: runs }, () => time(args, env));
    console.log(`CLI start-up, ${runs} runs each, on ${os.cpus().length} cores (node ${process.version})`);
    report('node -e 0 (plain node)', measure(['-e', '0']));
    report('steprun-watch --version', measure([BIN, '--version']));
    report('steprun-watch status ID', measure([BIN, 'status', stepRunId]));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main();
