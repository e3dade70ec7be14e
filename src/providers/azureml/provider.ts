// The azureml provider: Azure Machine Learning pipeline step runs over the run-history REST API (docs/PROVIDERS.md cites each endpoint).
import { OutputNotFoundError, ProviderResponseError } from '../../model/errors';
import { isTerminal } from '../../model/status';
import type {
  ChangedRun,
  BlobTarget,
  CopyResult,
  DownloadOptions,
  DownloadResult,
  ExperimentRef,
  ListPipelineRunsOptions,
  LogKind,
  OutputRef,
  PipelineRunRef,
  PipelineRunSnapshot,
  ReadLogOptions,
  RequestBudget,
  RunLink,
  RunLocation,
  RunProvider,
  StepRunRef,
  StepRunListing,
  StepRunSnapshot,
} from '../../model/provider';
import { tokenSource, type TokenSource } from './auth';
import { Datastores } from './datastore';
import { AzureHttp } from './http';
import type { AzureMlOptions } from './options';
import { pageSchema, parseRun, pickLog, toPipelineSnapshot, toStepSnapshot, type AzureRun } from './runs';

export class AzureMlProvider implements RunProvider {
  readonly kind = 'azureml';
  readonly metered: boolean;
  private readonly http: AzureHttp;
  private readonly history: string;
  private readonly datastores: Datastores;
  private readonly tokens: TokenSource;

  constructor(
    private readonly o: AzureMlOptions,
    budget?: RequestBudget,
  ) {
    this.metered = budget !== undefined;
    this.tokens = tokenSource(o.credential);
    this.http = new AzureHttp({ tokens: this.tokens, budget, timeoutMs: o.timeoutMs });
    const api = (o.endpoint ?? `https://${o.region}.api.azureml.ms`).replace(/\/+$/, '');
    const group = `subscriptions/${enc(o.subscriptionId)}/resourceGroups/${enc(o.resourceGroup)}`;
    const ws = `${group}/providers/Microsoft.MachineLearningServices/workspaces/${enc(o.workspace)}`;
    this.history = `${api}/history/v1.0/${ws}`;
    this.datastores = new Datastores(this.http, o, { data: `${api}/data/v1.0/${ws}`, arm: `${o.armEndpoint.replace(/\/+$/, '')}/${ws}` }, this.tokens);
  }

  /**
   * The pull side of Event Grid when `changeQueue` is configured: run events read from an Azure Storage Queue
   * (queue-feed.ts). Without it there is no feed here (Event Grid may push to the daemon's POST /hooks/eventgrid).
   */
  async watchChanges(onChange: (run: ChangedRun) => Promise<void>, onError: (err: Error) => void): Promise<() => Promise<void>> {
    if (!this.o.changeQueue) return async () => undefined;
    const { watchQueue } = await import('./queue-feed');
    return watchQueue(this.o.changeQueue, this.tokens, onChange, onError);
  }

  /** GET H/runs/{runId} (run-history.json: Runs_GetById). */
  private async run(runId: string): Promise<AzureRun> {
    return parseRun(await this.http.json({ url: `${this.history}/runs/${enc(runId)}`, scope: this.o.scope, runId }), `run ${runId}`);
  }

  /** Follows continuationToken and nextLink to the end (docs/PROVIDERS.md, paging). */
  private async pages(first: { url: string; body?: Record<string, unknown> }, runId?: string): Promise<AzureRun[]> {
    const runs: AzureRun[] = [];
    let url: string | undefined = first.url;
    let body = first.body;
    for (let page = 0; url; page++) {
      if (page > 10000) throw new ProviderResponseError(`${first.url}: more than 10000 pages, giving up`);
      const raw = await this.http.json<unknown>({ method: body ? 'POST' : 'GET', url, body, scope: this.o.scope, runId });
      const parsed = pageSchema.safeParse(raw);
      if (!parsed.success) throw new ProviderResponseError(`${new URL(first.url).pathname}: a page without a value array`);
      runs.push(...parsed.data.value.map((v) => parseRun(v, `a run listed by ${new URL(first.url).pathname}`)));
      const { continuationToken, nextLink } = parsed.data;
      if (nextLink) url = nextLink;
      else if (continuationToken && body) body = { ...body, continuationToken };
      else if (continuationToken) url = withQuery(first.url, '$continuationtoken', continuationToken);
      else url = undefined;
    }
    return runs;
  }

  async getStepRun(ref: StepRunRef): Promise<StepRunSnapshot> {
    return toStepSnapshot(await this.run(ref.stepRunId), ref);
  }

  async getPipelineRun(ref: PipelineRunRef): Promise<PipelineRunSnapshot> {
    return toPipelineSnapshot(await this.run(ref.pipelineRunId), ref);
  }

  /** GET H/runs/{runId}/children (Runs_GetChildById): every step of a pipeline run in one paged call. */
  async listStepRuns(ref: PipelineRunRef): Promise<StepRunListing> {
    const url = withQuery(`${this.history}/runs/${enc(ref.pipelineRunId)}/children`, '$top', String(this.o.pageSize));
    const children = await this.pages({ url }, ref.pipelineRunId);
    return { steps: children.map((r) => toStepSnapshot(r, { experiment: ref.experiment, pipelineRunId: ref.pipelineRunId })), unreadable: [] };
  }

