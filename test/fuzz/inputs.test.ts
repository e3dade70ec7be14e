// Bad input tried systematically: every input kind either works or gives a clean, typed error; no crash, no hang, no unhandled rejection.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { validateConfig } from '../../src/config/load';
import { isSrwError } from '../../src/model/errors';
import { parsePipelineText } from '../../src/providers/local/pipeline-file';
import { LocalProvider } from '../../src/providers/local/provider';
import { AzureMlProvider } from '../../src/providers/azureml/provider';
import { parseAzureMlOptions } from '../../src/providers/azureml/options';
import { main } from '../../src/cli/main';
import type { Daemon } from '../../src/runtime/daemon';
import { azureOptions, AzureMlServer, fixture } from '../support/azureml-server';
import { startDaemon, testConfig } from '../support/daemon';
import { execStep } from '../support/local-runs';
import { dropPrefix, freePort, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(() => process.on('unhandledRejection', onUnhandled));
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

/** Either a value, or an error of ours (typed, with a code): anything else is a bug. */
async function cleanOrTypedAsync(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (!isSrwError(err)) throw err;
  }
}

const keys = fc.constantFrom(
  'redis',
  'providers',
  'poll',
  'delivery',
  'workers',
  'events',
  'notifiers',
  'routes',
  'tracks',
  'log',
  'api',
  'dataDir',
  'url',
  'prefix',
  'type',
  'tick',
  'match',
  'notify',
  'quiet',
  'from',
  'to',
  'tz',
  'experiment',
  'steps',
  'name',
  'run',
  'needs',
  'outputs',
  'inputs',
  'allowReuse',
  'env',
  'workdir',
);
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    fc.string(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(keys, fc.string()), tie('value'), { maxKeys: 5 }),
  ),
})).value;

