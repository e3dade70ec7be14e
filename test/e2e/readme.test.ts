// The README's commands, run as written (with a private Redis prefix and data folder): the newcomer's path must work.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { ROOT } from '../support/cli';
import { dropPrefix, REDIS_URL, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';
import { waitFor } from '../support/wait-for';
import { Keys } from '../../src/store/keys';

const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const redis = testRedis();
const prefix = uniquePrefix('readme');
const dir = tempDir('readme');
const configFile = path.join(dir, 'config.yaml');
writeFileSync(configFile, stringify({ redis: { url: REDIS_URL, prefix }, api: { listen: '127.0.0.1:0' } }));
const env = { ...process.env, SRW_CONFIG: configFile, SRW_DATA_DIR: path.join(dir, 'data') };
const background: ChildProcess[] = [];

afterAll(async () => {
  // The background line runs as bash -> npx -> node: stop the whole process group, not just bash.
  for (const c of background) if (c.pid) await stopGroup(c.pid);
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

/** SIGTERM to the group, then wait until it is gone (the daemon drains), SIGKILL after 15 s: its data folder is removed next. */
async function stopGroup(pid: number): Promise<void> {
  const signal = (sig: NodeJS.Signals | 0): boolean => {
    try {
      process.kill(-pid, sig);
      return true;
    } catch {
      return false; // already gone
    }
  };
  if (!signal('SIGTERM')) return;
  for (let i = 0; i < 150 && signal(0); i++) await new Promise((r) => setTimeout(r, 100));
  signal('SIGKILL');
}

/** The shell lines of the first ```sh block after a heading, without comments. */
function commandsUnder(heading: string): string[] {
  const section = readme.slice(readme.indexOf(heading));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  return block
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
}

function sh(line: string, timeoutMs = 60000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', line], { cwd: ROOT, env, encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('README', () => {
  it('starts with the two commands: install and run the demo, and run the tests', () => {
    expect(commandsUnder('# steprun-watch').slice(0, 2)).toEqual(['npm ci && npm run demo', 'npm test']);
  });

  it('npm run demo finishes in under a minute and shows the failure mail, the events and the harvested outputs', () => {
    const started = Date.now();
    const r = sh('npm run demo', 60000);
    expect(r.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(60000);
    expect(r.stdout).toMatch(/steprun\.failed\s+train/);
    expect(r.stdout).toMatch(/daemon: \[Failed\] train/);
    expect(r.stdout).toMatch(/Failure mail \(a real message, open it in a mail client\): .*\.eml/);
    expect(r.stdout).toContain('CUDA error: out of memory (demo failure)');
    expect(r.stdout).toMatch(/Harvested outputs[\s\S]*data\.csv {2}32 bytes {2}sha256 [0-9a-f]{16}/);
  });

  it('the sixty-second quick start works as written', async () => {
    const lines = commandsUnder('## Sixty seconds');
    expect(lines[0]).toBe('npm ci'); // CI has just run it; not repeated inside the tests
    for (const line of lines.slice(1)) {
      if (line.endsWith('&')) {
        const child = spawn('bash', ['-c', line.slice(0, -1)], { cwd: ROOT, env, stdio: 'ignore', detached: true });
        background.push(child);
        // Up as a newcomer would see it before typing the next line: its dispatcher reads the events stream.
        const dispatching = async () => ((await redis.xinfo('GROUPS', new Keys(prefix).events).catch(() => [])) as unknown[]).length > 0;
        await waitFor(dispatching, { timeoutMs: 30_000, what: 'the daemon reading the events stream' });
        continue;
      }
      if (line.endsWith('events')) {
        await waitFor(() => /pipelinerun\.failed/.test(sh(line).stdout), { timeoutMs: 40000, what: 'the failed pipeline run in `events`' });
        const out = sh(line).stdout;
        expect(out).toMatch(/steprun\.failed\s+\[Failed\] train/);
        expect(out).toMatch(/steprun\.finished\s+\[Finished\] prepare/);
        continue;
      }
      const r = sh(line);
      expect({ line, status: r.status }).toEqual({ line, status: line.includes('DEMO_FAIL=1') ? 1 : 0 });
    }
  });

  it('the exec one-liner works as written', () => {
    const [line] = commandsUnder('Or one command for a single long job');
    const r = sh(line); // in the project folder, where npx finds the command
    spawnSync('rm', ['-rf', path.join(ROOT, 'out')]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/step run s_\w+ \(pipeline run nightly_\d+_\w+\): Finished/);
  });
});
