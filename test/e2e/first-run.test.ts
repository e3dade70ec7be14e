// What a new user trips over on a fresh machine, each tried as they would type it.
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { BIN, cli, ROOT } from '../support/cli';
import { dropPrefix, REDIS_URL, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';
import { waitFor } from '../support/wait-for';

const dir = tempDir('fresh');
const env = { SRW_DATA_DIR: path.join(dir, 'data'), REDIS_URL };
const redis = testRedis();
const prefixes: string[] = [];

afterAll(async () => {
  for (const p of prefixes) await dropPrefix(redis, p);
  redis.disconnect();
});

async function configFile(name: string, config: unknown): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, stringify(config));
  return file;
}

it('`events | head -1` ends quietly: exit 0, no EPIPE on stderr', async () => {
  const prefix = uniquePrefix('epipe');
  prefixes.push(prefix);
  const event = { type: 'steprun.failed', time: '2026-01-01T00:00:00Z', provider: 'local', experiment: 'e', trackId: 't', labels: {} };
  const batch = redis.pipeline();
  for (let i = 0; i < 3000; i++) batch.xadd(`{${prefix}}:events`, '*', 'event', JSON.stringify({ ...event, id: `e${i}` }));
  await batch.exec();
  const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" --redis-prefix ${prefix} events --limit 3000 | head -1`], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(1);
  expect(r.stderr).not.toMatch(/EPIPE|Error/);
  expect(r.status).toBe(0);
});

it('run and exec need no notifier secret; the daemon names each one missing; a notifier type typo fails every command', async () => {
  const withSecrets = await configFile('secrets.yaml', {
    notifiers: {
      mail: { type: 'email', to: 'a@example.com', smtp: { host: '127.0.0.1', port: 2525, auth: { user: 'u', pass: '${SMTP_PASS_UNSET_23}' } } },
      hook: { type: 'webhook', url: 'https://hooks.example.com/x', secret: '${HOOK_SECRET_UNSET_23}' },
    },
    routes: [{ match: {}, notify: ['mail', 'hook'] }],
  });
  const exec = await cli(['--config', withSecrets, 'exec', '--experiment', 'fresh', '--step', 's', '--', 'true'], { env });
  expect(exec.stderr).not.toContain('not set');
  expect(exec.code).toBe(0);
  const pipeline = path.join(dir, 'p.yaml');
  await fs.writeFile(pipeline, 'experiment: fresh\nsteps:\n  - { name: a, run: "true" }\n');
  expect((await cli(['--config', withSecrets, 'run', pipeline], { env })).code).toBe(0);
  const daemon = await cli(['--config', withSecrets, 'ping'], { env });
  expect(daemon.code).toBe(4);
  expect(daemon.stderr).toContain('notifiers.mail.smtp.auth.pass: environment variable SMTP_PASS_UNSET_23 is not set');
  expect(daemon.stderr).toContain('notifiers.hook.secret: environment variable HOOK_SECRET_UNSET_23 is not set');

  const typo = await configFile('typo.yaml', { notifiers: { hook: { type: 'webhok', url: 'https://hooks.example.com/x' } } });
  for (const args of [['tracks'], ['exec', '--experiment', 'fresh', '--step', 's', '--', 'true']]) {
    const r = await cli(['--config', typo, ...args], { env });
    expect({ args, code: r.code }).toEqual({ args, code: 4 });
    expect(r.stderr).toContain('notifiers.hook.type: unknown notifier type "webhok"');
  }
});

it('exec says a missing output on stderr; --require-outputs and requireOutputs: true make it fail the step', async () => {
  const work = path.join(dir, 'outputs');
  await fs.mkdir(work, { recursive: true });
  const loose = await cli(['exec', '--experiment', 'outs', '--step', 's', '--output', 'model=out/nope.pkl', '--', 'true'], { env, cwd: work });
  expect(loose.code).toBe(0);
  expect(loose.stderr).toContain('output model: out/nope.pkl does not exist, not captured');
  const strict = await cli(['exec', '--require-outputs', '--experiment', 'outs', '--step', 's', '--output', 'model=out/nope.pkl', '--json', '--', 'true'], {
    env,
    cwd: work,
  });
  expect(strict.code).toBe(1);
  expect(JSON.parse(strict.stdout)).toMatchObject({ status: 'Failed' });
  const status = await cli(['status', JSON.parse(strict.stdout).stepRunId, '--json'], { env, cwd: work });
  expect(JSON.parse(status.stdout)).toMatchObject({ status: 'Failed', error: { code: 'OutputMissing' } });
  await fs.writeFile(
    path.join(work, 'p.yaml'),
    'experiment: outs\nrequireOutputs: true\nsteps:\n  - { name: a, run: "true", outputs: { model: out/nope.pkl } }\n',
  );
  const run = await cli(['run', path.join(work, 'p.yaml'), '--json'], { env });
  expect(run.code).toBe(1);
  expect(JSON.parse(run.stdout)).toMatchObject({ status: 'Failed' });
  expect(run.stderr).toContain('step a: output model: out/nope.pkl does not exist');
});