  /** POST H/experiments/{name}/runs:query (Runs_QueryByExperimentName): top-level runs created since a time. */
  async listPipelineRuns(exp: ExperimentRef, opts: ListPipelineRunsOptions = {}): Promise<PipelineRunSnapshot[]> {
    const since = opts.since?.toISOString();
    // Runs still active may be of any age: `active` lists the experiment whole (once, when a track starts);
    // otherwise only what was created since. The filter grammar beyond `CreatedUtc ge` is not documented.
    const filterSince = since && !opts.active ? since : undefined;
    const body = { filter: filterSince ? `CreatedUtc ge ${filterSince}` : undefined, top: this.o.pageSize };
    const runs = await this.pages({ url: `${this.history}/experiments/${enc(exp.experiment)}/runs:query`, body });
    // Keep only what the contract promises, whatever the service did with the filter.
    return runs
      .filter((r) => !r.parentRunId)
      .map((r) => toPipelineSnapshot(r, exp))
      .filter((p) => !since || !p.createdTime || p.createdTime >= since || (opts.active && !isTerminal(p.status)))
      .sort((a, b) => (a.createdTime ?? '').localeCompare(b.createdTime ?? ''));
  }

  /**
   * Azure ML studio's run page (the format the studio itself links to):
   * `https://ml.azure.com/runs/<runId>?wsid=/subscriptions/<sub>/resourcegroups/<rg>/workspaces/<ws>&tid=<tenant>`.
   */
  linksFor(ref: { pipelineRunId: string; stepRunId?: string }): RunLink[] {
    const o = this.o;
    const tenant = o.tenantId ?? (o.credential && 'tenantId' in o.credential ? o.credential.tenantId : undefined);
    const wsid = `/subscriptions/${o.subscriptionId}/resourcegroups/${o.resourceGroup}/workspaces/${o.workspace}`;
    const url = (runId: string) => `${o.studioUrl.replace(/\/$/, '')}/runs/${enc(runId)}?wsid=${wsid}${tenant ? `&tid=${tenant}` : ''}`;
    const links = [{ label: 'Pipeline run in Azure ML studio', url: url(ref.pipelineRunId) }];
    if (ref.stepRunId) links.unshift({ label: 'Step run in Azure ML studio', url: url(ref.stepRunId) });
    return links;
  }

  async locateRun(runId: string): Promise<RunLocation> {
    const run = await this.run(runId);
    const experiment = run.experimentId ?? '';
    return run.parentRunId
      ? { kind: 'step', experiment, pipelineRunId: run.parentRunId, stepRunId: runId }
      : { kind: 'pipeline', experiment, pipelineRunId: runId };
  }

  /** GET H/runs/{runId}/details -> logFiles (SAS URLs); the tail with a Range suffix request, 416 = empty (docs/PROVIDERS.md, logs). */
  async readLog(ref: StepRunRef, which: LogKind, opts: ReadLogOptions = {}): Promise<string> {
    const details = await this.http.json<{ logFiles?: Record<string, string> | null }>({
      url: `${this.history}/runs/${enc(ref.stepRunId)}/details`,
      scope: this.o.scope,
      runId: ref.stepRunId,
    });
    const url = pickLog(details.logFiles ?? {}, which);
    if (!url) return '';
    const headers = opts.tailBytes ? { range: `bytes=-${opts.tailBytes}`, 'x-ms-version': '2021-08-06' } : undefined;
    const res = await this.http.send({ url, headers, accept: [416] });
    if (res.status === 416) return '';
    let text = res.text;
    if (res.status === 206 && opts.tailBytes) {
      const cut = text.indexOf('\n');
      if (cut >= 0 && cut < text.length - 1) text = text.slice(cut + 1);
    }
    return text;
  }

  /** The step run's `outputs` (TypedAssetReference), resolved to datastore + path. */
  async listOutputs(ref: StepRunRef): Promise<OutputRef[]> {
    const run = await this.run(ref.stepRunId);
    const entries = Object.entries(run.outputs ?? {}).filter(([, v]) => v?.assetId) as [string, { assetId: string }][];
    const located = await this.datastores.resolve(entries.map(([, v]) => v.assetId));
    const snapshot = toStepSnapshot(run, ref);
    return entries
      .map(([name, v]) => ({
        stepRunId: run.runId,
        pipelineRunId: snapshot.pipelineRunId,
        experiment: snapshot.experiment,
        name,
        datastore: located.get(v.assetId)!.datastore,
        pathOnDatastore: located.get(v.assetId)!.path,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async download(output: OutputRef, localPath: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
    if (!output.datastore) throw new OutputNotFoundError(output.stepRunId, output.name);
    return this.datastores.download(output.datastore, output.pathOnDatastore, localPath, opts);
  }

  /** A server-side copy of the output's blobs (harvest to a blob container): no byte passes through the daemon. */
  async copyToBlobs(output: OutputRef, target: BlobTarget, opts: { signal?: AbortSignal } = {}): Promise<CopyResult | undefined> {
    if (!output.datastore) throw new OutputNotFoundError(output.stepRunId, output.name);
    return this.datastores.copy(output.datastore, output.pathOnDatastore, target, opts);
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function withQuery(url: string, key: string, value: string): string {
  const u = new URL(url);
  u.searchParams.set(key, value);
  return u.toString();
}
