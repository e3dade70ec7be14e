// A local stand-in of Slack's Web API (chat.postMessage, chat.update) speaking its wire format: form or JSON bodies, `{ok, ts, channel}`.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
}

export class SlackApiStandIn {
  readonly calls: SlackCall[] = [];
  /** Each message as Slack holds it: the last post or update that Slack applied (answered), by ts. */
  readonly messages = new Map<string, Record<string, unknown>>();
  /** chat.update calls received and not yet answered. */
  inFlight = 0;
  /** Answer a chat.update this much later (a slow Slack), by its arguments. */
  updateDelayMs: (args: Record<string, unknown>) => number = () => 0;
  private server?: http.Server;
  private next = 1;

  /** Starts; returns the `slackApiUrl` to give the client (ends with `/api/`). */
  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0]!;
        const args = (req.headers['content-type'] ?? '').includes('json') ? (JSON.parse(body) as Record<string, unknown>) : parseForm(body);
        if (req.headers.authorization !== 'Bearer xoxb-test-token') return reply(res, { ok: false, error: 'invalid_auth' });
        this.calls.push({ method, args });
        if (method === 'chat.postMessage') {
          const ts = `1700000000.${String(this.next++).padStart(6, '0')}`;
          if (!args.thread_ts) this.messages.set(ts, args);
          return reply(res, { ok: true, channel: 'C0123', ts });
        }
        if (method === 'chat.update') {
          this.inFlight++;
          return void setTimeout(() => {
            this.inFlight--;
            this.messages.set(String(args.ts), args);
            reply(res, { ok: true, channel: args.channel, ts: args.ts });
          }, this.updateDelayMs(args));
        }
        reply(res, { ok: false, error: 'unknown_method' });
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/`;
  }

  /** Top-level posts (not thread replies). */
  posts(): SlackCall[] {
    return this.calls.filter((c) => c.method === 'chat.postMessage' && !c.args.thread_ts);
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}

function parseForm(body: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    try {
      out[k] = k === 'blocks' || k === 'attachments' ? JSON.parse(v) : v;
    } catch {
      out[k] = v;
    }
  }
  return out;
}

function reply(res: http.ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
