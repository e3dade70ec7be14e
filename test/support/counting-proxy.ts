// A plain HTTP proxy in front of a local service (Azurite): forwards every request unchanged and counts what went
// through it, so a test can say how many requests and response bytes a download cost.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export class CountingProxy {
  readonly requests: { method: string; path: string; range?: string; status?: number; bytes: number }[] = [];
  private server?: http.Server;
  port = 0;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const record: CountingProxy['requests'][number] = {
        method: req.method ?? 'GET',
        path: decodeURIComponent((req.url ?? '').split('?')[0]!),
        range: (req.headers['x-ms-range'] ?? req.headers.range) as string | undefined,
        bytes: 0,
      };
      this.requests.push(record);
      const upstream = http.request({ host: '127.0.0.1', port: this.targetPort, method: req.method, path: req.url, headers: req.headers }, (up) => {
        record.status = up.statusCode;
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.on('data', (c: Buffer) => (record.bytes += c.length));
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Response bytes of the GETs whose path ends with `suffix`. */
  bytesOf(suffix: string): number {
    return this.requests.filter((r) => r.method === 'GET' && r.path.endsWith(suffix)).reduce((n, r) => n + r.bytes, 0);
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}
