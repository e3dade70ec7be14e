// A group's one page and an alert's one resolve survive a SIGKILL of the daemon (real processes, real Redis).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { cli, ProcessGroup, sigkill } from '../support/cli';
import { dropPrefix, REDIS_URL, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';
import { untilQuiet } from '../support/quiet';
import { waitFor } from '../support/wait-for';
import { WebhookReceiver } from '../support/webhook-receiver';

const redis = testRedis();
const prefix = uniquePrefix('alertkill');
const dir = tempDir('alertkill');
const receiver = new WebhookReceiver();
const processes = new ProcessGroup();
let env: NodeJS.ProcessEnv;

const PIPE = `experiment: killexp
steps:
  - { name: prep, run: 'echo ok' }
  - { name: train, run: 'if [ -n "$FAIL" ]; then exit 3; fi', needs: [prep] }
`;

async function streamTypes(): Promise<string[]> {
  return (await redis.xrange(`{${prefix}}:events`, '-', '+')).map(([, f]) => (JSON.parse(f[1]!) as { type: string }).type);
}

beforeAll(async () => {
  const url = await receiver.start();
  const config = {
    redis: { url: REDIS_URL, prefix },
    poll: { tick: '* * * * * *', minIntervalSeconds: 0.5, maxIntervalSeconds: 2 },
    workers: { lockDurationMs: 2000, reclaimIdleMs: 1000 },
    delivery: { attempts: 10, backoffMs: 200 },
    notifiers: { pd: { type: 'webhook', format: 'pagerduty', url, routingKey: 'K' } },
    routes: [{ match: { type: ['steprun.failed', 'pipelinerun.failed'] }, notify: ['pd'], group: { by: ['pipelineRunId'], wait: '4s', interval: '2s' } }],
    tracks: [{ provider: 'local', experiment: 'killexp' }],
    api: { listen: '127.0.0.1:0' },
  };
  await fs.writeFile(path.join(dir, 'config.yaml'), stringifyYaml(config));
  await fs.writeFile(path.join(dir, 'pipe.yaml'), PIPE);
  env = { SRW_CONFIG: path.join(dir, 'config.yaml'), SRW_DATA_DIR: path.join(dir, 'data') };
});

afterAll(async () => {
  await processes.killAll();
  await receiver.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('SIGKILL and the alert lifecycle', () => {
  it('killed during a group’s wait: still one page; killed during the resolve: still one resolve', async () => {
    const a = processes.start(['daemon'], { env });
    await waitFor(async () => (await redis.exists(`{${prefix}}:tracks`)) === 1, { what: 'the config track' });
    expect((await cli(['run', path.join(dir, 'pipe.yaml')], { env: { ...env, FAIL: '1' } })).code).toBe(1);
    // The group is open and its page waits for the 4 s wait: kill the daemon now.
    await waitFor(async () => (await redis.zcard(`{${prefix}}:incidents-due`)) > 0, { what: 'an open incident group' });
    await sigkill(a);
    expect(receiver.received).toHaveLength(0);
    const b = processes.start(['daemon'], { env });
    await waitFor(async () => receiver.received.length >= 1, { timeoutMs: 40_000, what: 'the page' });
    await untilQuiet(redis, prefix);
    expect(receiver.received.map((r) => (r.json as { event_action: string }).event_action)).toEqual(['trigger']);
    const key = (receiver.received[0]!.json as { dedup_key: string }).dedup_key;

    // The next run finishes: kill the daemon as soon as the step's success is in the outbox, before it is all sent.
    expect((await cli(['run', path.join(dir, 'pipe.yaml')], { env })).code).toBe(0);
    await waitFor(async () => (await streamTypes()).filter((t) => t === 'steprun.finished').length >= 3, { timeoutMs: 30_000, what: 'train finished' });
    await sigkill(b);
    processes.start(['daemon'], { env });
    await waitFor(async () => receiver.received.length >= 2, { timeoutMs: 40_000, what: 'the resolve' });
    await untilQuiet(redis, prefix);
    // Killed in the instant between the receiver's answer and the notification log's write, a message goes once more
    // with the same id and body (docs/RELIABILITY.md), which the receiver drops: count what it keeps, one per id.
    const kept = new Map(receiver.received.map((r) => [String(r.headers['webhook-id']), r.json]));
    expect([...kept.values()]).toEqual([expect.objectContaining({ event_action: 'trigger' }), { routing_key: 'K', event_action: 'resolve', dedup_key: key }]);
    expect((await streamTypes()).filter((t) => t === 'alert.resolved')).toHaveLength(2); // the step's (paged) and the pipeline's (silent)
  });
});
