// Providers pluggable for real. A provider written in its own folder against the package's exports
// (`steprun-watch` for the types and RunNotFoundError), compiled separately in strict mode, then: loaded by the
// config as `{type: module}` and put through checkProvider; run by the daemon from the CLI, whose events come from
// it; and registered by an embedder under a type of its own through `steprun-watch/daemon`.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { checkProvider } from '../../src';
import { validateConfig } from '../../src/config/load';
import { buildProviders } from '../../src/runtime/wiring';
import type { WatchEvent } from '../../src/store/events';
import { cli, ProcessGroup, ROOT } from '../support/cli';
import { compilePlugin } from '../support/compile-plugin';
import { dropPrefix, REDIS_URL, testRedis, uniquePrefix } from '../support/redis';
import { waitFor } from '../support/wait-for';

const dir = path.join(ROOT, `.provider-check-${process.pid}`);
const redis = testRedis();
const processes = new ProcessGroup();
const prefixes: string[] = [];

/** An in-memory run service: one ended pipeline run of two steps, as a third party would write one. */
const PROVIDER_SOURCE = `import { RunNotFoundError } from 'steprun-watch';
import type { ProviderFactory, RunProvider, StepRunSnapshot, PipelineRunSnapshot, LogKind, ReadLogOptions } from 'steprun-watch';

const created = '2026-12-01T02:00:00.000Z';
function step(id: string, name: string, status: 'Finished' | 'Failed', experiment: string): StepRunSnapshot {
  return {
    stepRunId: id, pipelineRunId: 'mem-run-1', experiment, nodeId: 'node-' + name, name, status,
    rawStatus: status === 'Finished' ? 'Completed' : 'Failed', isReused: false, outputNames: [], logNames: ['stdout'],
    startTime: created, endTime: '2026-12-01T02:05:00.000Z',
    ...(status === 'Failed' ? { error: { code: 'ExitCode1', message: 'out of memory' } } : {}),
  };
}

export const create: ProviderFactory = (options) => {
  const experiment = typeof options.experiment === 'string' ? options.experiment : 'mem';
  const steps = [step('mem-step-1', 'prepare', 'Finished', experiment), step('mem-step-2', 'train', 'Failed', experiment)];
  const pipeline: PipelineRunSnapshot = {
    pipelineRunId: 'mem-run-1', experiment, status: 'Failed', rawStatus: 'Failed', createdTime: created, startTime: created,
    endTime: '2026-12-01T02:05:00.000Z',
  };
  const find = (id: string) => {
    const s = steps.find((x) => x.stepRunId === id);
    if (!s) throw new RunNotFoundError(id);
    return s;
  };
  const provider: RunProvider = {
    kind: 'memory',
    async getStepRun(ref) { return find(ref.stepRunId); },
    async getPipelineRun(ref) { if (ref.pipelineRunId !== 'mem-run-1') throw new RunNotFoundError(ref.pipelineRunId); return pipeline; },
    async listStepRuns() { return { steps, unreadable: [] }; },
    async listPipelineRuns() { return [pipeline]; },
    async locateRun(id) {
      if (id === 'mem-run-1') return { kind: 'pipeline', experiment, pipelineRunId: id };
      const s = find(id);
      return { kind: 'step', experiment, pipelineRunId: s.pipelineRunId, stepRunId: s.stepRunId };
    },
    async readLog(ref, _which: LogKind, o?: ReadLogOptions) {
      const text = 'log of ' + find(ref.stepRunId).name + ': the whole story\\n';
      return o?.tailBytes ? text.slice(-o.tailBytes) : text;
    },
    async listOutputs() { return []; },
    async download(_output, localPath) { return { localPath, files: [], bytes: 0 }; },
  };
  return provider;
};
`;

/** A daemon's config that watches the in-memory run through provider `mem` (however it is named to the daemon). */
function watchingMemRun(prefix: string, mem: Record<string, unknown>): Record<string, unknown> {
  return {
    redis: { url: REDIS_URL, prefix },
    providers: { mem },
    poll: { tick: '* * * * * *', minIntervalSeconds: 0.2, maxIntervalSeconds: 1 },
    stuck: { enabled: false },
    tracks: [{ provider: 'mem', pipelineRun: 'mem-run-1', experiment: 'churn' }],
    notifiers: { console: { type: 'console' } },
    routes: [{ match: {}, notify: ['console'] }],
    api: { enabled: false },
  };
}

beforeAll(async () => {
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'provider.ts'), PROVIDER_SOURCE);
  // Compiled on its own, strict, against the built package's exports (`steprun-watch` resolves to dist/ from here).
  await compilePlugin(path.join(dir, 'provider.ts'));
});

