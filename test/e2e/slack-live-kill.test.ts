// The live Slack message survives a SIGKILL of the daemon mid-run: still one message, edited by the next daemon.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { ProcessGroup, sigkill } from '../support/cli';
import { dropPrefix, REDIS_URL, testRedis, uniquePrefix } from '../support/redis';
import { SlackApiStandIn } from '../support/slack-api';
import { tempDir } from '../support/tmp';
import { timePasses, waitFor } from '../support/wait-for';

const redis = testRedis();
const prefix = uniquePrefix('slackkill');
const dir = tempDir('slackkill');
const slack = new SlackApiStandIn();
const processes = new ProcessGroup();
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  const url = await slack.start();
  const config = {
    redis: { url: REDIS_URL, prefix },
    poll: { tick: '* * * * * *', minIntervalSeconds: 0.3, maxIntervalSeconds: 1 },
    workers: { lockDurationMs: 2000, reclaimIdleMs: 1000 },
    delivery: { attempts: 10, backoffMs: 200 },
    notifiers: { live: { type: 'slack', token: 'xoxb-test-token', channel: '#ml', slackApiUrl: url } },
    routes: [{ match: { type: ['steprun.*', 'pipelinerun.*'] }, notify: ['live'] }],
    tracks: [{ provider: 'local', experiment: 'slackkill' }],
    api: { listen: '127.0.0.1:0' },
  };
  await fs.writeFile(path.join(dir, 'config.yaml'), stringifyYaml(config));
  const steps = Array.from({ length: 10 }, (_, i) => `  - { name: s${i}, run: 'sleep 0.6'${i ? `, needs: [s${i - 1}]` : ''} }`);
  await fs.writeFile(path.join(dir, 'pipe.yaml'), ['experiment: slackkill', 'steps:', ...steps].join('\n') + '\n');
  env = { SRW_CONFIG: path.join(dir, 'config.yaml'), SRW_DATA_DIR: path.join(dir, 'data') };
});

afterAll(async () => {
  await processes.killAll();
  await slack.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

it('SIGKILL of the daemon mid-run: still one message, and the next daemon goes on editing it', async () => {
  const a = processes.start(['daemon'], { env });
  await waitFor(async () => (await redis.exists(`{${prefix}}:tracks`)) === 1, { what: 'the config track' });
  const run = processes.start(['run', path.join(dir, 'pipe.yaml')], { env });
  await waitFor(async () => slack.posts().length === 1, { timeoutMs: 30_000, what: 'the first post' });
  // Killed once the message's id is stored (the instant between Slack's answer and that write is the one
  // window no sender can close: see docs/ALERTS.md); the run goes on meanwhile.
  await waitFor(
    async () => {
      const keys = (await redis.keys(`{${prefix}}:live:live:*`)).filter((k) => !k.includes(':rows'));
      return keys.length === 1 && (await redis.hget(keys[0]!, 'ts')) !== null;
    },
    { what: 'the stored message id' },
  );
  await sigkill(a);
  processes.start(['daemon'], { env });
  await waitFor(async () => run.exitCode !== null, { timeoutMs: 60_000, what: 'the pipeline to end' });
  await waitFor(async () => slack.calls.some((c) => c.method === 'chat.update' && JSON.stringify(c.args).includes('[Finished] pipeline')), {
    timeoutMs: 30_000,
    what: 'the final update',
  });
  await timePasses(2000, 'a second message, had the restarted daemon posted one, would have come by now');
  expect(slack.posts()).toHaveLength(1);
  const ts = new Set(slack.calls.filter((c) => c.method === 'chat.update').map((c) => c.args.ts));
  expect(ts.size).toBe(1);
});
