// Issue 15: the notifier conformance suite — every built-in passes it, and so does a plugin typed against the package's exports.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { checkNotifier, type NotifierFactory } from '../../src';
import { consoleNotifierFactory } from '../../src/notify/console';
import { emailNotifierFactory } from '../../src/notify/email';
import { webhookNotifierFactory } from '../../src/notify/webhook';
import { ROOT } from '../support/cli';
import { tempDir } from '../support/tmp';
import { WebhookReceiver } from '../support/webhook-receiver';

const run = promisify(execFile);
const receiver = new WebhookReceiver();
let url: string;

beforeAll(async () => {
  url = await receiver.start();
});
afterAll(async () => receiver.close());

describe('notifier conformance', () => {
  it.each([
    ['console', consoleNotifierFactory, { type: 'console' }],
    ['email (outbox)', emailNotifierFactory, { type: 'email', to: 'a@b.c' }],
    ['webhook cloudevents', webhookNotifierFactory, { type: 'webhook', url: 'URL' }],
    ['webhook slack', webhookNotifierFactory, { type: 'webhook', url: 'URL', format: 'slack' }],
    ['webhook teams', webhookNotifierFactory, { type: 'webhook', url: 'URL', format: 'teams' }],
    ['webhook pagerduty', webhookNotifierFactory, { type: 'webhook', url: 'URL', format: 'pagerduty', routingKey: 'R' }],
  ] as [string, NotifierFactory, Record<string, unknown>][])('built-in %s passes', async (_name, factory, options) => {
    const withUrl = Object.fromEntries(Object.entries(options).map(([k, v]) => [k, v === 'URL' ? url : v]));
    const report = await checkNotifier(factory, withUrl, { dataDir: tempDir('conformance') });
    expect(report.failed).toEqual([]);
    expect(report.passed.length).toBeGreaterThanOrEqual(7);
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
      const tsc = require.resolve('typescript/bin/tsc');
      await run(
        process.execPath,
        [
          tsc,
          '--strict',
          '--target',
          'es2022',
          '--module',
          'node16',
          '--moduleResolution',
          'node16',
          '--skipLibCheck',
          '--rootDir',
          dir,
          '--outDir',
          dir,
          path.join(dir, 'plugin.ts'),
        ],
        {
          cwd: ROOT,
        },
      );
      const plugin = require(path.join(dir, 'plugin.js')) as { create: NotifierFactory; seen: string[] };
      const report = await checkNotifier(plugin.create, { prefix: '>' }, { dataDir: dir });
      expect(report.failed).toEqual([]);
      expect(plugin.seen[0]).toBe('>steprun.failed:e_failed-conformance');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