afterAll(async () => {
  await processes.killAll();
  await fs.rm(dir, { recursive: true, force: true });
  for (const p of prefixes) await dropPrefix(redis, p);
  redis.disconnect();
});

it('loaded as {type: module} from the config, it passes checkProvider', async () => {
  const config = validateConfig(
    { providers: { mem: { type: 'module', module: './provider.js', options: { experiment: 'churn' } } } },
    { source: path.join(dir, 'config.yaml'), dataDir: dir, env: {} },
  );
  const provider = buildProviders(config).get('mem')!;
  expect(provider.kind).toBe('memory');
  const report = await checkProvider(provider, { experiment: 'churn', pipelineRunId: 'mem-run-1' });
  expect(report.failed).toEqual([]);
  expect(report.passed.length).toBeGreaterThanOrEqual(10);
});

it('a module that is not a provider is refused at start, naming the field', async () => {
  await fs.writeFile(path.join(dir, 'not-a-provider.js'), 'exports.create = () => ({ kind: "x" });\n');
  const config = validateConfig(
    { providers: { bad: { type: 'module', module: './not-a-provider.js' } } },
    { source: path.join(dir, 'c.yaml'), dataDir: dir, env: {} },
  );
  expect(() => buildProviders(config)).toThrow(/providers\.bad\.module: create\(\) of "\.\/not-a-provider\.js" did not return a RunProvider \(no getStepRun/);
});

it('the daemon (the CLI, unchanged) watches a run of the module provider: its failure is an event', async () => {
  const prefix = uniquePrefix('provplug');
  prefixes.push(prefix);
  const configFile = path.join(dir, 'daemon.yaml');
  await fs.writeFile(configFile, stringify(watchingMemRun(prefix, { type: 'module', module: './provider.js', options: { experiment: 'churn' } })));
  // `ping` checks the config as the daemon does (the module loads, its provider is a RunProvider) and Redis.
  const ping = await cli(['ping'], { env: { SRW_CONFIG: configFile, SRW_DATA_DIR: dir } });
  expect([ping.code, ping.stderr]).toEqual([0, '']);
  processes.start(['daemon'], { env: { SRW_CONFIG: configFile, SRW_DATA_DIR: dir } });
  const events = await waitFor(
    async () => {
      const list = (await redis.xrange(`{${prefix}}:events`, '-', '+')).map(([, f]) => JSON.parse(f[1]!) as WatchEvent);
      return list.length >= 3 ? list : undefined;
    },
    { timeoutMs: 30_000, what: 'the module provider’s events' },
  );
  expect(events.map((e) => `${e.type} ${e.stepRun?.name ?? ''}`.trim()).sort()).toEqual([
    'pipelinerun.failed',
    'steprun.failed train',
    'steprun.finished prepare',
  ]);
  expect(events.find((e) => e.type === 'steprun.failed')!.stepRun!.error).toEqual({ code: 'ExitCode1', message: 'out of memory' });
});

it('an embedder registers it under a type of its own through steprun-watch/daemon', async () => {
  const prefix = uniquePrefix('provembed');
  prefixes.push(prefix);
  // The package as an embedder gets it: through its exports map, from dist/.
  const embed = require(require.resolve('steprun-watch/daemon', { paths: [dir] })) as typeof import('../../src/runtime/embed');
  const plugin = require(path.join(dir, 'provider.js')) as { create: import('../../src/runtime/embed').ProviderFactory };
  const config = embed.validateConfig(watchingMemRun(prefix, { type: 'memory', experiment: 'churn' }), { dataDir: dir, env: {} });
  const daemon = await embed.Daemon.create({
    config,
    logger: embed.createLogger({ level: 'silent', pretty: false }),
    registries: { providers: embed.builtinProviders().register('memory', (options, ctx) => plugin.create(options, ctx)) },
  });
  await daemon.start();
  try {
    const events = await waitFor(
      async () => {
        const list = (await redis.xrange(`{${prefix}}:events`, '-', '+')).map(([, f]) => JSON.parse(f[1]!) as WatchEvent);
        return list.length >= 3 ? list : undefined;
      },
      { timeoutMs: 30_000, what: 'the embedded daemon’s events' },
    );
    // The embedder's provider type is what polled: its runs, as it reported them.
    expect(events.map((e) => `${e.provider} ${e.type} ${e.stepRun?.name ?? ''}`.trim()).sort()).toEqual([
      'mem pipelinerun.failed',
      'mem steprun.failed train',
      'mem steprun.finished prepare',
    ]);
  } finally {
    await daemon.stop();
  }
});
