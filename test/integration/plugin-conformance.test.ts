// The notifier conformance suite — every built-in passes it, and so does a plugin typed against the package's exports.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { checkNotifier, EVENT_TYPES, sampleEvents, type Notifier, type NotifierFactory } from '../../src';
import { consoleNotifierFactory } from '../../src/notify/notifiers/console';
import { downloadNotifierFactory } from '../../src/notify/notifiers/harvest';
import { RedisLiveMessages } from '../../src/notify/notifiers/live-messages';
import { slackLiveNotifierFactory } from '../../src/notify/notifiers/slack-live';
import { LocalProvider } from '../../src/providers/local/provider';
import { Keys } from '../../src/store/keys';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis';
import { SlackApiStandIn } from '../support/slack-api';
import { emailNotifierFactory } from '../../src/notify/notifiers/email';
import { webhookNotifierFactory } from '../../src/notify/notifiers/webhook';
import { ROOT } from '../support/cli';
import { compilePlugin } from '../support/compile-plugin';
import { tempDir } from '../support/tmp';
import { WebhookReceiver } from '../support/webhook-receiver';

const receiver = new WebhookReceiver();
const slack = new SlackApiStandIn();
const redis = testRedis();
const prefix = uniquePrefix('conformance');
let url: string;
let slackApiUrl: string;

beforeAll(async () => {
  url = await receiver.start();
  slackApiUrl = await slack.start();
});
afterAll(async () => {
  await receiver.close();
  await slack.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('notifier conformance', () => {
  it.each([
    ['console', consoleNotifierFactory, { type: 'console' }],
    ['email (outbox)', emailNotifierFactory, { type: 'email', to: 'a@b.c' }],
    ['webhook cloudevents', webhookNotifierFactory, { type: 'webhook', url: 'URL' }],
    ['webhook slack', webhookNotifierFactory, { type: 'webhook', url: 'URL', format: 'slack' }],
    ['webhook teams', webhookNotifierFactory, { type: 'webhook', url: 'URL', format: 'teams' }],
    ['webhook pagerduty', webhookNotifierFactory, { type: 'webhook', url: 'URL', format: 'pagerduty', routingKey: 'R' }],
    ['download (harvest)', downloadNotifierFactory, { type: 'download' }],
    ['slack (the live message)', slackLiveNotifierFactory, { type: 'slack', token: 'xoxb-test-token', channel: '#c', slackApiUrl: 'SLACK' }],
  ] as [string, NotifierFactory, Record<string, unknown>][])('built-in %s passes, with one event of every type', async (_name, factory, options) => {
    const withUrl = Object.fromEntries(Object.entries(options).map(([k, v]) => [k, v === 'URL' ? url : v === 'SLACK' ? slackApiUrl : v]));
    const dataDir = tempDir('conformance');
    const report = await checkNotifier(factory, withUrl, {
      dataDir,
      // What the daemon gives notifiers: its providers, and Redis for the live message's ids.
      providers: new Map([['local', new LocalProvider({ root: `${dataDir}/runs` })]]),
      services: { liveMessages: (name: string) => new RedisLiveMessages(() => redis, new Keys(prefix), name) },
    });
    expect(report.failed).toEqual([]);
    for (const type of EVENT_TYPES) expect(report.passed).toContain(`it delivers (or skips) ${type}`);
    for (const variant of ['a grouped notification', 'a repeat of an open alert', 'a short "still failing"', 'links and action buttons'])
      expect(report.passed).toContain(`it delivers (or skips) ${variant}`);
  });

  it('the samples are one per event type, generated from the type list; docs/PLUGINS.md’s table names each type', async () => {
    expect(sampleEvents().map((e) => e.type)).toEqual([...EVENT_TYPES]);
    const doc = await fs.readFile(path.join(ROOT, 'docs/PLUGINS.md'), 'utf8');
    const table = doc.slice(doc.indexOf('### Event types and their fields'));
    for (const type of EVENT_TYPES) expect([type, table.includes(`\`${type}\``)]).toEqual([type, true]);
  });

  it('a broken notifier fails the suite, naming what broke', async () => {
    const broken: NotifierFactory = (): Notifier => ({
      type: 'broken',
      name: 'broken',
      async deliver(event, ctx) {
        if (event.type === 'alert.resolved') throw new Error('cannot read alert.openedSummary');
        if (event.grouped) return 'not a result' as never;
        // Never ends on an aborted signal: a stuck send.
        if (ctx.signal.aborted) await new Promise(() => undefined);
        return undefined;
      },
    });
    const report = await checkNotifier(broken, { type: 'broken' }, { dataDir: tempDir('conformance'), timeoutMs: 500 });
    expect(report.failed.map((f) => f.check).sort()).toEqual(
      [
        'an aborted delivery ends (resolves or rejects) instead of hanging',
        'it delivers (or skips) a grouped notification',
        'it delivers (or skips) alert.resolved',
      ].sort(),
    );
  });

  it('a plugin written against the exported types compiles in strict mode and passes', async () => {
    // Inside the package, so that `from 'steprun-watch'` resolves through its exports map to the built types.
    const dir = path.join(ROOT, `.plugin-check-${process.pid}`);
    await fs.mkdir(dir, { recursive: true });
    try {
      await fs.writeFile(
        path.join(dir, 'plugin.ts'),
        `import type { DeliveryContext, DeliveryResult, Notifier, NotifierFactory, WatchEvent } from 'steprun-watch';

export const seen: string[] = [];

export const create: NotifierFactory = (options) => {
  const prefix = typeof options.prefix === 'string' ? options.prefix : '';
  const notifier: Notifier = {
    type: 'memory',
    name: 'memory',
    async deliver(event: WatchEvent, ctx: DeliveryContext): Promise<DeliveryResult> {
      seen.push(prefix + event.type + ':' + ctx.deliveryId);
      return { detail: String(seen.length) };
    },
  };
  return notifier;
};
`,
      );
      await compilePlugin(path.join(dir, 'plugin.ts'));
      const plugin = require(path.join(dir, 'plugin.js')) as { create: NotifierFactory; seen: string[] };
      const report = await checkNotifier(plugin.create, { prefix: '>' }, { dataDir: dir });
      expect(report.failed).toEqual([]);
      expect(plugin.seen).toContain('>steprun.failed:e_steprun.failed-conformance');
      expect(plugin.seen).toHaveLength(EVENT_TYPES.length + 5); // every type, 4 variants, the aborted delivery
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
