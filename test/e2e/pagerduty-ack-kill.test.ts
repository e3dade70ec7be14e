// A SIGKILL between receiving PagerDuty's acknowledgement and recording it loses nothing: PagerDuty gets no
// 2xx, delivers the webhook again, and the acknowledgement is recorded once. The daemon is a real process; a gate
// between it and Redis holds its commands so that it is killed with the webhook received and nothing recorded.
import { createHmac } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { AlertStore } from '../../src/alerts/alert-store';
import { Keys } from '../../src/store/keys';
import { ProcessGroup, sigkill } from '../support/cli';
import { stepEvent } from '../support/alert-rig';
import { dropPrefix, REDIS_URL, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';
import { waitFor } from '../support/wait-for';

const SECRET = 'pagerduty-kill-secret-0123456789';
const redis = testRedis();
const prefix = uniquePrefix('pdkill');
const keys = new Keys(prefix);
const dir = tempDir('pdkill');
const processes = new ProcessGroup();

/** TCP between the daemon and Redis; while `held`, what the daemon sends is kept back (and dropped if it dies). */
class RedisGate {
  held = false;
  private server?: net.Server;
  private readonly flushes = new Set<() => void>();

  async start(target: URL): Promise<number> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 6379), target.hostname);
      const waiting: Buffer[] = [];
      const flush = () => {
        while (waiting.length) upstream.write(waiting.shift()!);
      };
      this.flushes.add(flush);
      client.on('data', (chunk: Buffer) => (this.held ? waiting.push(chunk) : upstream.write(chunk)));
      upstream.pipe(client);
      const end = () => {
        this.flushes.delete(flush);
        waiting.length = 0;
        client.destroy();
        upstream.destroy();
      };
      client.on('close', end).on('error', end);
      upstream.on('close', end).on('error', end);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return (this.server!.address() as net.AddressInfo).port;
  }

  release(): void {
    this.held = false;
    for (const flush of this.flushes) flush();
  }

  async close(): Promise<void> {
    await new Promise((r) => this.server?.close(r));
  }
}

const gate = new RedisGate();

async function startDaemon(redisUrl: string): Promise<{ api: string; child: ReturnType<ProcessGroup['start']> }> {
  const file = path.join(dir, `config-${Date.now()}.yaml`);
  await fs.writeFile(
    file,
    stringifyYaml({ redis: { url: redisUrl, prefix }, api: { listen: '127.0.0.1:0', pagerDuty: { secrets: [SECRET] } }, log: { level: 'info' } }),
  );
  const child = processes.start(['daemon'], { env: { SRW_CONFIG: file, SRW_DATA_DIR: path.join(dir, 'data') } });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const api = await waitFor(() => /"api":"(http:[^"]+)".*steprun-watch started/.exec(out)?.[1], { timeoutMs: 20_000, what: 'the daemon start' });
  return { api, child };
}

afterAll(async () => {
  await processes.killAll();
  await gate.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

it('killed after receiving the acknowledgement and before recording it: PagerDuty delivers again and it is recorded once', async () => {
  const alerts = new AlertStore(redis, keys);
  await alerts.open('local/E/step/train', stepEvent('steprun.failed', 'train', 'run1'), { told: {}, pending: {} }, Date.now());
  const body = JSON.stringify({
    event: {
      id: '01ACKKILL',
      event_type: 'incident.acknowledged',
      agent: { summary: 'Jane Oncall', type: 'user_reference' },
      data: { type: 'incident', incident_key: 'steprun-watch/local/E/step/train' },
    },
  });
  const signature = `v1=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
  const deliver = (api: string) =>
    fetch(`${api}/hooks/pagerduty`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-pagerduty-signature': signature }, body });

  const port = await gate.start(new URL(REDIS_URL));
  const first = await startDaemon(`redis://127.0.0.1:${port}`);
  gate.held = true;
  const lost = deliver(first.api).then(
    (r) => r.status,
    () => 'no answer',
  );
  await new Promise((r) => setTimeout(r, 700)); // received, its Redis commands held at the gate
  await sigkill(first.child);
  expect(await lost).toBe('no answer'); // PagerDuty saw no 2xx: it will deliver again
  gate.release();
  expect((await alerts.get('local/E/step/train'))!.acked).toBeUndefined();

  const second = await startDaemon(REDIS_URL);
  const retried = await deliver(second.api);
  expect(retried.status).toBe(200);
  expect(await retried.json()).toMatchObject({ outcome: 'acked' });
  expect(await (await deliver(second.api)).json()).toMatchObject({ ignored: expect.stringContaining('already applied') }); // the same event.id: applied once;
  expect((await alerts.get('local/E/step/train'))!.acked).toMatchObject({ by: 'Jane Oncall (PagerDuty)' });
});
