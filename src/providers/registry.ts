// Maps a provider `type` to the factory that builds it: built-ins register here exactly as third-party ones do.
import { ConfigInvalidError } from '../model/errors';
import type { RunProvider } from '../model/provider';

/** What a factory receives besides its own options. */
export interface ProviderContext {
  /** Name of the instance in the config (`providers.<name>`). */
  name: string;
  /** The steprun-watch data folder (local run store, outbox). */
  dataDir: string;
  /** Folder relative module paths resolve from (the config file's folder, else the working directory). */
  baseDir?: string;
  /** Optional shared services (a request budget, a logger) the daemon hands to providers. */
  services?: Record<string, unknown>;
}

export type ProviderFactory = (options: Record<string, unknown>, ctx: ProviderContext) => RunProvider;

export class ProviderRegistry {
  private readonly factories = new Map<string, ProviderFactory>();

  register(type: string, factory: ProviderFactory): this {
    this.factories.set(type, factory);
    return this;
  }

  types(): string[] {
    return [...this.factories.keys()];
  }

  create(type: string, options: Record<string, unknown>, ctx: ProviderContext): RunProvider {
    const factory = this.factories.get(type);
    if (!factory) {
      throw new ConfigInvalidError(`providers.${ctx.name}.type: unknown provider type "${type}" (known: ${[...this.factories.keys()].join(', ')})`);
    }
    return factory(options, ctx);
  }
}
