// The daemon as a process on the real Redis: experiment tracking, exactly-once under SIGKILL, Redis restarts, bad config.
import { type ChildProcess } from 'node:child_process';
import { promises as fs, existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { cli, startCli } from '../support/cli';
import { chainProblems, type DeliveredRecord } from '../support/chains';
import { RECORDING_NOTIFIER } from '../support/daemon';
import { Cluster, type Redis } from 'ioredis';
import { dropPrefix, freePort, LocalRedisCluster, PrivateRedis, REDIS_URL, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';
import { untilQuiet } from '../support/quiet';
import { timePasses, waitFor } from '../support/wait-for';

const redis = testRedis();
const prefixes: string[] = [];
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const p of prefixes) await dropPrefix(redis, p);
  redis.disconnect();
});

interface Setup {
  dir: string;
  env: NodeJS.ProcessEnv;
  deliveredFile: string;
  prefix: string;
}

async function setup(label: string, o: { redisUrl?: string; cluster?: string[]; overrides?: Record<string, unknown> } = {}): Promise<Setup> {
  const dir = tempDir(label);
  const prefix = uniquePrefix(label);
  prefixes.push(prefix);
  const deliveredFile = path.join(dir, 'delivered.jsonl');
  const config = {
    redis: { url: o.redisUrl ?? REDIS_URL, prefix, ...(o.cluster ? { cluster: o.cluster } : {}) },
    poll: { tick: '* * * * * *', minIntervalSeconds: 0.5, maxIntervalSeconds: 2 },
    workers: { lockDurationMs: 2000, reclaimIdleMs: 1000 },
    delivery: { attempts: 20, backoffMs: 200 },
    notifiers: { console: { type: 'console' }, record: { type: 'module', module: RECORDING_NOTIFIER, options: { file: deliveredFile } } },
    routes: [{ match: {}, notify: ['console', 'record'] }],
    api: { listen: '127.0.0.1:0' },
    ...o.overrides,
  };
  await fs.writeFile(path.join(dir, 'config.yaml'), stringifyYaml(config));
  return { dir, prefix, deliveredFile, env: { SRW_CONFIG: path.join(dir, 'config.yaml'), SRW_DATA_DIR: path.join(dir, 'data') } };
}

function startDaemon(s: Setup): ChildProcess & { output: () => string } {
  const child = startCli(['daemon'], { env: s.env });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  children.push(child);
  return Object.assign(child, { output: () => out });
}

function delivered(s: Setup): DeliveredRecord[] {
  if (!existsSync(s.deliveredFile)) return [];
  return readFileSync(s.deliveredFile, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as DeliveredRecord);
}

async function streamLength(s: Setup, url = REDIS_URL, cluster?: string[]): Promise<number> {
  const r = cluster
    ? (new Cluster(cluster.map((n) => ({ host: n.split(':')[0]!, port: Number(n.split(':')[1]) }))) as unknown as Redis)
    : url === REDIS_URL
      ? redis
      : testRedis(url);
  try {
    return await r.xlen(`{${s.prefix}}:events`);
  } finally {
    if (r !== redis) r.disconnect();
  }
}

async function finalStatuses(s: Setup, pipelineRunId: string): Promise<Map<string, string>> {
  const steps = JSON.parse((await cli(['steps', pipelineRunId, '--json'], { env: s.env })).stdout).steps as { stepRunId: string; status: string }[];
  return new Map(steps.map((x) => [x.stepRunId, x.status]));
}

