// Webhook receivers in a process of their own, as PagerDuty and Slack are remote: in a bench their HTTP parsing must
// not share the daemon's thread (in the storm it was a tenth of the busy time of the delivery wave). The child starts
// one receiver per name given, tells the parent their URLs, then what each accepted (time, status, body), every 100 ms.
// The parent side, `ReceiversProcess`, gives the same `received` lists as in-process receivers.
import { fork, type ChildProcess } from 'node:child_process';
import { WebhookReceiver, type Received } from '../test/support/webhook-receiver';

type ChildMessage = { urls: string[] } | { index: number; received: { at: number; status: number; body: string }[] };

export class ReceiversProcess {
  readonly received: Received[][];
  private constructor(
    private readonly child: ChildProcess,
    readonly urls: string[],
  ) {
    this.received = urls.map(() => []);
    child.on('message', (m: ChildMessage) => {
      if (!('index' in m)) return;
      for (const r of m.received) this.received[m.index]!.push({ headers: {}, body: r.body, json: parsed(r.body), at: r.at, status: r.status });
    });
  }

  /** Starts `count` receivers in a child process; resolves with their URLs once they listen. */
  static start(count: number): Promise<ReceiversProcess> {
    const child = fork(__filename, ['--receivers', String(count)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('message', (m: ChildMessage) => ('urls' in m ? resolve(new ReceiversProcess(child, m.urls)) : reject(new Error('receivers: no URLs'))));
    });
  }

  async close(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.disconnect();
    await exited;
  }
}

function parsed(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

async function child(count: number): Promise<void> {
  const receivers = Array.from({ length: count }, () => new WebhookReceiver());
  const urls = await Promise.all(receivers.map((r) => r.start()));
  const told = receivers.map(() => 0);
  process.send!({ urls });
  const timer = setInterval(() => {
    receivers.forEach((r, index) => {
      const fresh = r.received.slice(told[index]);
      told[index] = r.received.length;
      if (fresh.length) process.send!({ index, received: fresh.map(({ at, status, body }) => ({ at, status, body })) });
    });
  }, 100);
  process.on('disconnect', () => {
    clearInterval(timer);
    void Promise.all(receivers.map((r) => r.close())).then(() => process.exit(0));
  });
}

const i = process.argv.indexOf('--receivers');
if (i > 0) void child(Number(process.argv[i + 1]));
