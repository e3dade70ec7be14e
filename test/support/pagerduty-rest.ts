// A stand-in for PagerDuty's REST API, speaking its documented shapes for GET /incidents: `Authorization: Token
// token=…`, `service_ids[]` and `statuses[]` filters, classic pagination (`limit`, `offset`, `more`) with pages of
// at most `pageSize`, `incident_key`; and a 429 with Retry-After when told to. What it holds open is given by the test.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandInIncident {
  key: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  serviceId?: string;
}

export class PagerDutyRestStandIn {
  /** What PagerDuty holds, asked at each request. */
  incidents: () => StandInIncident[] = () => [];
  /** Requests to answer with 429 (Retry-After: 1) before answering. */
  throttleNext = 0;
  readonly requests: { url: string; auth?: string; status: number }[] = [];
  private server?: http.Server;

  constructor(
    readonly token: string,
    readonly serviceId: string,
    readonly pageSize = 2,
  ) {}

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        this.requests.push({ url: req.url ?? '', auth: req.headers.authorization, status });
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      };
      if (req.headers.authorization !== `Token token=${this.token}`) return answer(401, { error: { message: 'Unauthorized', code: 2006 } });
      if (url.pathname !== '/incidents') return answer(404, { error: { message: 'Not Found' } });
      if (this.throttleNext > 0) {
        this.throttleNext--;
        return answer(429, { error: { message: 'Rate Limit Exceeded', code: 2020 } }, { 'retry-after': '1' });
      }
      const services = url.searchParams.getAll('service_ids[]');
      const statuses = url.searchParams.getAll('statuses[]');
      const limit = Math.min(this.pageSize, Number(url.searchParams.get('limit') ?? 25));
      const offset = Number(url.searchParams.get('offset') ?? 0);
      const all = this.incidents()
        .filter((i) => (services.length === 0 || services.includes(i.serviceId ?? this.serviceId)) && (statuses.length === 0 || statuses.includes(i.status)))
        .map((i, n) => ({ id: `Q${n}`, type: 'incident', incident_key: i.key, status: i.status, service: { id: i.serviceId ?? this.serviceId } }));
      const page = all.slice(offset, offset + limit);
      answer(200, { incidents: page, limit, offset, total: null, more: offset + page.length < all.length });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((r) => this.server?.close(r));
  }
}
