// The one pino logger: JSON by default, pretty on a terminal, secrets redacted once for every component.
import pino, { type Logger } from 'pino';

export type { Logger };

/** Paths whose values never reach a log line (secrets come from the environment and stay there). */
export const REDACT_PATHS = [
  'secret',
  '*.secret',
  '*.*.secret',
  'password',
  '*.password',
  '*.*.password',
  '*.pass',
  '*.*.pass',
  'token',
  '*.token',
  '*.*.token',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  'clientSecret',
  '*.clientSecret',
  '*.*.clientSecret',
  'url',
  '*.url',
  '*.*.url',
];

export interface LoggerOptions {
  level?: string;
  /** Pretty output; default: when stdout is a terminal. */
  pretty?: boolean;
  destination?: NodeJS.WritableStream;
}

export function createLogger(o: LoggerOptions = {}): Logger {
  const options = { level: o.level ?? 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { pid: process.pid } };
  const pretty = o.pretty ?? Boolean(process.stdout.isTTY);
  if (pretty) {
    const pinoPretty = require('pino-pretty') as (opts: object) => NodeJS.WritableStream;
    return pino(options, pinoPretty({ colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname', destination: o.destination ?? 1 }));
  }
  return pino(options, (o.destination as pino.DestinationStream | undefined) ?? pino.destination({ dest: 1, sync: true }));
}

/**
 * A child logger made when first used. A delivery hands one to its notifier, which logs only when something goes
 * wrong: at saturation, making 20,000 pino children (bindings serialized and redacted) cost 2 % of the daemon's CPU.
 */
export function lazyChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  let child: Logger | undefined;
  const made = () => (child ??= parent.child(bindings));
  return new Proxy(parent, {
    get: (_parent, prop) => {
      const value: unknown = Reflect.get(made(), prop);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(made()) : value;
    },
    set: (_parent, prop, value) => Reflect.set(made(), prop, value),
  });
}

/** Removes credentials from a URL before it is shown anywhere (user:pass@, token-like query values). */
export function maskUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.username) url.username = '***';
    if (url.password) url.password = '***';
    for (const key of [...url.searchParams.keys()]) {
      if (/token|key|sig|secret|code|pass/i.test(key)) url.searchParams.set(key, '***');
    }
    // Slack/Teams-style URLs carry their secret in the path: keep only the host and first segment.
    const segments = url.pathname.split('/').filter(Boolean);
    if (segments.length > 1) url.pathname = `/${segments[0]}/***`;
    return url.toString();
  } catch {
    return '[unparseable url]';
  }
}