function stopGracefully(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('close', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe('steprun-watch daemon', () => {
  it('tracks an experiment: picks up pipeline runs made by run and exec after it started, logs every transition once', async () => {
    const s = await setup('exp');
    const daemon = startDaemon(s);
    await waitFor(() => daemon.output().includes('steprun-watch started'), { what: 'daemon start' });
    expect((await cli(['track', '--experiment', 'live'], { env: s.env })).code).toBe(0);
    const pipeline = path.join(s.dir, 'p.yaml');
    await fs.writeFile(pipeline, 'experiment: live\nsteps:\n  - { name: a, run: "sleep 1.5" }\n  - { name: b, run: "sleep 1; exit 4", needs: [a] }\n');
    const run = JSON.parse((await cli(['run', pipeline, '--json'], { env: s.env })).stdout.trim().split('\n').at(-1)!);
    const exec = await cli(['exec', '--experiment', 'live', '--step', 'solo', '--', 'sleep', '1.5'], { env: s.env });
    const execPipeline = /pipeline run (\S+)\)/.exec(exec.stderr)![1]!;
    const expected = new Map([...(await finalStatuses(s, run.pipelineRunId)), ...(await finalStatuses(s, execPipeline))]);
    await waitFor(() => delivered(s).filter((r) => r.type.startsWith('pipelinerun.')).length === 2, { timeoutMs: 30000, what: 'both pipeline events' });
    const records = delivered(s);
    expect(chainProblems(records, expected)).toEqual([]);
    expect(records.length).toBe(await streamLength(s));
    // The console notifier logged each of them exactly once too.
    const logged = daemon
      .output()
      .split('\n')
      .filter((l) => l.includes('"component":"notifier"'))
      .map((l) => JSON.parse(l).eventId as string);
    await waitFor(
      () =>
        daemon
          .output()
          .split('\n')
          .filter((l) => l.includes('"component":"notifier"')).length >= records.length,
      { what: 'console lines' },
    );
    expect(new Set(logged).size).toBe(logged.length);
    expect(await stopGracefully(daemon)).toBe(0);
  });

  /** The exactly-once test: it runs on the single Redis, and on a 3-master Redis Cluster. */
  async function twoDaemonsOneKilled(s: Setup, cluster?: string[]): Promise<void> {
    const steady = startDaemon(s);
    await waitFor(() => steady.output().includes('steprun-watch started'), { what: 'daemon start' });
    await cli(['track', '--experiment', 'chaos'], { env: s.env });
    const steps = Array.from({ length: 50 }, (_, i) => {
      const wave = Math.floor(i / 10);
      const needs = wave > 0 ? `, needs: [s${(wave - 1) * 10}]` : '';
      const exit = i % 7 === 3 ? '; exit 1' : '';
      return `  - { name: s${i}, run: "sleep ${(0.3 + ((i * 37) % 10) / 10).toFixed(1)}${exit}"${needs} }`;
    });
    const pipeline = path.join(s.dir, 'chaos.yaml');
    await fs.writeFile(pipeline, `experiment: chaos\nsteps:\n${steps.join('\n')}\n`);
    const runDone = cli(['run', pipeline, '--json'], { env: s.env, timeoutMs: 90000 });
    let running = true;
    let kills = 0;
    const chaos = (async () => {
      while (running) {
        const victim = startDaemon(s);
        await timePasses(300 + Math.random() * 1200, 'a victim lives a random while before its SIGKILL');
        victim.kill('SIGKILL');
        kills++;
        await new Promise((r) => victim.once('close', r));
      }
    })();
    const run = JSON.parse((await runDone).stdout.trim().split('\n').at(-1)!);
    await timePasses(2000, 'the chaos goes on past the run, while the last events are delivered');
    running = false;
    await chaos;
    const expected = await finalStatuses(s, run.pipelineRunId);
    expect(expected.size).toBe(50);
    await waitFor(
      async () => delivered(s).some((r) => r.type.startsWith('pipelinerun.')) && delivered(s).length >= (await streamLength(s, REDIS_URL, cluster)),
      {
        timeoutMs: 60000,
        what: 'all deliveries',
      },
    );
    // Nothing left to deliver (a killed daemon's stalled job re-run, or dropped): a late duplicate would be in by now.
    const client = cluster ? (new Cluster(cluster.map((n) => ({ host: n.split(':')[0]!, port: Number(n.split(':')[1]) }))) as unknown as Redis) : redis;
    try {
      await untilQuiet(client, s.prefix, { timeoutMs: 60_000 });
    } finally {
      if (client !== redis) client.disconnect();
    }
    const records = delivered(s);
    expect(kills).toBeGreaterThan(3);
    expect(chainProblems(records, expected)).toEqual([]);
    expect(records.length).toBe(await streamLength(s, REDIS_URL, cluster));
    expect(await stopGracefully(steady)).toBe(0);
  }

  it('two daemons, one SIGKILLed at random moments while 50 step runs change status: every transition delivered exactly once', async () => {
    await twoDaemonsOneKilled(await setup('kill'));
  });

  it('the same on a local 3-master Redis Cluster (redis.cluster): every transition delivered exactly once', async () => {
    const cluster = new LocalRedisCluster(tempDir('cluster'));
    await cluster.start();
    try {
      await twoDaemonsOneKilled(await setup('cluster', { cluster: cluster.nodes }), cluster.nodes);
    } finally {
      await cluster.stop();
    }
  });

  it('survives a Redis restart: reconnects, loses no transition, does not crash', async () => {
    const port = await freePort();
    const own = new PrivateRedis(port, tempDir('redis'));
    await own.start();
    try {
      const s = await setup('restart', { redisUrl: own.url });
      const daemon = startDaemon(s);
      await waitFor(() => daemon.output().includes('steprun-watch started'), { what: 'daemon start' });
      await cli(['track', '--experiment', 'rr'], { env: s.env });
      const pipeline = path.join(s.dir, 'rr.yaml');
      await fs.writeFile(
        pipeline,
        'experiment: rr\nsteps:\n  - { name: a, run: "sleep 1" }\n  - { name: b, run: "sleep 4", needs: [a] }\n  - { name: c, run: "sleep 1; ' +
          'exit 2", needs: [b] }\n',
      );
      const runDone = cli(['run', pipeline, '--json'], { env: s.env, timeoutMs: 60000 });
      await waitFor(() => delivered(s).some((r) => r.status === 'Running'), { timeoutMs: 20000, what: 'first Running event' });
      await own.stop();
      await timePasses(2500, 'Redis stays down this long');
      await own.start();
      const run = JSON.parse((await runDone).stdout.trim().split('\n').at(-1)!);
      const expected = await finalStatuses(s, run.pipelineRunId);
      await waitFor(() => delivered(s).some((r) => r.type === 'pipelinerun.failed'), { timeoutMs: 40000, what: 'pipeline event after restart' });
      expect(chainProblems(delivered(s), expected)).toEqual([]);
      expect(daemon.exitCode).toBeNull();
      expect(await stopGracefully(daemon)).toBe(0);
    } finally {
      await own.stop();
    }
  });

  describe('refuses a bad config at start, naming what is wrong', () => {
    it('an invalid field', async () => {
      const s = await setup('badcfg', { overrides: { poll: { minIntervalSeconds: 'fast' } } });
      const r = await cli(['daemon'], { env: s.env });
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/poll\.minIntervalSeconds: /);
    });

    it('an unknown notifier in a route', async () => {
      const s = await setup('badroute', { overrides: { routes: [{ match: {}, notify: ['pager'] }] } });
      const r = await cli(['daemon'], { env: s.env });
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/routes\[0\]\.notify\[0\]: unknown notifier "pager"/);
    });

    it('an unknown provider in a track, in the config or on the command line', async () => {
      const s = await setup('badtrack', { overrides: { tracks: [{ provider: 'prod', experiment: 'x' }] } });
      const r = await cli(['daemon'], { env: s.env });
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/tracks\[0\]\.provider: unknown provider "prod"/);
      const t = await cli(['track', '--provider', 'nope', '--experiment', 'x'], { env: { ...s.env, SRW_CONFIG: '' } });
      expect(t.code).toBe(4);
      expect(t.stderr).toMatch(/unknown provider "nope"/);
    });

    it('an unknown notifier type', async () => {
      const s = await setup('badtype', { overrides: { notifiers: { console: { type: 'carrier-pigeon' } }, routes: [{ match: {}, notify: ['console'] }] } });
      const r = await cli(['daemon'], { env: s.env });
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/notifiers\.console\.type: unknown notifier type "carrier-pigeon"/);
    });
  });

  it('track of an unknown run id says so', async () => {
    const s = await setup('unknownrun');
    const r = await cli(['track', '--pipeline-run', 'ghost_run'], { env: s.env });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/run not found: ghost_run/);
  });
});
