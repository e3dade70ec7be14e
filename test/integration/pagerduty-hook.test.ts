// PagerDuty's back-channel. v3 webhooks signed as the developer docs describe (X-PagerDuty-Signature:
// v1=<hex HMAC-SHA256 of the raw body>, one per secret while one rotates), through the daemon: acknowledged → no
// more repeats; resolved by a person while the step still fails → the alert closes, and only the step's next
// failure pages again; forged, unsigned and unknown requests change nothing; a retried webhook changes nothing more.
import { createHmac } from 'node:crypto';
import * as path from 'node:path';
import { systemClock } from '../../src/util/clock';
import type { Daemon } from '../../src/runtime/daemon';
import { LocalProvider } from '../../src/providers/local/provider';
import { verifyPagerDutySignature } from '../../src/api/pagerduty-hook';
import { TrackStore, trackFromRequest } from '../../src/store/tracks';
import { startDaemon, testConfig } from '../support/daemon';
import { runPipelineText } from '../support/local-runs';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';
import { untilQuiet } from '../support/quiet';
import { timePasses, waitFor } from '../support/wait-for';
import { WebhookReceiver } from '../support/webhook-receiver';

const SECRETS = ['old-secret-0123456789abcdef', 'new-secret-0123456789abcdef'];
const redis = testRedis();
const prefix = uniquePrefix('pdhook');
const dataDir = tempDir('pdhook');
const local = new LocalProvider({ root: path.join(dataDir, 'runs') });
const pd = new WebhookReceiver();
let daemon: Daemon;

/** As PagerDuty signs: `v1=` + hex HMAC-SHA256 of the raw body with each secret it holds, comma-separated. */
function signed(body: string, secrets: string[]): string {
  return secrets.map((s) => `v1=${createHmac('sha256', s).update(body).digest('hex')}`).join(',');
}

function webhook(type: string, incidentKey: string, id = `01${type}`, occurredAt = new Date()): string {
  return JSON.stringify({
    event: {
      id,
      event_type: type,
      resource_type: 'incident',
      occurred_at: occurredAt.toISOString(),
      agent: { html_url: 'https://acme.pagerduty.com/users/PLH1HKV', id: 'PLH1HKV', summary: 'Jane Oncall', type: 'user_reference' },
      client: null,
      data: {
        id: 'PGR0VU2',
        type: 'incident',
        html_url: 'https://acme.pagerduty.com/incidents/PGR0VU2',
        status: type.split('.')[1],
        incident_key: incidentKey,
      },
    },
  });
}

