// What the pager holds, checked (notify/pager/reconcile.ts): against a stand-in of PagerDuty's REST API whose open
// incidents are what the Events API receiver was sent (plus drift the test puts there), the daemon's incident groups
// are compared — pagination and a 429 waited out — and `fix` mends each kind of drift until both hold the same.
import { acknowledge } from '../../src/alerts/ack';
import { Metrics } from '../../src/api/metrics';
import { validateConfig } from '../../src/config/load';
import type { Notifier } from '../../src/notify/notifier';
import { reconcilePager } from '../../src/notify/pager/reconcile';
import { startPagerChecks } from '../../src/runtime/pager-checks';
import { AlertRig, stepEvent } from '../support/alert-rig';
import { buildNotifier, silent } from '../support/notifiers';
import { PagerDutyRestStandIn, type StandInIncident } from '../support/pagerduty-rest';
import { waitFor } from '../support/wait-for';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { cli } from '../support/cli';
import { tempDir } from '../support/tmp';

const TOKEN = 'pd-read-only-token';
const SERVICE = 'PSRVICE';
const rest = new PagerDutyRestStandIn(TOKEN, SERVICE, 2);
let rig: AlertRig;
let pd: Notifier;
let api: { token: string; serviceId: string; url: string };
/** What the receiver holds, as PagerDuty would list it, changed by `drift`. */
let drift: (held: StandInIncident[]) => StandInIncident[] = (held) => held;
const check = (fix = false) => reconcilePager({ name: 'pd', api, incidents: rig.incidents, notifier: pd, logger: silent }, { fix, now: rig.clock.now() });

beforeAll(async () => {
  api = { token: TOKEN, serviceId: SERVICE, url: await rest.start() };
  rig = await new AlertRig({
    config: { routes: [{ match: { type: ['steprun.failed', 'steprun.finished'] }, notify: ['pd'], group: { wait: '1s' } }] },
  }).start();
  pd = await buildNotifier(rig.config.notifiers.pd!, { name: 'pd' });
  rest.incidents = () => drift([...rig.pagerHolds().open].map(([key, status]) => ({ key, status })));
});
afterAll(async () => {
  await rig?.stop();
  await rest.stop();
});

