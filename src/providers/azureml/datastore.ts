// Step outputs on Azure: asset id -> datastore + path (resolver), datastore -> storage container (ARM), then the blobs (@azure/storage-blob).
import { z } from 'zod';
import { ProviderAuthError, ProviderResponseError } from '../../model/errors';
import type { BlobTarget, CopyResult, DownloadResult } from '../../model/provider';
import { copyBlobs } from './blob-copy';
import { asTokenCredential as storageCredential, type TokenSource } from './auth';
import { downloadBlobs, type BlobDownloadOptions } from './blob-download';
import { blobLocationOf, type DatastoreContainer } from './datastore-kinds';
import type { AzureHttp } from './http';
import type { AzureMlOptions } from './options';

/** `azureml://[subscriptions/…/workspaces/…/]datastores/{name}/paths/{path}` (docs/PROVIDERS.md, outputs). */
export function parseDatastoreUri(uri: string): { datastore: string; path: string } | undefined {
  const m = /^azureml:\/\/(?:.*\/)?datastores\/([^/]+)\/paths\/(.*)$/.exec(uri);
  return m ? { datastore: decodeURIComponent(m[1]!), path: decodeURIComponent(m[2]!) } : undefined;
}

const resolvedSchema = z.looseObject({ values: z.record(z.string(), z.looseObject({ uri: z.string() })) });
const secretsSchema = z.union([
  z.looseObject({ secretsType: z.literal('AccountKey'), key: z.string().min(1) }),
  z.looseObject({ secretsType: z.literal('Sas'), sasToken: z.string().min(1) }),
]);

/** The scope of a token for Azure Storage data (what an identity-based datastore is read with). */
export const STORAGE_SCOPE = 'https://storage.azure.com/.default';

/** At most this many datastores' lookups are kept (a workspace has a handful). */
const MAX_CACHED = 100;

export class Datastores {
  private readonly cache = new Map<string, { value: Promise<DatastoreContainer>; until: number }>();

  constructor(
    private readonly http: AzureHttp,
    private readonly o: AzureMlOptions,
    private readonly urls: { data: string; arm: string },
    private readonly tokens: TokenSource,
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

  /**
   * The datastore's container: ARM GET (and listSecrets unless it is identity-based), cached per datastore for
   * `datastoreCacheSeconds`, so harvesting 50 steps' outputs costs two ARM calls, not a hundred. A failed lookup is
   * not kept.
   */
  container(datastore: string): Promise<DatastoreContainer> {
    const now = Date.now();
    const hit = this.cache.get(datastore);
    if (hit && hit.until > now) return hit.value;
    const value = this.lookUp(datastore);
    this.cache.set(datastore, { value, until: now + this.o.datastoreCacheSeconds * 1000 });
    value.catch(() => this.cache.delete(datastore));
    if (this.cache.size > MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    return value;
  }

  private async lookUp(datastore: string): Promise<DatastoreContainer> {
    const base = `${this.urls.arm}/datastores/${encodeURIComponent(datastore)}`;
    const version = `api-version=${this.o.armApiVersion}`;
    const location = blobLocationOf(datastore, await this.http.json<unknown>({ url: `${base}?${version}`, scope: this.o.scope }));
    // Credential-less datastores have no secrets to list: they are read with the identity of whoever reads them.
    const secrets =
      location.credentialsType === 'None'
        ? undefined
        : secretsSchema.safeParse(await this.http.json<unknown>({ method: 'POST', url: `${base}/listSecrets?${version}`, body: {}, scope: this.o.scope }));
    const account = this.o.blobUrlTemplate
      .replace('{protocol}', location.protocol)
      .replace('{account}', location.accountName)
      .replace('{endpoint}', location.endpoint);
    const url = `${account}/${location.container}`;
    // Loaded when an output is first downloaded: the Blob SDK costs ~0.2 s of start-up that most commands never need.
    const { ContainerClient, StorageSharedKeyCredential } = await import('@azure/storage-blob');
    if (secrets?.success && secrets.data.secretsType === 'AccountKey')
      return { container: new ContainerClient(url, new StorageSharedKeyCredential(location.accountName, secrets.data.key)), auth: 'key', location };
    if (secrets?.success && secrets.data.secretsType === 'Sas')
      return { container: new ContainerClient(`${url}?${secrets.data.sasToken.replace(/^\?/, '')}`), auth: 'sas', location };
    // No key or SAS (credentials None, a service principal or certificate datastore): the provider's own credential.
    return { container: new ContainerClient(url, storageCredential(this.tokens)), auth: 'identity', location };
  }

  /** Every blob under the path copied into `target` by the storage service (blob-copy.ts); undefined: it cannot. */
  async copy(datastore: string, prefix: string, target: BlobTarget, opts: { signal?: AbortSignal } = {}): Promise<CopyResult | undefined> {
    const source = await this.container(datastore);
    return copyBlobs(source, prefix, target, { ...opts, syncCopyMaxBytes: this.o.syncCopyMaxBytes });
  }

  /** Every blob under the path (blob-download.ts); a refusal by storage says what the identity or the secret lacks. */
  async download(datastore: string, prefix: string, localPath: string, opts: BlobDownloadOptions = {}): Promise<DownloadResult> {
    const { container, auth, location } = await this.container(datastore);
    try {
      return await downloadBlobs(container, prefix, localPath, { rangeBytes: this.o.downloadRangeBytes, ...opts });
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status !== 401 && status !== 403) throw err;
      this.cache.delete(datastore); // a rotated key or a changed datastore: look it up again next time
      const said = (err as Error).message.split('\n')[0];
      throw new ProviderAuthError(
        auth === 'identity'
          ? `storage account ${location.accountName} refused this provider's identity for datastore ${datastore} (${status}: ${said}); an ` +
              `identity-based datastore is read with the provider's credential, which needs the "Storage Blob Data Reader" role on the account ` +
              `(and a token for ${STORAGE_SCOPE})`
          : `storage account ${location.accountName} refused datastore ${datastore}'s ${auth === 'key' ? 'account key' : 'SAS token'} ` +
              `(${status}: ${said}); update the datastore's credentials in Azure ML`,
        { cause: err },
      );
    }
  }
}
