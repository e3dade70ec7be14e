// The email notifier against a real SMTP server, and its .eml outbox.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { simpleParser } from 'mailparser';
import { freePort } from '../../support/redis';
import { MailCatcher } from '../../support/smtp';
import { failedStepEvent, pipelineFailedEvent } from '../../support/events';
import { buildNotifier, deliveryContext } from '../../support/notifiers';
import { tempDir } from '../../support/tmp';

describe('email notifier', () => {
  const catcher = new MailCatcher();
  let port: number;

  beforeAll(async () => {
    port = await catcher.start();
  });
  afterAll(() => catcher.close());

  it('a failed step mail arrives with the error, the stderr tail, times and how to get the logs', async () => {
    const mail = await buildNotifier({ type: 'email', to: 'oncall@example.com', from: 'srw@example.com', smtp: { host: '127.0.0.1', port, secure: false } });
    const result = await mail.deliver(failedStepEvent(), deliveryContext('e1-mail'));
    expect(result?.detail).toMatch(/^sent/);
    expect(catcher.mails).toHaveLength(1);
    const m = catcher.mails[0]!;
    expect(m.subject).toBe('[Failed] train · pipeline 1234 · experiment churn');
    expect(m.messageId).toBe('<e1-mail@steprun-watch>');
    expect(m.text).toContain('ExitCode3: exited with code 3');
    expect(m.text).toContain('RuntimeError: CUDA error: out of memory');
    expect(m.text).toMatch(/Started +2026-11-25T02:00:00.000Z/);
    expect(m.text).toMatch(/Duration +3m 5s/);
    expect(m.text).toContain('steprun-watch logs s_train1 --stderr');
    expect(m.html).toContain('RuntimeError: CUDA error: out of memory');
    expect(m.html).toContain('<th align="left" valign="top">Error</th><td>ExitCode3: exited with code 3</td>');
    await mail.close?.();
  });

  it('a pipeline summary mail lists every step with its status and duration, and reuse', async () => {
    catcher.mails.length = 0;
    const mail = await buildNotifier({ type: 'email', to: ['a@example.com', 'b@example.com'], smtp: { url: `smtp://127.0.0.1:${port}` }, subject: '[prod] ' });
    await mail.deliver(pipelineFailedEvent(), deliveryContext('e2-mail'));
    const m = catcher.mails[0]!;
    expect(m.subject).toBe('[prod] [Failed] pipeline 1234 · experiment churn');
    expect(m.text).toMatch(/prepare\s+Finished\s+3m 5s\s+reused/);
    expect(m.text).toMatch(/train\s+Failed\s+3m 5s\s+exited with code 3/);
    expect((m.to as { value: unknown[] }).value).toHaveLength(2);
    await mail.close?.();
  });

  it('a refused message (SMTP 550) fails without retry; a server that does not answer is retried', async () => {
    catcher.rejectWith = 550;
    const mail = await buildNotifier({ type: 'email', to: 'x@example.com', smtp: { host: '127.0.0.1', port, secure: false } });
    await expect(mail.deliver(failedStepEvent(), deliveryContext())).rejects.toMatchObject({ code: 'SRW_DELIVERY_FAILED', retryable: false });
    catcher.rejectWith = undefined;
    const down = await buildNotifier({ type: 'email', to: 'x@example.com', smtp: { host: '127.0.0.1', port: await freePort(), secure: false } });
    await expect(down.deliver(failedStepEvent(), deliveryContext())).rejects.toMatchObject({ code: 'SRW_DELIVERY_FAILED', retryable: true });
  });

  it('with no SMTP, writes a proper .eml message into the outbox, once per delivery id', async () => {
    const dataDir = tempDir('outbox');
    const mail = await buildNotifier({ type: 'email', to: 'you@localhost' }, { dataDir });
    await mail.deliver(failedStepEvent(), deliveryContext('e3-mail'));
    await mail.deliver(failedStepEvent(), deliveryContext('e3-mail')); // a retry rewrites the same file
    const files = await fs.readdir(path.join(dataDir, 'outbox'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^2026-11-25T02-03-06-000Z_e3-mail\.eml$/);
    const raw = await fs.readFile(path.join(dataDir, 'outbox', files[0]!), 'utf8');
    expect(raw).toMatch(/^MIME-Version: 1\.0$/m);
    expect(raw).toMatch(/^Content-Type: multipart\/alternative;/m);
    const parsed = await simpleParser(raw);
    expect(parsed.subject).toBe('[Failed] train · pipeline 1234 · experiment churn');
    expect(parsed.from?.text).toBe('steprun-watch@localhost');
    expect(parsed.to && 'text' in parsed.to ? parsed.to.text : '').toBe('you@localhost');
    expect(parsed.text).toContain('CUDA error');
    expect(parsed.html).toContain('CUDA error');
    expect(parsed.messageId).toBe('<e3-mail@steprun-watch>');
  });

  it('names the bad option', async () => {
    await expect(buildNotifier({ type: 'email', to: 'not-an-address' }, { name: 'mail' })).rejects.toMatchObject({
      code: 'SRW_CONFIG_INVALID',
      message: expect.stringContaining('notifiers.mail.to'),
    });
  });
});
