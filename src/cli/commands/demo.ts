// `steprun-watch demo` (npm run demo): a newcomer's first minute, on the embedded defaults, with no network.
import { spawn, type ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import { ensureLocalRedis } from '../../runtime/local-redis';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { defineCommand } from '../command';
import type { Redis } from 'ioredis';
import { systemClock } from '../../util/clock';
import { SrwError, WorkerExitedError } from '../../model/errors';
import { loadPipelineFile } from '../../providers/local/pipeline-file';
import { runPipeline } from '../../providers/local/pipeline-runner';
import { LocalProvider } from '../../providers/local/provider';
import type { WatchEvent } from '../../store/events';
import { Keys } from '../../store/keys';
import { TrackStore, trackFromRequest } from '../../store/tracks';
import { parseEntry } from '../../store/outbox';
import type { Manifest } from '../../notify/notifiers/harvest';
import { emailContent } from '../../notify/notifiers/formats/email-message';
import { configOf, globalsOf, providerFromConfig, type GlobalOptions } from '../context';
import type { LoadedConfig } from '../../config/load';
import { parsePositiveNumber } from '../options';
import { packageRoot } from '../../util/package-root';

const say = (line = ''): void => void process.stdout.write(line + '\n');

export function demoCommand(program: Command): void {
  defineCommand(program, 'demo', 'start Redis (if needed) and the daemon, run the demo pipeline twice, show the events; then stop everything', 'npm run demo')
    .option('--timeout <seconds>', 'give up when the daemon has not reported both pipeline runs by then', (v) => parsePositiveNumber(v, '--timeout'), 50)
    .action(async (o: { timeout: number }, cmd: Command) => {
      const config = demoPrefixed(await configOf(cmd), globalsOf(cmd));
      const started: ChildProcess[] = [];
      try {
        const redis = await ensureRedis(config.redis.url, started);
        const ownRedis = started.length > 0;
        const keys = new Keys(config.redis.prefix);
        say(`1. Redis answers at ${config.redis.url}; the demo's keys are under the prefix "${config.redis.prefix}" (--redis-prefix to choose)`);
        const daemon = await startDaemon(config.dataDir, config.source, config.redis.prefix, started);
        say(`2. daemon started (${config.source ? `config ${config.source}` : 'embedded defaults'}, data in ${config.dataDir})`);
        const tracks = new TrackStore(redis, keys, systemClock);
        await tracks.add(trackFromRequest({ provider: 'local', experiment: 'demo' }, 'cli', systemClock.now()));
        say('3. tracking experiment "demo"');
        const runs = await runDemoPipelines(config);
        say('5. waiting for the daemon to see both pipeline runs end (it polls every few seconds) ...');
        const events = await waitForPipelineEvents(redis, keys, runs, o.timeout * 1000);
        const missing = runs.filter((id) => !events.some((e) => e.pipelineRunId === id && e.type.startsWith('pipelinerun.')));
        if (missing.length > 0) {
          throw new SrwError(
            'SRW_TIMEOUT',
            `the daemon did not report pipeline run(s) ${missing.join(', ')} within ${o.timeout} s (${events.length} event(s) seen); see ` +
              `${path.join(config.dataDir, 'demo-daemon.log')}`,
          );
        }
        say();
        say('Events (one per status change, in the order they were detected):');
        for (const e of events)
          say(
            `  ${e.type.padEnd(21)} ${e.stepRun?.name ?? '(pipeline)'}  ` +
              `${e.pipelineRunId}${e.stepRun?.isReused ? '  reused' : ''}${e.stepRun?.error ? `  ${e.stepRun.error.message}` : ''}`,
          );
        say();
        say(`Console notifier: ${daemon.notifierLines()} log lines written by the daemon (above).`);
        await showFailureMail(config.dataDir, events);
        await showHarvest(config.dataDir, events);
        say();
        const p = `--redis-prefix ${config.redis.prefix}`;
        // The demo's own Redis stops with it (it keeps nothing): the hint says how to look with one running.
        const first = ownRedis ? 'start Redis (`redis-server --save "" &`; the demo stopped the one it started, and its keys with it), then ' : '';
        say(`Next: ${first}\`npx steprun-watch ${p} events\`, \`npx steprun-watch ${p} deliveries\`, \`npx steprun-watch steps <pipeline run id>\`,`);
        say('      `npx steprun-watch logs <step run id> --stderr`; the daemon itself: `npm run daemon` (see README.md).');
        redis.disconnect();
      } finally {
        for (const child of started.reverse()) await stop(child);
      }
    });
}

/**
 * The demo keeps to a prefix of its own (`srw-demo-<user>`) unless one was chosen (--redis-prefix,
 * SRW_REDIS_PREFIX, or a config file): it never mixes with a daemon already using the same Redis.
 */
function demoPrefixed(config: LoadedConfig, g: GlobalOptions): LoadedConfig {
  if (g.redisPrefix || process.env.SRW_REDIS_PREFIX || config.source) return config;
  return { ...config, redis: { ...config.redis, prefix: `srw-demo-${demoUser()}` } };
}

/** Who runs the demo, as a key-safe name: $USER, else the account's own name or uid (never one shared fallback). */
export function demoUser(env: NodeJS.ProcessEnv = process.env): string {
  const named = (env.USER ?? env.USERNAME ?? '').replace(/[^\w.-]/g, '');
  if (named) return named;
  let account = '';
  try {
    account = os.userInfo().username.replace(/[^\w.-]/g, '');
  } catch {
    // no entry for this uid (a container's arbitrary user): the uid itself
  }
  return account || `uid${process.getuid?.() ?? process.pid}`;
}

async function ensureRedis(url: string, started: ChildProcess[]): Promise<Redis> {
  const { connectRedisForCli } = await import('../../runtime/redis');
  const child = await ensureLocalRedis(url, { say: (line) => say(`   ${line} for the demo`) });
  if (child) started.push(child);
  return connectRedisForCli({ url });
}

async function startDaemon(dataDir: string, configFile: string | undefined, prefix: string, started: ChildProcess[]): Promise<{ notifierLines(): number }> {
  await fs.mkdir(dataDir, { recursive: true });
  const log = await fs.open(path.join(dataDir, 'demo-daemon.log'), 'w');
  // Its API on a free port: a daemon already on 8787 is no obstacle to the demo.
  const args = [
    path.join(packageRoot(), 'bin/steprun-watch.js'),
    'daemon',
    '--redis-prefix',
    prefix,
    '--listen',
    '127.0.0.1:0',
    ...(configFile ? ['--config', path.resolve(configFile)] : []),
  ];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, SRW_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let lines = 0;
  let ready = false;
  child.stdout!.on('data', (d: Buffer) => {
    const text = d.toString();
    void log.write(text);
    if (text.includes('steprun-watch started')) ready = true;
    for (const line of text.split('\n')) {
      if (!line.includes('"component":"notifier"')) continue;
      lines++;
      try {
        say(`   daemon: ${(JSON.parse(line) as { msg: string }).msg}`);
      } catch {
        // a partial line
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => void log.write(d.toString()));
  for (let i = 0; i < 100 && !ready; i++) {
    if (child.exitCode !== null) throw new WorkerExitedError(`the daemon exited (${child.exitCode}); see ${path.join(dataDir, 'demo-daemon.log')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { notifierLines: () => lines };
}

async function runDemoPipelines(config: Awaited<ReturnType<typeof configOf>>): Promise<string[]> {
  const file = path.join(packageRoot(), 'examples/pipelines/demo.yaml');
  const pipeline = await loadPipelineFile(file);
  const provider = providerFromConfig(config, 'local') as LocalProvider;
  const ids: string[] = [];
  for (const [label, env] of [
    ['first run', {}],
    ['second run, DEMO_FAIL=1: "train" fails, "prepare" is reused', { DEMO_FAIL: '1' }],
  ] as const) {
    const withEnv = { ...pipeline, steps: pipeline.steps.map((s) => ({ ...s, env: { ...s.env, ...env } })) };
    const result = await runPipeline({ store: provider.store, pipeline: withEnv, baseDir: path.dirname(file), say: (l) => say(`   ${l}`) });
    say(`4. demo pipeline, ${label}: ${result.pipelineRunId} ${result.status}`);
    ids.push(result.pipelineRunId);
  }
  return ids;
}

async function waitForPipelineEvents(redis: Redis, keys: Keys, pipelineRunIds: string[], timeoutMs: number): Promise<WatchEvent[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = (await redis.xrevrange(keys.events, '+', '-', 'COUNT', 500))
      .reverse()
      .map(([, f]) => parseEntry(f))
      .filter((e): e is WatchEvent => !!e && pipelineRunIds.includes(e.pipelineRunId ?? ''));
    const done = pipelineRunIds.every((id) => events.some((e) => e.pipelineRunId === id && e.type.startsWith('pipelinerun.')));
    if (done || Date.now() > deadline) return events;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The failure mail the email notifier wrote to the outbox (no SMTP configured), with its text part. */
async function showFailureMail(dataDir: string, events: WatchEvent[]): Promise<void> {
  const failed = events.find((e) => e.type === 'steprun.failed');
  if (!failed) return;
  const outbox = path.join(dataDir, 'outbox');
  const file = await waitForFile(outbox, (name) => name.includes(failed.id));
  say();
  if (!file) return say('Failure mail: not in the outbox yet (see `npx steprun-watch deliveries`).');
  say(`Failure mail (a real message, open it in a mail client): ${path.join(outbox, file)}`);
  say(emailContent(failed).text.replace(/^/gm, '  | ').trimEnd());
}

/** What the download notifier harvested for these pipeline runs, with manifest checksums. */
async function showHarvest(dataDir: string, events: WatchEvent[]): Promise<void> {
  const finished = events.filter((e) => e.type === 'steprun.finished' && e.stepRun?.outputNames.length);
  say();
  say(`Harvested outputs (${path.join(dataDir, 'harvest')}):`);
  for (const e of finished) {
    for (const output of e.stepRun!.outputNames) {
      const folder = path.join(dataDir, 'harvest', e.experiment, e.pipelineRunId!, e.stepRun!.name, output);
      const manifestFile = await waitForFile(folder, (name) => name.startsWith('manifest'));
      if (!manifestFile) {
        say(`  ${path.relative(dataDir, folder)}: not harvested yet`);
        continue;
      }
      const manifest = JSON.parse(await fs.readFile(path.join(folder, manifestFile), 'utf8')) as Manifest;
      say(`  ${path.relative(path.join(dataDir, 'harvest'), folder)}/${manifest.isReused ? `  (reused from ${manifest.sourceRunIds.stepRunId})` : ''}`);
      for (const f of manifest.files) say(`    ${f.path}  ${f.size} bytes  sha256 ${(f.sha256 ?? '').slice(0, 16)}...`);
    }
  }
}

async function waitForFile(dir: string, match: (name: string) => boolean, timeoutMs = 5000): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await fs.readdir(dir).catch(() => [] as string[])).find(match);
    if (found || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
    child.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
