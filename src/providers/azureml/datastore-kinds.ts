// What an ARM datastore body says about where its files are and how to sign in to them. Blob and ADLS Gen2 datastores
// are read through the Blob endpoint (ADLS Gen2 is multi-protocol: its filesystem is a blob container); the others
// are refused with what to do instead.
import type { ContainerClient } from '@azure/storage-blob';
import { z } from 'zod';
import { DatastoreUnsupportedError, ProviderResponseError } from '../../model/errors';

/** A blob container and how the datastore is meant to be read. */
export interface BlobLocation {
  accountName: string;
  container: string;
  endpoint: string;
  protocol: string;
  /** `None`: an identity-based (credential-less) datastore, read with the provider's own credential. */
  credentialsType?: string;
}

/** A datastore's container, ready to read, and how it was signed in to (an auth failure says what to fix). */
export interface DatastoreContainer {
  container: ContainerClient;
  auth: 'key' | 'sas' | 'identity';
  location: BlobLocation;
}

const common = {
  accountName: z.string().min(1),
  endpoint: z.string().default('core.windows.net'),
  protocol: z.string().default('https'),
  credentials: z.looseObject({ credentialsType: z.string() }).optional(),
};
const blobSchema = z.looseObject({ ...common, containerName: z.string().min(1) });
const adlsGen2Schema = z.looseObject({ ...common, filesystem: z.string().min(1) });
const bodySchema = z.looseObject({ properties: z.looseObject({ datastoreType: z.string().optional() }) });

const UNSUPPORTED: Record<string, string> = {
  AzureFile:
    'an Azure Files share is not reachable through the Blob API; have the step write its outputs to a blob or ADLS Gen2 datastore (e.g. ' +
    'workspaceblobstore), or fetch the share with `az storage file download-batch`',
  AzureDataLakeGen1: 'ADLS Gen1 is retired by Azure; move the data to an ADLS Gen2 datastore',
  OneLake: 'OneLake (Fabric) datastores are not read yet; have the step write to a blob or ADLS Gen2 datastore',
};

/** The container behind a datastore (ARM `GET datastores/{name}`), or a coded error saying why it cannot be read. */
export function blobLocationOf(datastore: string, body: unknown): BlobLocation {
  const parsed = bodySchema.safeParse(body);
  if (!parsed.success) throw new ProviderResponseError(`datastore ${datastore}: the answer has no properties`);
  const type = parsed.data.properties.datastoreType ?? 'AzureBlob';
  if (type === 'AzureBlob' || type === 'AzureDataLakeGen2') {
    const adls = type === 'AzureDataLakeGen2';
    const p = (adls ? adlsGen2Schema : blobSchema).safeParse(parsed.data.properties);
    if (!p.success)
      throw new ProviderResponseError(`datastore ${datastore} (${type}): no accountName/${adls ? 'filesystem' : 'containerName'} in its properties`);
    const d = p.data as z.infer<typeof blobSchema> & z.infer<typeof adlsGen2Schema>;
    return {
      accountName: d.accountName,
      container: adls ? d.filesystem : d.containerName,
      endpoint: d.endpoint,
      protocol: d.protocol,
      credentialsType: d.credentials?.credentialsType,
    };
  }
  throw new DatastoreUnsupportedError(datastore, type, UNSUPPORTED[type] ?? 'only AzureBlob and AzureDataLakeGen2 datastores are read');
}
