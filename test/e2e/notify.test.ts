// End to end: the daemon as a process, a pipeline with a failing step, a real SMTP server and webhook receiver.
import { createHmac } from 'node:crypto';
import { promises as fs, existsSync } from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { cli, startCli } from '../support/cli';
import { dropPrefix, REDIS_URL, testRedis, uniquePrefix } from '../support/redis';
import { MailCatcher } from '../support/smtp';
import { tempDir } from '../support/tmp';
import { untilQuiet } from '../support/quiet';
import { waitFor } from '../support/wait-for';
import { WebhookReceiver } from '../support/webhook-receiver';

const SECRETS = { SMTP_PASS: 'smtp-pass-SECRET-1', HOOK_SECRET: 'hook-signing-SECRET-2', HOOK_TOKEN: 'url-token-SECRET-3' };

describe('daemon with email, webhook and download notifiers', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('notify');
  const mail = new MailCatcher();
  const hooks = new WebhookReceiver();
  const dir = tempDir('notify-e2e');
  let daemon: ReturnType<typeof startCli> | undefined;

  afterAll(async () => {
    if (daemon && daemon.exitCode === null) daemon.kill('SIGKILL');
    await mail.close();
    await hooks.close();
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  it('a pipeline with one failing step: one failure mail, one signed webhook per event, finished outputs harvested, no secret in any log', async () => {
    const smtpPort = await mail.start();
    const hookUrl = await hooks.start();
    hooks.script.push({ status: 500 }); // one retry, so failure paths are logged too
    await fs.writeFile(
      path.join(dir, 'config.yaml'),
      stringify({
        redis: { url: REDIS_URL, prefix },
        poll: { tick: '* * * * * *', minIntervalSeconds: 0.5, maxIntervalSeconds: 2 },
        delivery: { attempts: 5, backoffMs: 200 },
        api: { listen: '127.0.0.1:0' },
        notifiers: {
          console: { type: 'console' },
          mail: {
            type: 'email',
            to: 'oncall@example.com',
            smtp: { host: '127.0.0.1', port: smtpPort, secure: false, auth: { user: 'srw', pass: '${SMTP_PASS}' } },
          },
          hook: { type: 'webhook', url: `${hookUrl}/in?token=\${HOOK_TOKEN}`, secret: '${HOOK_SECRET}' },
          harvest: { type: 'download' },
        },
        routes: [
          { match: {}, notify: ['console', 'hook'] },
          { match: { type: 'steprun.failed' }, notify: ['mail'] },
          { match: { type: 'steprun.finished' }, notify: ['harvest'] },
        ],
      }),
    );
    const env = { SRW_CONFIG: path.join(dir, 'config.yaml'), SRW_DATA_DIR: path.join(dir, 'data'), ...SECRETS };
    daemon = startCli(['daemon'], { env });
    let log = '';
    daemon.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    daemon.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    await waitFor(() => log.includes('steprun-watch started'), { what: 'daemon start' });
    expect((await cli(['track', '--experiment', 'nx'], { env })).code).toBe(0);
    await fs.writeFile(
      path.join(dir, 'p.yaml'),
      [
        'experiment: nx',
        'steps:',
        '  - { name: prep, run: "mkdir -p out && echo data > out/d.txt", outputs: { data: out/d.txt } }',
        '  - { name: side, run: "mkdir -p side && echo side > side/s.txt", outputs: { side: side } }',
        '  - { name: train, needs: [prep], run: "sleep 0.5; echo boom-line-1 >&2; echo fatal: out of memory >&2; exit 3" }',
        '  - { name: eval, needs: [train], run: "echo never" }',
      ].join('\n'),
    );
    const run = JSON.parse((await cli(['run', path.join(dir, 'p.yaml'), '--json'], { env })).stdout.trim().split('\n').at(-1)!);
    expect(run.status).toBe('Failed');

    await waitFor(
      async () => {
        const events = await redis.xlen(`{${prefix}}:events`);
        const delivered = new Set(hooks.received.filter((r) => r.json).map((r) => r.headers['webhook-id'])).size;
        return events >= 5 && delivered === events && mail.mails.length >= 1;
      },
      { timeoutMs: 40000, what: 'every webhook and the mail' },
    );
    await untilQuiet(redis, prefix); // a duplicate would have come by now

    // One failure mail, with the error and the stderr tail.
    expect(mail.mails).toHaveLength(1);
    expect(mail.mails[0]!.subject).toBe(`[Failed] train · pipeline ${run.pipelineRunId} · experiment nx`);
    expect(mail.mails[0]!.text).toContain('fatal: out of memory');
    expect(mail.mails[0]!.text).toContain('ExitCode3: exited with code 3');

    // One webhook per event (one extra try for the 500), each signed with the secret.
    const events = (await redis.xrange(`{${prefix}}:events`, '-', '+')).map(([, f]) => JSON.parse(f[1]!) as { id: string; type: string });
    const byId = new Map<string, number>();
    for (const r of hooks.received) byId.set(String(r.headers['webhook-id']), (byId.get(String(r.headers['webhook-id'])) ?? 0) + 1);
    expect(hooks.received).toHaveLength(events.length + 1);
    expect([...byId.values()].sort()).toEqual([...Array(events.length - 1).fill(1), 2]);
    for (const r of hooks.received) {
      const sig = createHmac('sha256', SECRETS.HOOK_SECRET).update(`${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.${r.body}`).digest('base64');
      expect(r.headers['webhook-signature']).toBe(`v1,${sig}`);
    }
    // Each step's end and the pipeline's; the run store's change feed may also show steps on their way (NotStarted, Running).
    const ends = events.map((e) => e.type).filter((t) => /^(pipelinerun\.|steprun\.(finished|failed|canceled)$)/.test(t));
    expect(ends.sort()).toEqual(['pipelinerun.failed', 'steprun.canceled', 'steprun.failed', 'steprun.finished', 'steprun.finished']);
    expect(events.filter((e) => !ends.includes(e.type)).every((e) => /^steprun\.(notstarted|queued|running)$/.test(e.type))).toBe(true);

    // The finished steps' outputs are harvested with manifests; the failed and canceled ones are not.
    const harvest = path.join(dir, 'data/harvest/nx', run.pipelineRunId);
    await waitFor(() => existsSync(path.join(harvest, 'prep/data/manifest.json')) && existsSync(path.join(harvest, 'side/side/manifest.json')), {
      what: 'harvest',
    });
    expect((await fs.readdir(harvest)).sort()).toEqual(['prep', 'side']);
    expect(await fs.readFile(path.join(harvest, 'side/side/s.txt'), 'utf8')).toBe('side\n');

    // No secret anywhere an operator looks: the daemon's log and the deliveries listing.
    const listing = (await cli(['deliveries', '--json', '--limit', '100'], { env })).stdout;
    expect(JSON.parse(listing).some((d: { attempts: number }) => d.attempts === 2)).toBe(true); // the retried delivery is listed ...
    for (const secret of Object.values(SECRETS)) {
      expect(log).not.toContain(secret);
      expect(listing).not.toContain(secret);
    }
    expect(log).toMatch(/delivery failed: will retry.*HTTP 500|HTTP 500.*delivery failed: will retry/); // ... and its failure logged, masked
    expect(log).toContain('token=***');
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon!.once('close', r));
  });
});
