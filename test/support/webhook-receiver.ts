// A real HTTP server that receives webhooks and answers with a scripted sequence of statuses.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: unknown;
  at: number;
  /** What it was answered: a refused try is received but not accepted. */
  status: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  delayMs?: number;
}

export class WebhookReceiver {
  readonly received: Received[] = [];
  /** Answers used in order; when empty, `fallback`. */
  readonly script: Answer[] = [];
  fallback: Answer = { status: 200 };
  private server?: http.Server;

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        const answer = this.script.shift() ?? this.fallback;
        const reply = () => {
          this.received.push({ headers: req.headers, body, json, at: Date.now(), status: answer.status });
          if (res.destroyed) return;
          res.writeHead(answer.status, answer.headers);
          res.end(answer.status >= 400 ? `status ${answer.status}` : 'ok');
        };
        if (answer.delayMs) setTimeout(reply, answer.delayMs);
        else reply();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}
