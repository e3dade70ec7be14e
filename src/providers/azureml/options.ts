// The azureml provider's config block, validated; errors name `providers.<name>.<field>`.
import { z } from 'zod';
import { issueLines } from '../../util/issues';
import { ConfigInvalidError } from '../../model/errors';

export const azureMlOptionsSchema = z
  .strictObject({
    type: z.literal('azureml'),
    subscriptionId: z.string().min(1),
    resourceGroup: z.string().min(1),
    workspace: z.string().min(1),
    /** Region of the workspace: the data plane is https://{region}.api.azureml.ms. */
    region: z
      .string()
      .regex(/^[a-z0-9]+$/, 'an Azure region such as eastus2')
      .optional(),
    /** Replaces the data-plane base URL (sovereign clouds, private links, tests). */
    endpoint: z.string().url().optional(),
    armEndpoint: z.string().url().default('https://management.azure.com'),
    /** Azure ML studio, for the links in alerts (`https://ml.azure.com/runs/<id>?wsid=…&tid=…`). */
    studioUrl: z.string().url().default('https://ml.azure.com'),
    /** Tenant of the workspace, for studio links (taken from a service principal credential when there is one). */
    tenantId: z.string().min(1).optional(),
    credential: z
      .union([
        z.strictObject({ tenantId: z.string().min(1), clientId: z.string().min(1), clientSecret: z.string().min(1) }),
        z.strictObject({ token: z.string().min(1) }),
      ])
      .optional(),
    /** Token scope; azure-ai-ml's run-history client asks for ARM's. */
    scope: z.string().default('https://management.azure.com/.default'),
    /** Requests per minute to this workspace, shared by every process through Redis. */
    maxRequestsPerMinute: z.number().int().positive().default(600),
    /**
     * The budget is counted in windows this long (its share of the minute each): 60 lets a burst spend the minute at
     * once, shorter spreads the requests over the minute.
     */
    budgetWindowSeconds: z.number().int().min(1).max(60).default(60),
    pageSize: z.number().int().min(1).max(1000).default(100),
    /** How a datastore's blob container URL is built; tests point it at Azurite. */
    blobUrlTemplate: z.string().default('{protocol}://{account}.blob.{endpoint}'),
    /** How long a datastore's lookup (ARM GET + listSecrets) is reused before it is asked again. */
    datastoreCacheSeconds: z.number().int().min(0).max(86400).default(600),
    /** Blobs larger than this are downloaded in ranges of this size, several at once, and resume by range. */
    downloadRangeBytes: z
      .number()
      .int()
      .min(64 * 1024)
      .default(8 * 1024 * 1024),
    /** Blobs up to this size are copied in one synchronous request (harvest to a blob container); larger ones asynchronously. */
    syncCopyMaxBytes: z
      .number()
      .int()
      .min(1)
      .max(256 * 1024 * 1024)
      .default(256 * 1024 * 1024),
    /** ARM api-version for datastores. */
    armApiVersion: z.string().default('2024-04-01'),
    timeoutMs: z.number().int().positive().default(30000),
    /** Pull change hints from the Azure Storage Queue an Event Grid subscription delivers Azure ML's run events to. */
    changeQueue: z
      .strictObject({
        url: z.string().url(),
        /** Shared-key auth (from the environment); without it a SAS in the URL, else this provider's credential. */
        accountKey: z.string().min(1).optional(),
        visibilityTimeoutSeconds: z.number().int().min(1).max(3600).default(30),
        idleWaitMs: z.number().int().min(10).default(1000),
        maxDequeueCount: z.number().int().positive().default(10),
      })
      .optional(),
  })
  .refine((o) => o.region || o.endpoint, { message: 'give region or endpoint', path: ['region'] });

export type AzureMlOptions = z.infer<typeof azureMlOptionsSchema>;

export function parseAzureMlOptions(raw: Record<string, unknown>, name: string): AzureMlOptions {
  const parsed = azureMlOptionsSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new ConfigInvalidError(issueLines(parsed.error, `providers.${name}`));
}
