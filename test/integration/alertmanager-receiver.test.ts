// The alertmanager notifier (notify/notifiers/alertmanager.ts) against Debian's real prometheus-alertmanager: a
// failure appears in `amtool alert query` with its labels and the route's annotations, is posted again while open
// (one alert there, never two, across a restart and a killed worker), and disappears when it resolves; an
// Alertmanager that refuses (400) or fails (500) leaves a dead letter with the reason; one of an HA pair down is fine.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Alertmanager, amtool, binary, freePort, NOT_INSTALLED } from '../support/alertmanager';
import { AlertRig, stepEvent } from '../support/alert-rig';
import { tempDir } from '../support/tmp';
import { waitFor } from '../support/wait-for';

const dir = tempDir('am-receiver');
const haveAlertmanager = Boolean(binary('prometheus-alertmanager') && binary('amtool'));
if (!haveAlertmanager) console.warn(`alertmanager-receiver.test.ts: not run: ${NOT_INSTALLED}`);
const describeWithAlertmanager = haveAlertmanager ? describe : describe.skip;

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
  status: { state: string };
}

/** A stand-in that answers every POST with `status` (an Alertmanager refusing, or failing), or never (0: hanging). */
async function answering(status: number): Promise<{ url: string; posts: () => number; close: () => Promise<void> }> {
  let posts = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    posts++;
    if (status === 0) return;
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(status === 400 ? 'invalid label set' : 'internal'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const close = () => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  };
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, posts: () => posts, close };
}

describeWithAlertmanager('a real Alertmanager as a receiver', () => {
  const am = new Alertmanager(dir);
  let rig: AlertRig;
  let refusing: Awaited<ReturnType<typeof answering>>;
  let failing: Awaited<ReturnType<typeof answering>>;
  let hanging: Awaited<ReturnType<typeof answering>>;
  const query = async (...args: string[]): Promise<AmAlert[]> => {
    const out = await amtool(am.url, ['alert', 'query', '-o', 'json', ...args], { dir });
    if (out.code !== 0) throw new Error(`amtool: ${out.stderr}`);
    return JSON.parse(out.stdout) as AmAlert[];
  };

  beforeAll(async () => {
    await am.start();
    [refusing, failing, hanging] = [await answering(400), await answering(500), await answering(0)];
    // A port nothing listens on: the other member of an HA pair, down.
    const down = `http://127.0.0.1:${await freePort()}`;
    rig = await new AlertRig({
      config: {
        notifiers: {
          am: { type: 'alertmanager', url: [am.url, down], resend: '1s', timeoutMs: 2000 },
          refusing: { type: 'alertmanager', url: refusing.url },
          failing: { type: 'alertmanager', url: failing.url, timeoutMs: 1000 },
          hanging: { type: 'alertmanager', url: hanging.url, timeoutMs: 300 },
        },
        routes: [
          {
            match: { type: ['steprun.failed', 'steprun.finished'] },
            notify: ['am'],
            annotations: { runbook: 'https://runbooks.example.com/{{experiment}}/{{stepRun.name}}', description: 'the {{stepRun.name}} step failed' },
          },
          { match: { type: 'steprun.failed', step: 'bad' }, notify: ['refusing', 'failing', 'hanging'] },
        ],
      },
    }).start();
  });
  afterAll(async () => {
    await rig?.stop();
    await am.stop();
    await refusing?.close();
    await failing?.close();
    await hanging?.close();
  });

  it('a failure appears in amtool alert query with its labels, annotations and times', async () => {
    await rig.emit(stepEvent('steprun.failed', 'train', 'run1'));
    await rig.settle();
    const [alert, ...more] = await waitFor(async () => ((await query()).length ? query() : undefined), { what: 'the alert at Alertmanager' });
    expect(more).toEqual([]);
    expect(alert!.labels).toEqual({
      alertname: 'StepRunFailed',
      alertkey: 'local/E/step/train',
      provider: 'local',
      experiment: 'E',
      step: 'train',
      severity: 'error',
    });
    expect(alert!.annotations).toMatchObject({ runbook: 'https://runbooks.example.com/E/train', description: 'the train step failed', pipelineRunId: 'run1' });
    expect(alert!.status.state).toBe('active');
    // Never resolved at Alertmanager while open: its endsAt is a few resends ahead of the latest resend. Read again
    // until one is fresh (a loaded machine can read just before a resend lands, ~2 s after the one before).
    const resent = await waitFor(
      async () => {
        const [now] = await query();
        return now && Date.parse(now.endsAt) > Date.now() + 2_000 ? now : undefined;
      },
      { what: 'a resend keeping endsAt ahead' },
    );
    expect(Date.parse(resent!.endsAt)).toBeGreaterThan(Date.parse(resent!.startsAt) + 2_000);
    const record = (await rig.deliveries.list({ limit: 20 })).find((d) => d.notifier === 'am');
    expect(record).toMatchObject({ status: 'delivered' });
    expect(record!.detail).toMatch(/firing at .*; not at http:\/\/127\.0\.0\.1:\d+/);
  });

  it('is posted again while open, through a restart and a killed worker: one alert there, its end pushed on', async () => {
    const [before] = await query();
    for (const step of ['restart', 'kill', 'none'] as const) {
      if (step === 'restart') await rig.restart();
      if (step === 'kill') await rig.killWorker();
      rig.clock.advance(1_100);
      expect(await rig.repeatTick()).toBeGreaterThanOrEqual(1);
      await rig.settle();
    }
    const reposts = (await rig.deliveries.list({ limit: 50 })).filter((d) => d.notifier === 'am' && d.summary.startsWith('repeat '));
    expect(reposts.length).toBeGreaterThanOrEqual(3);
    const after = await query();
    expect(after).toHaveLength(1);
    expect(after[0]!.startsAt).toBe(before!.startsAt);
    expect(Date.parse(after[0]!.endsAt)).toBeGreaterThanOrEqual(Date.parse(before!.endsAt));
  });

  it('the step finishing resolves it: amtool lists it no more', async () => {
    await rig.emit(stepEvent('steprun.finished', 'train', 'run2'));
    await rig.settle();
    await waitFor(async () => (await query()).length === 0, { what: 'the alert resolved at Alertmanager' });
    const resolve = (await rig.deliveries.list({ limit: 50 })).find((d) => d.notifier === 'am' && d.eventType === 'alert.resolved');
    expect(resolve).toMatchObject({ status: 'delivered' });
    expect(resolve!.detail).toMatch(/^resolved at /);
  });

  it('an Alertmanager that refuses (400), fails (500) or never answers leaves a dead letter with the reason', async () => {
    await rig.emit(stepEvent('steprun.failed', 'bad', 'run3'));
    await rig.settle(0, 30_000);
    const records = await rig.deliveries.list({ limit: 50, failedOnly: true });
    expect(records.find((d) => d.notifier === 'refusing')).toMatchObject({ status: 'failed', attempts: 1 });
    expect(records.find((d) => d.notifier === 'refusing')!.lastError).toMatch(/400/);
    expect(records.find((d) => d.notifier === 'failing')).toMatchObject({ status: 'failed', attempts: 3 });
    expect(records.find((d) => d.notifier === 'failing')!.lastError).toMatch(/500/);
    expect(records.find((d) => d.notifier === 'hanging')).toMatchObject({ status: 'failed', attempts: 3 });
    expect(records.find((d) => d.notifier === 'hanging')!.lastError).toMatch(/time/i);
    expect(hanging.posts()).toBe(3);
    expect(refusing.posts()).toBe(1);
    expect(failing.posts()).toBe(3);
  });
});
