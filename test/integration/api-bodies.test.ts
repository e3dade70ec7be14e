// Bodies of every wrong shape to every API route that takes one: 4xx, never 5xx (issue 38, item 5).
// every JSON route of docs/openapi.yaml, sent bodies of every wrong shape — null, arrays, numbers,
// strings, booleans, deep nesting, objects with fields of the wrong types — answers 4xx, never 5xx (a JSON `null`
// answered 500 on POST /alerts/:id/ack, /silences, /routes/test, /hooks/slack and /hooks/pagerduty). The hooks are
// signed as their senders sign, so the body itself is what is tried.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import type { Daemon } from '../../src/runtime/daemon';
import { startDaemon, testConfig } from '../support/daemon';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';

jest.setTimeout(120_000);

const PD_SECRET = 'pd-secret-0123456789abcdef';
const SLACK_SECRET = 'slack-signing-secret-0123456789';
const redis = testRedis();
const prefix = uniquePrefix('bodies');
let daemon: Daemon;

interface Operation {
  method: string;
  path: string;
  contentType: string;
}

/** Every operation of the API document that takes a body, with its path parameters filled in. */
function bodyOperations(): Operation[] {
  const doc = parseYaml(readFileSync(path.join(__dirname, '../../docs/openapi.yaml'), 'utf8')) as {
    paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>>;
  };
  const ops: Operation[] = [];
  for (const [p, item] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(item)) {
      if (!op || typeof op !== 'object' || !op.requestBody) continue;
      ops.push({
        method: method.toUpperCase(),
        path: p.replace(/\{[^}]+\}/g, 'local%2FE%2Fstep%2Ftrain'),
        contentType: Object.keys(op.requestBody.content)[0]!,
      });
    }
  return ops;
}

/** The request as its sender makes it: JSON, or Slack's form field; hooks signed with their secrets. */
function requestOf(op: Operation, json: string): { headers: Record<string, string>; body: string } {
  if (op.path === '/hooks/slack') {
    const body = new URLSearchParams({ payload: json }).toString();
    const ts = String(Math.floor(Date.now() / 1000));
    const signature = `v0=${createHmac('sha256', SLACK_SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
    return { headers: { 'content-type': op.contentType, 'x-slack-request-timestamp': ts, 'x-slack-signature': signature }, body };
  }
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (op.path === '/hooks/pagerduty') headers['x-pagerduty-signature'] = `v1=${createHmac('sha256', PD_SECRET).update(json).digest('hex')}`;
  return { headers, body: json };
}

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
const wrongShapes = fc.oneof(
  fc.constantFrom('null', '[]', '0', '-1', '"x"', 'true', '{}', deep(500), `{"a":${deep(2000)}}`),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  // Objects with the routes' own field names and values of every type.
  fc
    .dictionary(
      fc.constantFrom('by', 'comment', 'match', 'for', 'eventId', 'event', 'experiment', 'provider', 'verify', 'payload', 'actions', 'type', 'user', 'message'),
      fc.jsonValue({ maxDepth: 3 }),
    )
    .map((o) => JSON.stringify(o)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify({ event: { id: 'x', event_type: 'incident.acknowledged', data: v, agent: v } })),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify({ type: 'block_actions', actions: v, user: v, message: v, response_url: v })),
);

beforeAll(async () => {
  daemon = await startDaemon(
    testConfig({
      prefix,
      dataDir: tempDir('bodies'),
      extra: { api: { listen: '127.0.0.1:0', pagerDuty: { secrets: [PD_SECRET] }, slack: { signingSecret: SLACK_SECRET } } },
    }),
  );
});

afterAll(async () => {
  await daemon.stop();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

it('the document names the routes that take a body (the test is not vacuous)', () => {
  expect(bodyOperations().map((o) => `${o.method} ${o.path.split('/local')[0]}`)).toEqual(
    expect.arrayContaining(['POST /tracks', 'POST /alerts', 'POST /silences', 'POST /routes/test', 'POST /hooks/pagerduty', 'POST /hooks/slack']),
  );
});

it('every route that takes a body answers 4xx to bodies of the wrong shape, never 5xx', async () => {
  const ops = bodyOperations();
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...ops), wrongShapes, async (op, json) => {
      const { headers, body } = requestOf(op, json);
      const res = await fetch(`${daemon.apiUrl}${op.path}`, { method: op.method, headers, body });
      const text = await res.text();
      // 2xx is fine too (a shape some route accepts); a 5xx never is.
      expect({ route: `${op.method} ${op.path}`, body: json.slice(0, 200), status: res.status < 500 ? 'not 5xx' : `${res.status} ${text}` }).toEqual({
        route: `${op.method} ${op.path}`,
        body: json.slice(0, 200),
        status: 'not 5xx',
      });
    }),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 300), seed: 38005 },
  );
  // The named ones, each on each route.
  for (const op of ops)
    for (const json of ['null', '[]', '7', '"s"', 'true', deep(3000)]) {
      const { headers, body } = requestOf(op, json);
      const res = await fetch(`${daemon.apiUrl}${op.path}`, { method: op.method, headers, body });
      expect([op.method, op.path, json.slice(0, 20), res.status < 500]).toEqual([op.method, op.path, json.slice(0, 20), true]);
    }
});
