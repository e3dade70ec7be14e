// Workspace and Experiment: where runs live, and which provider answers for them.
import type { RunProvider } from './provider';

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
