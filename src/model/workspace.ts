// Workspace and Experiment: where runs live, and which provider answers for them.
import * as path from 'node:path';
import type { RunProvider } from '../providers/provider';
import { LocalProvider } from '../providers/local/provider';
import { AzureMlProvider } from '../providers/azureml/provider';
import { parseAzureMlOptions } from '../providers/azureml/options';

export interface WorkspaceOptions {
  /** Shown in messages; for Azure ML the workspace name. */
  name?: string;
  /** How often waitForCompletion asks for the status (default 2000 ms). */
  pollIntervalMs?: number;
}

/** A place runs live in, answered by one provider (the seed's `Workspace`). */
export class Workspace {
  readonly name: string;
  readonly provider: RunProvider;
  readonly pollIntervalMs: number;

  constructor(provider: RunProvider, options: WorkspaceOptions = {}) {
    this.provider = provider;
    this.name = options.name ?? provider.kind;
    this.pollIntervalMs = options.pollIntervalMs ?? 2000;
  }

  /** The local run store under `dataDir` (default `.steprun-watch` in the working directory). */
  static local(options: { dataDir?: string } & WorkspaceOptions = {}): Workspace {
    const dataDir = path.resolve(options.dataDir ?? '.steprun-watch');
    return new Workspace(new LocalProvider({ root: path.join(dataDir, 'runs') }), { name: 'local', ...options });
  }

  /**
   * An Azure Machine Learning workspace, over its REST APIs: `{ subscriptionId, resourceGroup, workspace,
   * region | endpoint, credential?: {tenantId, clientId, clientSecret} | {token} }`; without a credential,
   * DefaultAzureCredential (environment, managed identity, Azure CLI login).
   */
  static azureml(
    options: Record<string, unknown> & { subscriptionId: string; resourceGroup: string; workspace: string },
    wsOptions: WorkspaceOptions = {},
  ): Workspace {
    const parsed = parseAzureMlOptions({ type: 'azureml', ...options }, 'azureml');
    return new Workspace(new AzureMlProvider(parsed), { name: parsed.workspace, ...wsOptions });
  }
}

/** An experiment of a workspace: pipeline runs are grouped under it (the seed's `Experiment(workspace, name)`). */
export class Experiment {
  constructor(
    readonly workspace: Workspace,
    readonly name: string,
  ) {}

  get provider(): RunProvider {
    return this.workspace.provider;
  }
}