describe('fuzz: config files', () => {
  it(`${RUNS} random configs validate or fail with SRW_CONFIG_INVALID naming a field`, () => {
    fc.assert(
      fc.property(fc.dictionary(keys, json, { maxKeys: 6 }), (raw) => {
        try {
          validateConfig(raw, { env: {}, dataDir: '/tmp/fuzz' });
        } catch (err) {
          if (!isSrwError(err) || err.code !== 'SRW_CONFIG_INVALID' || !/: /.test(err.message)) throw err;
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('fuzz: pipeline files', () => {
  it(`${RUNS} random pipeline documents parse or fail with SRW_PIPELINE_INVALID naming a line`, () => {
    const doc = fc.oneof(
      fc.string(),
      json.map((v) => stringify(v)),
      fc.record({ experiment: json, steps: fc.array(fc.dictionary(keys, json, { maxKeys: 5 }), { maxLength: 4 }) }).map((v) => stringify(v)),
    );
    fc.assert(
      fc.property(doc, (text) => {
        try {
          parsePipelineText(text, 'f.yaml');
        } catch (err) {
          if (!isSrwError(err) || err.code !== 'SRW_PIPELINE_INVALID' || !/^f\.yaml(:\d+)?: /.test(err.message)) throw err;
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('fuzz: run-store records', () => {
  it(`${RUNS} corrupted step records read as a run or fail with a typed error`, async () => {
    const dir = tempDir('fuzz-store');
    const local = new LocalProvider({ root: path.join(dir, 'runs') });
    const step = await execStep(local.store, { experiment: 'fz', step: 's', script: 'exit 0', cwd: dir });
    const file = path.join(local.store.stepDir(step.pipelineRunId, step.stepRunId), 'step.json');
    const original = await fs.readFile(file, 'utf8');
    const mutation = fc.oneof(
      fc.string().map((s) => s),
      json.map((v) => JSON.stringify(v)),
      fc.tuple(fc.nat(original.length), fc.nat(40)).map(([at, n]) => original.slice(0, at) + original.slice(at + n)),
      fc
        .tuple(fc.constantFrom('status', 'createdTime', 'outputs', 'isReused', 'schema', 'nodeId'), json)
        .map(([k, v]) => JSON.stringify({ ...JSON.parse(original), [k]: v })),
    );
    await fc.assert(
      fc.asyncProperty(mutation, async (text) => {
        await fs.writeFile(file, text);
        await cleanOrTypedAsync(() => local.getStepRun({ stepRunId: step.stepRunId }));
        await cleanOrTypedAsync(() => local.listStepRuns({ pipelineRunId: step.pipelineRunId }));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('fuzz: provider responses', () => {
  const server = new AzureMlServer();
  afterAll(() => server.close());

  it(`${RUNS} odd answers of the Azure ML service map to snapshots or a typed provider error`, async () => {
    await server.start();
    server.addRun(fixture('pipeline-run'));
    const provider = new AzureMlProvider(parseAzureMlOptions(azureOptions(server, { timeoutMs: 2000 }), 'fz'));
    const base = fixture('step-failed');
    const body = fc.oneof(
      fc.string(),
      json.map((v) => JSON.stringify(v)),
      fc.array(fc.dictionary(fc.constantFrom(...Object.keys(base)), json, { maxKeys: 6 }), { maxLength: 3 }).map((value) => JSON.stringify({ value })),
      fc.tuple(fc.constantFrom(...Object.keys(base)), json).map(([k, v]) => JSON.stringify({ value: [{ ...base, [k]: v }] })),
      fc.tuple(fc.constantFrom(200, 400, 404, 409, 410, 418), fc.string()).map(([, s]) => s),
    );
    const status = fc.constantFrom(200, 200, 200, 400, 404, 409, 410, 418);
    await fc.assert(
      fc.asyncProperty(body, status, async (text, code) => {
        server.faults.length = 0;
        server.faults.push({ match: /children$/, status: code, body: text });
        await cleanOrTypedAsync(() => provider.listStepRuns({ pipelineRunId: 'pipeline_run_1' }));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('fuzz: HTTP API bodies', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('fuzzapi');
  let daemon: Daemon;
  afterAll(async () => {
    await daemon?.stop();
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  it(`${RUNS} random POST /tracks bodies answer 2xx, 400 or 404, never 500`, async () => {
    daemon = await startDaemon(testConfig({ prefix, dataDir: tempDir('fuzzapi'), extra: { poll: { tick: '0 0 1 1 *' } } }));
    const body = fc.oneof(
      fc.string(),
      json.map((v) => JSON.stringify(v)),
      fc
        .record(
          { provider: fc.oneof(fc.constant('local'), fc.string()), experiment: json, pipelineRun: json, stepRun: json, labels: json, verify: json },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v)),
    );
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        const res = await fetch(`${daemon.apiUrl}/tracks`, { method: 'POST', body: text, headers: { 'content-type': 'application/json' } });
        const answer = (await res.json()) as { error?: { code: string } };
        if (![200, 201, 400, 404].includes(res.status)) throw new Error(`HTTP ${res.status} for ${text}: ${JSON.stringify(answer)}`);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('fuzz: CLI arguments', () => {
  it(`${RUNS} random command lines end with an exit code and a one-line error, never an unexpected error`, async () => {
    const dir = tempDir('fuzzcli');
    const deadRedis = `redis://127.0.0.1:${await freePort()}`;
    await fs.writeFile(path.join(dir, 'c.yaml'), stringify({ redis: { url: deadRedis } }));
    process.env.SRW_CONFIG = path.join(dir, 'c.yaml');
    process.env.SRW_DATA_DIR = path.join(dir, 'data');
    const safe = ['track', 'tracks', 'untrack', 'status', 'steps', 'logs', 'outputs', 'download', 'deliveries', 'ping', 'run', 'events', 'wait'];
    const token = fc.oneof(
      fc.constantFrom(
        '--json',
        '--experiment',
        '--pipeline-run',
        '--step-run',
        '--label',
        '--tail',
        '--timeout',
        '--stderr',
        '--limit',
        '--failed',
        '--provider',
        'local',
        'x=y',
        '../..',
        '-1',
        '0',
        'NaN',
        'retry',
        '--all-failed',
        '--no-verify',
      ),
      fc.string({ maxLength: 12 }),
    );
    const argv = fc.tuple(fc.constantFrom(...safe), fc.array(token, { maxLength: 5 }));
    const writes: string[] = [];
    const realErr = process.stderr.write.bind(process.stderr);
    const realOut = process.stdout.write.bind(process.stdout);
    try {
      process.stderr.write = ((chunk: string) => (writes.push(String(chunk)), true)) as typeof process.stderr.write;
      process.stdout.write = (() => true) as typeof process.stdout.write;
      await fc.assert(
        fc.asyncProperty(argv, async ([command, rest]) => {
          writes.length = 0;
          process.exitCode = undefined;
          const args =
            command === 'wait'
              ? [command, ...rest, '--timeout', '0.2', '--interval', '0.1']
              : command === 'events'
                ? [command, ...rest.filter((r) => r !== '--follow')]
                : [command, ...rest];
          await main(['node', 'steprun-watch', ...args]);
          const text = writes.join('');
          if (/unexpected error/.test(text)) throw new Error(`${args.join(' ')}: ${text}`);
        }),
        { numRuns: RUNS },
      );
    } finally {
      process.stderr.write = realErr;
      process.stdout.write = realOut;
      process.exitCode = undefined;
      delete process.env.SRW_CONFIG;
      delete process.env.SRW_DATA_DIR;
    }
  });
});
