// Acknowledging an alert, composed with repeats, groups and resolves (AlertRig: the real dispatcher,
// delivery worker, Redis and HTTP receivers), and through the daemon's API and the CLI.
import * as path from 'node:path';
import { acknowledge } from '../../src/alerts/ack';
import { AlertStore } from '../../src/alerts/alert-store';
import type { Daemon } from '../../src/runtime/daemon';
import type { WatchEvent } from '../../src/store/events';
import { AlertRig, stepEvent } from '../support/alert-rig';
import { cli } from '../support/cli';
import { startDaemon, testConfig } from '../support/daemon';
import { dropPrefix, REDIS_URL, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';

jest.setTimeout(60_000);

let rig: AlertRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

describe('an acknowledged alert', () => {
  it('sends no repeats (recorded suppressed, with who), stays open, and its resolve says who acknowledged', async () => {
    const r = (rig = await new AlertRig({
      config: {
        routes: [
          { match: { type: ['steprun.failed', 'steprun.finished'] }, notify: ['ce'], repeat: { every: 15 } },
          { match: { type: ['steprun.failed', 'steprun.finished'] }, notify: ['pd'], group: { wait: 0.3, interval: 0.5 }, repeat: { every: 15 } },
        ],
      },
    }).start());
    await r.emit(stepEvent('steprun.failed', 'train', 'run1'));
    await r.settle(1000);
    r.clock.advance(16_000);
    expect(await r.repeatTick()).toBe(1); // ce's repeat; pd's is its incident group's (issue 36), due on the same clock
    await r.settle(1000);
    expect(r.pagerHolds().bodies.map((b) => b.event_action)).toEqual(['trigger', 'trigger']); // both routes repeat while nobody acknowledged

    const done = await acknowledge(r.alerts, 'local/E/step/train', 'alice', r.clock.now(), 'quota raised', r.incidents);
    expect(done).toMatchObject({ outcome: 'acked', by: 'alice', alert: { acked: { by: 'alice', comment: 'quota raised' } } });
    // The first acknowledgement stands: a second (a webhook delivered again) changes nothing.
    expect(await acknowledge(r.alerts, done.alert.id, 'bob', r.clock.now())).toMatchObject({ outcome: 'already', by: 'alice' });

    await r.settle(1000);
    expect(r.pagerHolds().bodies.map((b) => b.event_action)).toEqual(['trigger', 'trigger', 'acknowledge']);
    const before = r.messages().length;
    r.clock.advance(15_000);
    expect(await r.repeatTick()).toBe(0);
    r.clock.advance(15_000);
    expect(await r.repeatTick()).toBe(0);
    await r.settle(1000);
    expect(r.messages()).toHaveLength(before);
    const repeats = (await r.deliveries.list({ limit: 100 })).filter((d) => d.id.includes('-repeat') && d.status !== 'delivered');
    expect(repeats.length).toBeGreaterThanOrEqual(2);
    for (const d of repeats) expect(d).toMatchObject({ status: 'suppressed', reason: 'acknowledged by alice' });
    expect(await r.alerts.list()).toHaveLength(1);

    await r.emit(stepEvent('steprun.finished', 'train', 'run2'));
    await r.settle(3000);
    expect(await r.alerts.list()).toEqual([]);
    const resolved = r.ce.received.map((x) => (x.json as { data: WatchEvent }).data).find((e) => e.type === 'alert.resolved')!;
    expect(resolved.alert!.acked).toMatchObject({ by: 'alice', comment: 'quota raised' });
    const lastPd = r
      .messages()
      .filter((m) => m.notifier === 'pd')
      .at(-1);
    expect(lastPd).toMatchObject({ kind: 'resolve' });
    expect(r.pagerHolds().open.size).toBe(0);
  });
});

describe('acknowledge through the API and the CLI', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('ack');
  const TOKEN = 'ack-test-token-0123456789abcdefghijklmn';
  let daemon: Daemon;

  beforeAll(async () => {
    daemon = await startDaemon(testConfig({ prefix, dataDir: tempDir('ack'), extra: { api: { listen: '127.0.0.1:0', token: TOKEN } } }));
  });
  afterAll(async () => {
    await daemon.stop();
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  it('POST /alerts/{key}/ack records who; GET /alerts and `alerts --json` show it; an unknown alert is 404 / exit 3', async () => {
    const alerts = new AlertStore(redis, daemon.keys);
    const event = stepEvent('steprun.failed', 'train', 'run1');
    await alerts.open('local/E/step/train', event, { told: {}, pending: {} }, Date.now());
    const post = (key: string, body: unknown) =>
      fetch(`${daemon.apiUrl}/alerts/${encodeURIComponent(key)}/ack`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const res = await post('local/E/step/train', { by: 'carol', comment: 'on it' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ outcome: 'acked', alert: { key: 'local/E/step/train', acked: { by: 'carol (api-token)', comment: 'on it' } } });
    const listed = (await (await fetch(`${daemon.apiUrl}/alerts`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as {
      alerts: { acked?: { by: string } }[];
    };
    expect(listed.alerts[0]!.acked).toMatchObject({ by: 'carol (api-token)' });
    const missing = await post('local/E/step/nope', {});
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('SRW_ALERT_NOT_FOUND');

    const env = { SRW_DATA_DIR: path.join(tempDir('ack-cli'), 'data'), REDIS_URL, SRW_REDIS_PREFIX: prefix };
    const shown = await cli(['alerts', '--json'], { env });
    expect(JSON.parse(shown.stdout)[0]).toMatchObject({ key: 'local/E/step/train', acked: { by: 'carol (api-token)' } });
    const again = await cli(['alerts', 'ack', 'local/E/step/train', '--by', 'dave'], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('was already acknowledged by carol (api-token)');
    const unknown = await cli(['alerts', 'ack', 'no-such-alert'], { env });
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('no open alert no-such-alert');
  });
});