describe('reconcile against PagerDuty', () => {
  let key = '';

  it('finds nothing to say when PagerDuty holds what the groups hold (a 429 waited out, pages followed)', async () => {
    await rig.emit(stepEvent('steprun.failed', 'train', 'run1'), stepEvent('steprun.failed', 'eval', 'run2'), stepEvent('steprun.failed', 'test', 'run3'));
    await rig.settle(2_000);
    expect(rig.pagerHolds().open.size).toBe(3);
    key = [...rig.pagerHolds().open.keys()][0]!;
    rest.throttleNext = 1;
    expect(await check()).toEqual({ notifier: 'pd', openThereOnly: [], openHereOnly: [], ackedHereOnly: [], fixed: [] });
    const asked = rest.requests.slice(-3);
    expect(asked.map((r) => r.status)).toEqual([429, 200, 200]);
    expect(asked[1]!.url).toContain(`service_ids%5B%5D=${SERVICE}`);
    expect(asked[2]!.url).toContain('offset=2');
  });

  it('says each kind of drift; fix resolves ours open there only and pages again what is open here only', async () => {
    // An incident of ours PagerDuty still holds (its resolve was lost), one of another tool, and one of ours it lost.
    drift = (held) => [
      ...held.filter((i) => i.key !== key),
      { key: 'steprun-watch/gone-group', status: 'triggered' },
      { key: 'other-tool/123', status: 'triggered' },
    ];
    expect(await check()).toMatchObject({ openThereOnly: ['steprun-watch/gone-group'], openHereOnly: [key], ackedHereOnly: [] });
    const fixed = await check(true);
    expect(fixed.fixed).toEqual(['resolved steprun-watch/gone-group', `triggering ${key} again`]);
    const sent = () => rig.pd.received.map((r) => r.json as { event_action: string; dedup_key: string });
    expect(sent()).toContainEqual(expect.objectContaining({ event_action: 'resolve', dedup_key: 'steprun-watch/gone-group' }));
    // The group's own flush (the rig's dispatcher ticker) pages it again.
    await waitFor(async () => sent().filter((b) => b.dedup_key === key && b.event_action === 'trigger').length === 2, { what: 'the group paged again' });
    drift = (held) => [...held, { key: 'other-tool/123', status: 'triggered' }];
    expect(await check()).toMatchObject({ openThereOnly: [], openHereOnly: [], ackedHereOnly: [] });
  });

  it('an acknowledgement PagerDuty lost is said, and fix acknowledges again', async () => {
    const group = (await rig.incidents.list()).find((g) => `steprun-watch/${g.id}` === key)!;
    for (const alertKey of group.members.keys()) await acknowledge(rig.alerts, alertKey, 'jane', rig.clock.now(), undefined, rig.incidents);
    await waitFor(async () => rig.pagerHolds().open.get(key) === 'acknowledged', { what: 'the acknowledgement at the pager' });
    drift = (held) => held.map((i) => (i.key === key ? { ...i, status: 'triggered' } : i));
    expect(await check()).toMatchObject({ openThereOnly: [], openHereOnly: [], ackedHereOnly: [key] });
    const acks = () => rig.pd.received.filter((r) => (r.json as { event_action: string; dedup_key: string }).event_action === 'acknowledge').length;
    const before = acks();
    expect((await check(true)).fixed).toEqual([`acknowledging ${key} again`]);
    await waitFor(async () => acks() > before, { what: 'acknowledge sent again' });
    drift = (held) => held;
    expect(await check()).toMatchObject({ openThereOnly: [], openHereOnly: [], ackedHereOnly: [] });
  });

  it('a wrong token is a clear error, nothing changed', async () => {
    await expect(
      reconcilePager({ name: 'pd', api: { ...api, token: 'wrong' }, incidents: rig.incidents, notifier: pd, logger: silent }, { fix: true, now: Date.now() }),
    ).rejects.toThrow(/PagerDuty REST API: HTTP 401/);
  });

  it('the daemon’s periodic check counts the drift in /metrics', async () => {
    drift = (held) => [...held, { key: 'steprun-watch/left-behind', status: 'acknowledged' }];
    const config = validateConfig(
      { notifiers: { pd: { ...rig.config.notifiers.pd, api: { ...api, checkEvery: '1s' } } }, routes: [{ match: {}, notify: ['pd'] }] },
      { env: {} },
    );
    const metrics = new Metrics({ redis: rig.redis, keys: rig.keys, providers: [], queues: [] });
    const stop = startPagerChecks({ config, notifiers: new Map([['pd', pd]]), incidents: rig.incidents, metrics, clock: rig.clock, logger: silent });
    try {
      await waitFor(async () => (await metrics.registry.metrics()).includes('srw_pager_drift{notifier="pd",kind="open_there_only"} 1'), {
        what: 'the drift in /metrics',
      });
      expect(await metrics.registry.metrics()).toContain('srw_pager_drift{notifier="pd",kind="open_here_only"} 0');
    } finally {
      stop();
    }
  });

  it('steprun-watch alerts reconcile says the drift, the token from the environment; --notifier names one', async () => {
    drift = (held) => [...held, { key: 'steprun-watch/left-behind', status: 'acknowledged' }];
    const dir = tempDir('reconcile-cli');
    const file = path.join(dir, 'config.yaml');
    const pdOptions = { ...rig.config.notifiers.pd, api: { token: '${PD_API_TOKEN}', serviceId: SERVICE, url: api.url } };
    writeFileSync(
      file,
      JSON.stringify({ redis: { prefix: rig.prefix }, notifiers: { pd: pdOptions, ce: rig.config.notifiers.ce }, routes: [{ match: {}, notify: ['pd'] }] }),
    );
    const env = { PD_API_TOKEN: TOKEN, SRW_DATA_DIR: dir };
    const text = await cli(['--config', file, 'alerts', 'reconcile'], { env });
    expect(text).toMatchObject({ code: 0 });
    expect(text.stdout).toBe('pd: drift\n  open at PagerDuty, no open group here: steprun-watch/left-behind\n');
    const json = await cli(['--config', file, 'alerts', 'reconcile', '--json'], { env });
    expect(JSON.parse(json.stdout)).toMatchObject({ drifts: [{ notifier: 'pd', openThereOnly: ['steprun-watch/left-behind'] }] });
    const wrong = await cli(['--config', file, 'alerts', 'reconcile', '--notifier', 'ce'], { env });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/notifiers\.ce: a pager \(format: pagerduty\) with api: \{token, serviceId\} is needed/);
  });
});