async function post(body: string, signature: string | undefined): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${daemon.apiUrl}/hooks/pagerduty`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature ? { 'x-pagerduty-signature': signature } : {}) },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** The step's alert as GET /alerts shows it (the pipeline's failure opens an alert of its own). */
async function stepAlert(): Promise<{ key: string; acked?: { by: string } } | undefined> {
  const { alerts } = (await (await fetch(`${daemon.apiUrl}/alerts`)).json()) as { alerts: { key: string; acked?: { by: string } }[] };
  return alerts.find((a) => a.key === 'local/pdexp/step/train');
}

const triggers = () => pd.received.filter((r) => (r.json as { event_action: string }).event_action === 'trigger');
const pdActions = () => pd.received.map((r) => (r.json as { event_action: string }).event_action);

beforeAll(async () => {
  const url = await pd.start();
  daemon = await startDaemon(
    testConfig({
      prefix,
      dataDir,
      extra: {
        api: { listen: '127.0.0.1:0', pagerDuty: { secrets: [SECRETS[1]] } },
        notifiers: { pd: { type: 'webhook', format: 'pagerduty', url, routingKey: 'R0UT1NG' } },
        routes: [{ match: { type: ['steprun.*'] }, notify: ['pd'], group: { wait: '1s', interval: '1s' }, repeat: { every: '2s' } }],
      },
    }),
  );
  await new TrackStore(redis, daemon.keys, systemClock).add(trackFromRequest({ provider: 'local', experiment: 'pdexp' }, 'cli', Date.now() - 1000));
});

afterAll(async () => {
  await daemon.stop();
  await pd.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

const FAILING = 'experiment: pdexp\nsteps:\n  - { name: train, run: "echo boom >&2; exit 3" }\n';
const KEY = 'steprun-watch/local/pdexp/step/train';

it('the signature: v1 HMAC-SHA256 of the raw body, any of several, in constant time; anything else is refused', () => {
  const body = Buffer.from(webhook('incident.acknowledged', KEY));
  // Computed here as PagerDuty's docs describe, independently of the daemon's code.
  const expected = createHmac('sha256', SECRETS[1]!).update(body).digest('hex');
  expect(verifyPagerDutySignature(body, `v1=${expected}`, [SECRETS[1]!])).toBe(true);
  expect(verifyPagerDutySignature(body, signed(body.toString(), SECRETS), [SECRETS[1]!])).toBe(true); // rotation: two signatures
  expect(verifyPagerDutySignature(body, `v1=${expected}`, ['another-secret-0123456789'])).toBe(false);
  expect(verifyPagerDutySignature(Buffer.from(`${body} `), `v1=${expected}`, [SECRETS[1]!])).toBe(false);
  expect(verifyPagerDutySignature(body, `v0=${expected}`, [SECRETS[1]!])).toBe(false);
  expect(verifyPagerDutySignature(body, undefined, [SECRETS[1]!])).toBe(false);
});

it('acknowledged in PagerDuty: repeats stop; resolved there while the step still fails: the alert closes, and only a new failure pages again', async () => {
  await runPipelineText(local.store, FAILING, path.join(dataDir, 'w1'));
  await waitFor(() => triggers().length >= 2, { timeoutMs: 30_000, what: 'the page and a repeat' });

  // Forged and unsigned webhooks change nothing.
  // The incident is the group's (issue 36): its key is what PagerDuty sends back.
  const incidentKey = (triggers()[0]!.json as { dedup_key: string }).dedup_key;
  expect(incidentKey).toMatch(/^steprun-watch\/g[0-9a-f]{20}$/);
  expect(new Set(triggers().map((t) => (t.json as { dedup_key: string }).dedup_key))).toEqual(new Set([incidentKey]));
  const ack = webhook('incident.acknowledged', incidentKey);
  expect((await post(ack, signed(ack, ['forged-secret-0123456789abc']))).status).toBe(401);
  expect((await post(ack, undefined)).status).toBe(401);
  expect((await stepAlert())!.acked).toBeUndefined();

  const first = await post(ack, signed(ack, SECRETS));
  expect(first).toMatchObject({ status: 200, json: { outcome: 'acked' } });
  // PagerDuty retries a webhook it thinks failed: the same delivery (its event.id) again changes nothing more.
  expect((await post(ack, signed(ack, SECRETS))).json).toMatchObject({ ignored: expect.stringContaining('already applied') });
  expect((await stepAlert())!.acked).toMatchObject({ by: 'Jane Oncall (PagerDuty)' });
  const afterAck = triggers().length;
  await timePasses(5000, 'two repeat periods: an acknowledged alert is not paged again');
  expect(triggers()).toHaveLength(afterAck);

  const resolved = webhook('incident.resolved', incidentKey);
  expect((await post(resolved, signed(resolved, SECRETS))).json).toMatchObject({ outcome: 'resolved-by-human' });
  const resolvedAgain = webhook('incident.resolved', incidentKey, '02incident.resolved');
  expect((await post(resolvedAgain, signed(resolvedAgain, SECRETS))).json).toMatchObject({
    outcome: expect.stringMatching(/^unknown (alert|incident): ignored$/),
  });
  expect(await stepAlert()).toBeUndefined();
  await waitFor(() => pdActions().at(-1) === 'resolve', { what: 'the resolve' });
  await untilQuiet(redis, prefix);
  expect(triggers()).toHaveLength(afterAck); // nothing re-triggers the closed incident

  await runPipelineText(local.store, FAILING, path.join(dataDir, 'w2'));
  await waitFor(() => triggers().length > afterAck, { timeoutMs: 30_000, what: 'the next failure paging again' });

  // Keys this daemon did not send are answered 200 and ignored.
  const foreign = webhook('incident.acknowledged', 'someone-else/key');
  expect(await post(foreign, signed(foreign, SECRETS))).toMatchObject({ status: 200, json: { ignored: expect.any(String) } });
});

// Signed webhooks replayed — PagerDuty's own late retries, or someone's copy — changed the state:
// an old acknowledgement flipped it back, an hour-old incident.resolved closed an alert that had opened again since.
it('a webhook applied once is not applied again (its event.id), and one older than the incident it names changes nothing', async () => {
  const incidentKey = (triggers().at(-1)!.json as { dedup_key: string }).dedup_key;
  expect((await stepAlert())!.acked).toBeUndefined();
  const ack = webhook('incident.acknowledged', incidentKey, 'Q1ACK');
  expect((await post(ack, signed(ack, SECRETS))).json).toMatchObject({ outcome: 'acked' });
  const unack = webhook('incident.unacknowledged', incidentKey, 'Q2UNACK');
  expect((await post(unack, signed(unack, SECRETS))).json).toMatchObject({ outcome: 'unacknowledged' });
  // The acknowledgement again, as a replay would send it: ignored, the alert stays unacknowledged.
  expect((await post(ack, signed(ack, SECRETS))).json).toMatchObject({ ignored: expect.stringContaining('already applied') });
  expect((await stepAlert())!.acked).toBeUndefined();
  // A resolve that occurred an hour ago, before this incident opened: about an earlier incident under the same key.
  const old = webhook('incident.resolved', incidentKey, 'Q3OLD', new Date(Date.now() - 3_600_000));
  expect((await post(old, signed(old, SECRETS))).json).toMatchObject({ ignored: expect.stringContaining('before') });
  expect(await stepAlert()).toBeDefined();
});
