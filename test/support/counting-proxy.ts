// A plain HTTP proxy in front of a local service (Azurite): forwards every request unchanged and counts what went
// through it, so a test can say how many requests and response bytes a download cost.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export class CountingProxy {
  readonly requests: {
    method: string;
    path: string;
    range?: string;
    status?: number;
    bytes: number;
    userAgent?: string;
    copySource?: string;
    syncCopy?: boolean;
  }[] = [];
  private server?: http.Server;
  port = 0;

  private throttleBytesPerSecond?: number;
  private sentSince = { at: Date.now(), bytes: 0 };

  /** Response bytes per second across all requests from now on (a slow link, to stop a download halfway); 0: none. */
  throttle(bytesPerSecond: number): void {
    this.throttleBytesPerSecond = bytesPerSecond || undefined;
    this.sentSince = { at: Date.now(), bytes: 0 };
  }

  constructor(private readonly targetPort: number) {}

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const record: CountingProxy['requests'][number] = {
        method: req.method ?? 'GET',
        path: decodeURIComponent((req.url ?? '').split('?')[0]!),
        range: (req.headers['x-ms-range'] ?? req.headers.range) as string | undefined,
        bytes: 0,
        userAgent: req.headers['user-agent'],
        copySource: req.headers['x-ms-copy-source'] as string | undefined,
        syncCopy: req.headers['x-ms-requires-sync'] === 'true',
      };
      this.requests.push(record);
      const upstream = http.request({ host: '127.0.0.1', port: this.targetPort, method: req.method, path: req.url, headers: req.headers }, (up) => {
        record.status = up.statusCode;
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.on('data', (c: Buffer) => {
          record.bytes += c.length;
          const ahead = this.aheadMs(c.length);
          const flushed = res.write(c);
          if (ahead <= 5 && flushed) return;
          up.pause();
          const resume = () => setTimeout(() => up.resume(), Math.max(0, ahead));
          if (flushed) resume();
          else res.once('drain', resume);
        });
        up.on('end', () => res.end());
        up.on('error', () => res.destroy());
        // A client that went away (a killed daemon) releases the upstream too, paused or not.
        res.on('close', () => up.destroy());
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** How far the bytes sent run ahead of the throttle (ms): the upstream is held back that long. */
  private aheadMs(bytes: number): number {
    if (!this.throttleBytesPerSecond) return 0;
    this.sentSince.bytes += bytes;
    return this.sentSince.at + (this.sentSince.bytes / this.throttleBytesPerSecond) * 1000 - Date.now();
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
