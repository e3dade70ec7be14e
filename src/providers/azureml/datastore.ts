// Step outputs on Azure: asset id -> datastore + path (resolver), datastore -> storage container (ARM), then the blobs (@azure/storage-blob).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ContainerClient } from '@azure/storage-blob';
import { z } from 'zod';
import { resolveInside } from '../../fs/safe-path';
import { ProviderResponseError, UnsafePathError } from '../../model/errors';
import type { DownloadOptions, DownloadResult, DownloadedFile } from '../provider';
import type { AzureHttp } from './http';
import type { AzureMlOptions } from './options';

/** `azureml://[subscriptions/…/workspaces/…/]datastores/{name}/paths/{path}` (docs/PROVIDERS.md, outputs). */
export function parseDatastoreUri(uri: string): { datastore: string; path: string } | undefined {
  const m = /^azureml:\/\/(?:.*\/)?datastores\/([^/]+)\/paths\/(.*)$/.exec(uri);
  return m ? { datastore: decodeURIComponent(m[1]!), path: decodeURIComponent(m[2]!) } : undefined;
}

const resolvedSchema = z.looseObject({ values: z.record(z.string(), z.looseObject({ uri: z.string() })) });
const datastoreSchema = z.looseObject({
  properties: z.looseObject({
    datastoreType: z.string().optional(),
    accountName: z.string(),
    containerName: z.string(),
    endpoint: z.string().default('core.windows.net'),
    protocol: z.string().default('https'),
  }),
});
const secretsSchema = z.union([
  z.looseObject({ secretsType: z.literal('AccountKey'), key: z.string() }),
  z.looseObject({ secretsType: z.literal('Sas'), sasToken: z.string() }),
]);

export class Datastores {
  constructor(
    private readonly http: AzureHttp,
    private readonly o: AzureMlOptions,
    private readonly urls: { data: string; arm: string },
  ) {}

  /** Asset ids that are not datastore URIs already are resolved in one batch call. */
  async resolve(assetIds: string[]): Promise<Map<string, { datastore: string; path: string }>> {
    const out = new Map<string, { datastore: string; path: string }>();
    const pending: string[] = [];
    for (const id of assetIds) {
      const direct = parseDatastoreUri(id);
      if (direct) out.set(id, direct);
      else pending.push(id);
    }
    if (pending.length === 0) return out;
    const body = await this.http.json<unknown>({
      method: 'POST',
      url: `${this.urls.data}/dataversion/batchGetResolvedUris`,
      body: { values: pending },
      scope: this.o.scope,
    });
    const parsed = resolvedSchema.safeParse(body);
    if (!parsed.success) throw new ProviderResponseError('batchGetResolvedUris: the answer has no values map');
    for (const id of pending) {
      const uri = parsed.data.values[id]?.uri;
      const location = uri ? parseDatastoreUri(uri) : undefined;
      if (!location) throw new ProviderResponseError(`output ${id} did not resolve to a datastore path`);
      out.set(id, location);
    }
    return out;
  }

  private async container(datastore: string): Promise<ContainerClient> {
    const base = `${this.urls.arm}/datastores/${encodeURIComponent(datastore)}`;
    const version = `api-version=${this.o.armApiVersion}`;
    const ds = datastoreSchema.safeParse(await this.http.json<unknown>({ url: `${base}?${version}`, scope: this.o.scope }));
    if (!ds.success) throw new ProviderResponseError(`datastore ${datastore}: not a blob datastore (no accountName/containerName)`);
    const p = ds.data.properties;
    const secrets = secretsSchema.safeParse(
      await this.http.json<unknown>({ method: 'POST', url: `${base}/listSecrets?${version}`, body: {}, scope: this.o.scope }),
    );
    if (!secrets.success)
      throw new ProviderResponseError(
        `datastore ${datastore}: listSecrets gave neither an account key nor a SAS token (identity-based datastores are not supported yet)`,
      );
    const account = this.o.blobUrlTemplate.replace('{protocol}', p.protocol).replace('{account}', p.accountName).replace('{endpoint}', p.endpoint);
    const url = `${account}/${p.containerName}`;
    // Loaded when an output is first downloaded: the Blob SDK costs ~0.2 s of start-up that most commands never need.
    const { ContainerClient, StorageSharedKeyCredential } = await import('@azure/storage-blob');
    return secrets.data.secretsType === 'AccountKey'
      ? new ContainerClient(url, new StorageSharedKeyCredential(p.accountName, secrets.data.key))
      : new ContainerClient(`${url}?${secrets.data.sasToken.replace(/^\?/, '')}`);
  }

  /** Every blob under the path, in parallel; files already complete (same size) are skipped, so a retry resumes. */
  async download(datastore: string, prefix: string, localPath: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
    const container = await this.container(datastore);
    const base = prefix.replace(/^\/+/, '');
    const blobs: { name: string; rel: string; size: number }[] = [];
    for await (const blob of container.listBlobsFlat({ prefix: base })) {
      const rel = blob.name.slice(base.length).replace(/^\/+/, '');
      if (!rel) continue;
      resolveInside(localPath, rel); // refuses `..`, absolute names: a blob name must not escape the folder
      blobs.push({ name: blob.name, rel, size: blob.properties.contentLength ?? 0 });
    }
    const total = blobs.reduce((n, b) => n + b.size, 0);
    let done = 0;
    const files: DownloadedFile[] = [];
    const queue = [...blobs];
    const worker = async (): Promise<void> => {
      for (let b = queue.shift(); b; b = queue.shift()) {
        const target = resolveInside(localPath, b.rel);
        const existing = await fs.lstat(target).catch(() => undefined);
        if (existing?.isSymbolicLink()) throw new UnsafePathError(target, 'destination is a symbolic link');
        if (!existing || existing.size !== b.size || opts.overwrite) {
          await fs.mkdir(path.dirname(target), { recursive: true });
          const temp = `${target}.partial`;
          await container.getBlobClient(b.name).downloadToFile(temp, 0, undefined, { abortSignal: opts.signal });
          await fs.rename(temp, target);
        }
        done += b.size;
        files.push({ path: b.rel, size: b.size });
        opts.onProgress?.(done, total);
      }
    };
    await Promise.all(Array.from({ length: Math.min(4, blobs.length) }, worker));
    return { localPath: path.resolve(localPath), files: files.sort((a, b) => a.path.localeCompare(b.path)), bytes: done };
  }
}
