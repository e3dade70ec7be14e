// A local HTTP server that answers Azure ML's documented run-history, data and ARM paths with documented JSON bodies.
// It is the only fake in the tests: Azure cannot run here. It speaks the wire format (HTTP + JSON), counts requests, and injects faults.
import { existsSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

const WORKSPACE_URI = 'azureml://subscriptions/sub-1/resourcegroups/rg-1/workspaces/ws-1';

export const WS = 'subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.MachineLearningServices/workspaces/ws-1';
export const TOKEN = 'test-bearer-token';

/** A recorded run body of test/fixtures/azureml (also from dist/, where the benchmarks run this server). */
export function fixture(name: string): Record<string, unknown> {
  const dir = [path.join(__dirname, '../fixtures/azureml'), path.join(__dirname, '../../../test/fixtures/azureml')].find((d) => existsSync(d))!;
  const body = JSON.parse(readFileSync(path.join(dir, `${name}.json`), 'utf8')) as Record<string, unknown>;
  delete body._source;
  return body;
}

export interface Fault {
  /** Applies to requests whose path matches. */
  match: RegExp;
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** How many requests it answers (default 1). */
  times?: number;
  /** Answer this late (to test timeouts). */
  delayMs?: number;
}

export class AzureMlServer {
  readonly runs = new Map<string, Record<string, unknown>>();
  readonly logs = new Map<string, string>();
  readonly faults: Fault[] = [];
  readonly requests: { method: string; path: string; query: URLSearchParams; auth?: string; range?: string; at: number }[] = [];
  pageSize = 2;
  storage = { account: 'devstoreaccount1', key: '', container: 'azureml-blobstore', endpoint: '', protocol: 'http' };
  /** Datastores other than the default blob one, by name: their ARM properties, and what listSecrets answers (none: 400). */
  readonly datastores = new Map<string, { properties: Record<string, unknown>; secrets?: Record<string, unknown> }>();
  /** The bearer token this workspace accepts (a test may use a JWT that storage accepts too). */
  token = TOKEN;
  private server?: http.Server;
  url = '';

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => this.answer(req, res, body));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  count(pattern: RegExp): number {
    return this.requests.filter((r) => pattern.test(r.path)).length;
  }

  addRun(run: Record<string, unknown>): void {
    this.runs.set(String(run.runId), run);
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', this.url);
    const p = decodeURIComponent(url.pathname);
    this.requests.push({
      method: req.method ?? 'GET',
      path: p,
      query: url.searchParams,
      auth: req.headers.authorization,
      range: req.headers.range,
      at: Date.now(),
    });
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
      res.writeHead(status, { 'content-type': typeof payload === 'string' ? 'text/plain' : 'application/json', ...headers });
      res.end(text);
    };
    const fault = this.faults.find((f) => f.match.test(p) && (f.times ?? 1) > 0);
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      const reply = () => {
        if (res.destroyed) return;
        res.writeHead(fault.status, { 'content-type': fault.body?.startsWith('<') ? 'text/html' : 'application/json', ...fault.headers });
        res.end(fault.body ?? JSON.stringify({ error: { code: 'Injected', message: `injected ${fault.status}` } }));
      };
      if (fault.delayMs) setTimeout(reply, fault.delayMs);
      else reply();
      return;
    }
    if (p.startsWith('/blob/')) return this.blob(p, req.headers.range, send);
    if (req.headers.authorization !== `Bearer ${this.token}`)
      return send(401, { error: { code: 'InvalidAuthenticationToken', message: 'The access token is invalid.' } });
    const notFound = (id: string) => send(404, { error: { code: 'UserError', message: `Run ${id} was not found` } });

    let m: RegExpExecArray | null;
    if ((m = new RegExp(`^/history/v1.0/${WS}/runs/([^/]+)/children$`).exec(p))) {
      if (!this.runs.has(m[1]!)) return notFound(m[1]!);
      const children = [...this.runs.values()].filter((r) => r.parentRunId === m![1]);
      return send(
        200,
        this.page(children, Number(url.searchParams.get('$continuationtoken') ?? 0), (next) => ({ continuationToken: String(next) })),
      );
    }
    if ((m = new RegExp(`^/history/v1.0/${WS}/runs/([^/]+)/details$`).exec(p))) {
      const run = this.runs.get(m[1]!);
      if (!run) return notFound(m[1]!);
      const logFiles = Object.fromEntries(
        [...this.logs.keys()]
          .filter((k) => k.startsWith(`${m![1]}/`))
          .map((k) => [k.slice(m![1]!.length + 1), `${this.url}/blob/logs/${k}?sv=2021-08-06&sr=b&sig=SASSECRET`]),
      );
      return send(200, { runId: run.runId, status: run.status, startTimeUtc: run.startTimeUtc, endTimeUtc: run.endTimeUtc, error: run.error, logFiles });
    }
    if ((m = new RegExp(`^/history/v1.0/${WS}/runs/([^/]+)$`).exec(p))) {
      const run = this.runs.get(m[1]!);
      return run ? send(200, run) : notFound(m[1]!);
    }
    if ((m = new RegExp(`^/history/v1.0/${WS}/experiments/([^/]+)/runs:query$`).exec(p))) {
      const query = JSON.parse(body || '{}') as { continuationToken?: string };
      const top = [...this.runs.values()].filter((r) => !r.parentRunId);
      return send(
        200,
        this.page(top, Number(query.continuationToken ?? 0), (next) => ({ continuationToken: String(next) })),
      );
    }
    if (p === `/data/v1.0/${WS}/dataversion/batchGetResolvedUris`) {
      const values = (JSON.parse(body) as { values: string[] }).values;
      const name = (id: string) => /data\/azureml_(.+)_output_data_(.+)\/versions/.exec(id);
      return send(200, {
        values: Object.fromEntries(
          values.map((id) => [
            id,
            {
              uri: `${WORKSPACE_URI}/datastores/workspaceblobstore/paths/azureml/${name(id)?.[1]}/${name(id)?.[2]}/`,
              type: 'UriFolder',
            },
          ]),
        ),
      });
    }
    const named = new RegExp(`^/${WS}/datastores/([^/]+)(/listSecrets)?$`).exec(p);
    const other = named ? this.datastores.get(named[1]!) : undefined;
    if (other && named![2])
      return other.secrets ? send(200, other.secrets) : send(400, { error: { code: 'UserError', message: 'No secrets for credentials of type None' } });
    if (other) return send(200, { id: p, name: named![1], properties: other.properties });
    if ((m = new RegExp(`^/${WS}/datastores/([^/]+)$`).exec(p)) && url.searchParams.get('api-version')) {
      const s = this.storage;
      return send(200, {
        id: p,
        name: m[1],
        properties: {
          datastoreType: 'AzureBlob',
          accountName: s.account,
          containerName: s.container,
          endpoint: s.endpoint,
          protocol: s.protocol,
          credentials: { credentialsType: 'AccountKey' },
        },
      });
    }
    if ((m = new RegExp(`^/${WS}/datastores/([^/]+)/listSecrets$`).exec(p))) return send(200, { secretsType: 'AccountKey', key: this.storage.key });
    send(404, { error: { code: 'NotFound', message: `no route ${p}` } });
  }

  /** A page of `pageSize` items with a continuation token while more remain. */
  private page(items: unknown[], from: number, token: (next: number) => Record<string, string>): Record<string, unknown> {
    const value = items.slice(from, from + this.pageSize);
    return { value, ...(from + this.pageSize < items.length ? token(from + this.pageSize) : {}) };
  }

  /** SAS-signed append blobs of logs: Range suffix requests give 206, an empty blob 416 (AZUREML.md 4.2). */
  private blob(p: string, range: string | undefined, send: (status: number, payload: unknown, headers?: Record<string, string>) => void): void {
    const text = this.logs.get(p.replace(/^\/blob\/logs\//, ''));
    if (text === undefined) return send(404, '<?xml version="1.0"?><Error><Code>BlobNotFound</Code></Error>');
    const suffix = range ? /^bytes=-(\d+)$/.exec(range) : null;
    if (range && text.length === 0) return send(416, '<?xml version="1.0"?><Error><Code>InvalidRange</Code></Error>');
    if (suffix) {
      const n = Number(suffix[1]);
      const start = Math.max(0, text.length - n);
      return send(206, text.slice(start), { 'content-range': `bytes ${start}-${text.length - 1}/${text.length}` });
    }
    send(200, text);
  }
}

/** Provider options pointing an azureml provider at this server (and, for blobs, at Azurite). */
export function azureOptions(server: AzureMlServer, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'azureml',
    subscriptionId: 'sub-1',
    resourceGroup: 'rg-1',
    workspace: 'ws-1',
    endpoint: server.url,
    armEndpoint: server.url,
    credential: { token: TOKEN },
    ...extra,
  };
}
