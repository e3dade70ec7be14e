// The notifier plugin interface, its registry, and the loader of third-party plugins from config.
import * as path from 'node:path';
import { ConfigInvalidError } from '../model/errors';
import type { Logger } from '../util/logger';
import type { RunProvider } from '../model/provider';
import type { WatchEvent } from '../store/events';

export interface DeliveryContext {
  /** Stable across retries: receivers can drop a repeat with it (webhook-id, Message-ID, dedup_key). */
  deliveryId: string;
  /** 1 for the first try. */
  attempt: number;
  logger: Logger;
  signal: AbortSignal;
}

export interface DeliveryResult {
  /** A short note kept with the delivery record (a message id, a file path). */
  detail?: string;
}

/** A notifier instance: built by a factory from its config block, called once per (event, notifier). */
export interface Notifier {
  readonly type: string;
  readonly name: string;
  /** Throw to fail; an error with `retryable: false` is not retried, one with `retryAfterMs` sets the next try. */
  deliver(event: WatchEvent, ctx: DeliveryContext): Promise<DeliveryResult | void>;
  close?(): Promise<void>;
}

export interface NotifierContext {
  /** The instance name (`notifiers.<name>`). */
  name: string;
  dataDir: string;
  logger: Logger;
  /** Provider instances by name (the download notifier reads outputs through them). */
  providers: Map<string, RunProvider>;
  /** Folder relative module paths resolve from (the config file's folder, else the working directory). */
  baseDir: string;
  /** What the daemon lends notifiers (e.g. `liveMessages`: message ids kept in Redis); absent outside the daemon. */
  services?: Record<string, unknown>;
}

export type NotifierFactory = (options: Record<string, unknown>, ctx: NotifierContext) => Notifier | Promise<Notifier>;

/** What a plugin module exports: `create` (or a default export that is the factory). */
export interface NotifierModule {
  create?: NotifierFactory;
  default?: NotifierFactory | { create?: NotifierFactory };
}

export class NotifierRegistry {
  private readonly factories = new Map<string, NotifierFactory>();

  register(type: string, factory: NotifierFactory): this {
    this.factories.set(type, factory);
    return this;
  }

  types(): string[] {
    return [...this.factories.keys()];
  }

  async create(options: Record<string, unknown> & { type: string }, ctx: NotifierContext): Promise<Notifier> {
    const factory = this.factories.get(options.type);
    if (!factory) {
      throw new ConfigInvalidError(`notifiers.${ctx.name}.type: unknown notifier type "${options.type}" (known: ${this.types().join(', ')})`);
    }
    return factory(options, ctx);
  }
}

/** `{type: module, module: ./my-notifier.js, options: {...}}`: loads a third-party notifier. */
export const moduleNotifierFactory: NotifierFactory = async (options, ctx) => {
  const spec = options.module;
  if (typeof spec !== 'string' || spec.length === 0) throw new ConfigInvalidError(`notifiers.${ctx.name}.module: required (a path or a package name)`);
  const resolved = spec.startsWith('.') || path.isAbsolute(spec) ? path.resolve(ctx.baseDir, spec) : spec;
  let loaded: NotifierModule;
  try {
    loaded = require(resolved) as NotifierModule;
  } catch (err) {
    throw new ConfigInvalidError(`notifiers.${ctx.name}.module: cannot load "${spec}": ${(err as Error).message.split('\n')[0]}`);
  }
  const factory = loaded.create ?? (typeof loaded.default === 'function' ? loaded.default : loaded.default?.create);
  if (typeof factory !== 'function') throw new ConfigInvalidError(`notifiers.${ctx.name}.module: "${spec}" exports no create(options, ctx) function`);
  const notifier = await factory((options.options as Record<string, unknown>) ?? {}, ctx);
  if (!notifier || typeof notifier.deliver !== 'function') {
    throw new ConfigInvalidError(`notifiers.${ctx.name}.module: create() of "${spec}" did not return a notifier with deliver(event, ctx)`);
  }
  return notifier;
};
