// The package's Workspace: the model's own, plus factories for the built-in providers. They live here, not in
// model/, so that the object model knows providers only through the RunProvider interface.
import * as path from 'node:path';
import { Workspace as ModelWorkspace, type WorkspaceOptions } from './model/workspace';
import { parseAzureMlOptions } from './providers/azureml/options';
import { AzureMlProvider } from './providers/azureml/provider';
import { LocalProvider } from './providers/local/provider';

export class Workspace extends ModelWorkspace {
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