it('download into a path under a file is a coded error (exit 4), not "unexpected error: ENOTDIR"', async () => {
  const work = path.join(dir, 'dl');
  await fs.mkdir(work, { recursive: true });
  const made = await cli(['exec', '--experiment', 'dl', '--step', 's', '--output', 'model=m.txt', '--json', '--', 'sh', '-c', 'echo hi > m.txt'], {
    env,
    cwd: work,
  });
  const { stepRunId } = JSON.parse(made.stdout) as { stepRunId: string };
  await fs.writeFile(path.join(work, 'afile'), 'x');
  const r = await cli(['download', stepRunId, 'model', path.join(work, 'afile', 'sub')], { env });
  expect(r.code).toBe(4);
  expect(r.stderr).toContain('a part of the path is a file, not a folder (ENOTDIR');
  expect(r.stderr).toContain('[SRW_INVALID_INPUT]');
  expect(r.stderr).not.toContain('unexpected error');
});

it('config and pipeline files over 1 MiB are refused before parsing, naming the file and the limit', async () => {
  const big = path.join(dir, 'big.yaml');
  await fs.writeFile(big, `# ${'x'.repeat(2 * 1024 * 1024)}\n`);
  const config = await cli(['--config', big, 'tracks'], { env });
  expect(config.code).toBe(4);
  expect(config.stderr).toContain(`${big}: is 2.0 MiB; files over 1 MiB are refused before parsing`);
  const pipeline = await cli(['run', big], { env });
  expect(pipeline.code).toBe(4);
  expect(pipeline.stderr).toContain(`${big}: is 2.0 MiB; files over 1 MiB are refused before parsing`);
});

it('beyond loopback the API token needs 32 characters, and the error says how to make one', async () => {
  const short = await configFile('short-token.yaml', { api: { listen: '0.0.0.0:8787', token: 'a' } });
  const r = await cli(['--config', short, 'tracks'], { env });
  expect(r.code).toBe(4);
  expect(r.stderr).toContain('api.token: 1 characters is too short for listening beyond loopback (api.listen 0.0.0.0:8787): at least 32');
  expect(r.stderr).toContain('openssl rand -hex 32');
  const loopback = await configFile('loopback-token.yaml', { api: { listen: '127.0.0.1:0', token: 'a' } });
  expect((await cli(['--config', loopback, 'tracks'], { env })).code).toBe(0);
});

it('`npm run daemon` then SIGTERM to npm stops the daemon (no orphan); --redis-prefix and --listen need no file', async () => {
  const prefix = uniquePrefix('sig');
  prefixes.push(prefix);
  const npm = spawn('npm', ['run', '--silent', 'daemon', '--', '--redis-prefix', prefix, '--listen', '127.0.0.1:0'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
  let out = '';
  npm.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const started = await waitFor(() => /"pid":(\d+).*"prefix":"([^"]+)".*"api":"([^"]+)".*steprun-watch started/.exec(out) ?? undefined, {
    timeoutMs: 20_000,
    what: 'the daemon start',
  });
  const [, pid, seenPrefix, api] = started;
  expect(seenPrefix).toBe(prefix);
  expect(api).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(api).not.toBe('http://127.0.0.1:8787');
  npm.kill('SIGTERM');
  await waitFor(
    () => {
      try {
        process.kill(Number(pid), 0);
        return false;
      } catch {
        return true;
      }
    },
    { timeoutMs: 15_000, what: 'the daemon to stop' },
  );
  expect(out).toContain('"msg":"stopped"');
});

it('npm run demo keeps to a private prefix by default and says so (a daemon on the same Redis sees none of it)', async () => {
  const user = `fresh${Date.now().toString(36)}`;
  const prefix = `srw-demo-${user}`;
  prefixes.push(prefix);
  // As a set: KEYS answers in the order of Redis's hash table, which other suites' keys rehash meanwhile.
  const before = (await redis.keys('{srw}:*')).sort();
  const { SRW_REDIS_PREFIX: _unset, SRW_CONFIG: _none, ...clean } = process.env;
  const r = spawnSync(process.execPath, [BIN, 'demo'], {
    cwd: dir,
    env: { ...clean, USER: user, REDIS_URL, SRW_DATA_DIR: path.join(dir, 'demo-data') },
    encoding: 'utf8',
    timeout: 90_000,
  });
  expect(r.status).toBe(0);
  expect(r.stdout).toContain(`the demo's keys are under the prefix "${prefix}"`);
  expect(r.stdout).toContain(`npx steprun-watch --redis-prefix ${prefix} events`);
  expect(await redis.xlen(`{${prefix}}:events`)).toBeGreaterThan(5);
  expect((await redis.keys('{srw}:*')).sort()).toEqual(before);
});
