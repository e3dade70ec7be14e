// Loads the config: embedded defaults, then a YAML or JSON file, `${VAR}` from the environment, one validation.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { FileTooLargeError, readTextBounded } from '../fs/read-bounded';
import { ConfigInvalidError } from '../model/errors';
import { issueLines } from '../util/issues';
import { configSchema, isLoopbackListen, type Config } from './schema';

export interface LoadConfigOptions {
  /** A config file; without one, SRW_CONFIG, then the embedded defaults alone. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** --data-dir on the command line wins over everything. */
  dataDir?: string;
  /** Command-line settings that win over the file and the environment (--redis-prefix, --listen). */
  overrides?: { redisPrefix?: string; listen?: string };
  /**
   * Commands that send nothing (run, exec, track...): an unset `${VAR}` inside `notifiers` or `providers` is recorded
   * in `unresolved` instead of refused, and refused only when that part is used (config-check.ts requireSecrets).
   */
  lazySecrets?: boolean;
  /**
   * What the schema cannot see (a provider's or notifier's own options, checked by its plugin), asked of the raw config
   * when the schema refuses it: said together with the schema's problems, not only once those are fixed.
   */
  alsoCheck?(raw: Record<string, unknown>, source: string | undefined): Promise<string[]>;
}

export interface LoadedConfig extends Config {
  dataDir: string;
  redis: Config['redis'] & { url: string };
  /** The file it came from, if any. */
  source?: string;
  /** `${VAR}`s left unset (lazySecrets), by field: the daemon refuses any; a command, those of what it uses. */
  unresolved: { path: string; variable: string }[];
}

const DEFAULTS_FILE = path.resolve(__dirname, '../../../config/default.yaml');
const DEFAULTS_FILE_DEV = path.resolve(__dirname, '../../config/default.yaml');

/** The embedded defaults (config/default.yaml), parsed once. */
export function embeddedDefaults(): Record<string, unknown> {
  for (const file of [DEFAULTS_FILE, DEFAULTS_FILE_DEV]) {
    try {
      return (parseYaml(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return {};
}

export async function loadConfig(o: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = o.env ?? process.env;
  const file = o.file ?? env.SRW_CONFIG;
  const fromFile = file ? await readConfigFile(file) : {};
  // Layers, lowest first: embedded defaults, the environment's SRW_* settings, the file, the command line.
  const fromEnv = settingsLayer({ redisPrefix: env.SRW_REDIS_PREFIX || undefined, listen: env.SRW_API_LISTEN || undefined });
  const merged = mergeDefaults(mergeDefaults(mergeDefaults(embeddedDefaults(), fromEnv), fromFile), settingsLayer(o.overrides ?? {}));
  const unresolved: LoadedConfig['unresolved'] = [];
  const substituted = substituteEnv(merged, env, '', o.lazySecrets ? unresolved : undefined);
  try {
    return { ...validateConfig(substituted, { env, dataDir: o.dataDir, source: file }), unresolved };
  } catch (err) {
    if (!(err instanceof ConfigInvalidError) || !o.alsoCheck || !isPlainObject(substituted)) throw err;
    const more = (await o.alsoCheck(substituted, file).catch(() => [] as string[])).map((p) => where(file) + p);
    throw more.length ? new ConfigInvalidError([...new Set([...err.problems, ...more])]) : err;
  }
}

/** `--redis-prefix` / SRW_REDIS_PREFIX and `--listen` / SRW_API_LISTEN as a config layer. */
function settingsLayer(o: { redisPrefix?: string; listen?: string }): Record<string, unknown> {
  return {
    ...(o.redisPrefix ? { redis: { prefix: o.redisPrefix } } : {}),
    ...(o.listen ? { api: { listen: o.listen } } : {}),
  };
}

/** The parts of a config only some commands use: their unset secrets can wait until a command needs them. */
const LAZY_SECTIONS = /^(notifiers|providers)\./;

export function validateConfig(raw: unknown, o: { env?: NodeJS.ProcessEnv; dataDir?: string; source?: string } = {}): LoadedConfig {
  const env = o.env ?? process.env;
  const cycle = cycleIn(raw);
  if (cycle) throw new ConfigInvalidError(`${where(o.source)}${cycle}: contains itself (a YAML alias inside its own anchor): a route tree cannot hold itself`);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigInvalidError(issueLines(parsed.error).map((line) => where(o.source) + line));
  const config = parsed.data;
  const dataDir = path.resolve(o.dataDir ?? env.SRW_DATA_DIR ?? config.dataDir ?? '.steprun-watch');
  const url = config.redis.url ?? env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (config.poll.minIntervalSeconds > config.poll.maxIntervalSeconds) {
    throw new ConfigInvalidError(`${where(o.source)}poll.minIntervalSeconds: must not exceed poll.maxIntervalSeconds`);
  }
  config.routes.forEach((route) => {
    for (const [field, names] of [
      ['mute', route.mute],
      ['activeOnly', route.activeOnly],
    ] as const) {
      const unknown = names.filter((n) => !config.timeIntervals[n]);
      if (unknown.length) {
        const known = Object.keys(config.timeIntervals).join(', ') || 'none';
        throw new ConfigInvalidError(`${where(o.source)}${route.at}.${field}: no time interval named ${unknown.join(', ')} (timeIntervals: ${known})`);
      }
    }
  });
  const exposed = [...exposureProblems(config), ...signInProblems(config)];
  if (exposed.length) throw new ConfigInvalidError(exposed.map((line) => where(o.source) + line));
  if (!config.providers.local) config.providers.local = { type: 'local' };
  return { ...config, dataDir, redis: { ...config.redis, url }, source: o.source, unresolved: [] };
}

/** The path of the first value that contains itself (`routes[0].routes`), if any: YAML aliases can make cycles. */
function cycleIn(value: unknown, at = '', open = new Set<object>()): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (open.has(value)) return at.replace(/^\./, '') || '(root)';
  open.add(value);
  try {
    for (const [k, v] of Object.entries(value)) {
      const found = cycleIn(v, Array.isArray(value) ? `${at}[${k}]` : `${at}.${k}`, open);
      if (found) return found;
    }
  } finally {
    open.delete(value);
  }
  return undefined;
}

/** A token that guards an address beyond loopback: at least 128 bits written as hex or base64. */
export const MIN_EXPOSED_TOKEN_CHARS = 32;
const MAKE_TOKEN = "make one with `openssl rand -hex 32` (or node -e \"console.log(require('crypto').randomBytes(32).toString('hex'))\")";

/**
 * Listening beyond loopback (api.listen, workers.listen) needs a token, and one that cannot be guessed. The API's
 * sign-in (api.oidc) guards api.listen as well; a worker-only process signs nobody in, so its listen needs the token.
 */
function exposureProblems(config: Config): string[] {
  const exposed = [
    ['api.listen', config.api.enabled && !config.api.oidc ? config.api.listen : undefined],
    ['workers.listen', config.workers.listen],
  ].filter(([, listen]) => listen !== undefined && !isLoopbackListen(listen));
  if (exposed.length === 0) return [];
  const at = exposed.map(([field, listen]) => `${field} ${listen}`).join(', ');
  const token = config.api.token;
  if (token === undefined)
    return [
      `api.token: listening beyond loopback (${at}) needs a token (api.token: \${SRW_API_TOKEN}) or, for api.listen, a sign-in (api.oidc); ${MAKE_TOKEN}; ` +
        'or listen on 127.0.0.1',
    ];
  if (token.length < MIN_EXPOSED_TOKEN_CHARS)
    return [`api.token: ${token.length} characters is too short for listening beyond loopback (${at}): at least ${MIN_EXPOSED_TOKEN_CHARS}; ${MAKE_TOKEN}`];
  return [];
}

/** The provider must send browsers back to an address they reach: not the wildcard the API may listen on. */
function signInProblems(config: Config): string[] {
  const { oidc, publicUrl, listen } = config.api;
  if (!oidc || oidc.redirectUrl || publicUrl || !/^(0\.0\.0\.0|\[::\]):/.test(listen)) return [];
  return [`api.oidc.redirectUrl: the API listens on ${listen}, which no browser can be sent back to: set api.publicUrl (or api.oidc.redirectUrl)`];
}

async function readConfigFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readTextBounded(file);
  } catch (err) {
    if (err instanceof FileTooLargeError) throw new ConfigInvalidError(`${file}: ${err.message}`);
    throw new ConfigInvalidError(`cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const value: unknown = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    if (value === null || value === undefined) return {};
    if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigInvalidError('the top level must be a mapping');
    return value;
  } catch (err) {
    throw new ConfigInvalidError(`${file}: ${withLineAndColumn((err as Error).message.split('\n')[0]!.replace(/:\s*$/, ''), text)}`);
  }
}

/** File values replace defaults section by section; maps (providers, notifiers) merge by name. */
function mergeDefaults(defaults: Record<string, unknown>, file: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(file as Record<string, unknown>)) {
    const base = defaults[key];
    out[key] = isPlainObject(base) && isPlainObject(value) ? { ...base, ...value } : value;
  }
  return out;
}

/**
 * Replaces `${VAR}` and `${VAR:-fallback}` in every string; an unset variable is an error naming the field, unless
 * `unresolved` is given and the field is in a lazy section: then it is recorded there and the text left as it is.
 */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, at: string, unresolved?: { path: string; variable: string }[]): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (text, name: string, fallback?: string) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      if (unresolved && LAZY_SECTIONS.test(at)) {
        unresolved.push({ path: at, variable: name });
        return text;
      }
      throw new ConfigInvalidError(`${at || '(root)'}: environment variable ${name} is not set`);
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, `${at}[${i}]`, unresolved));
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, at ? `${at}.${k}` : k, unresolved)]));
  }
  return value;
}

/** Every problem of the config at once, each naming its field. */
/** One line naming each problem of a value that does not validate (API bodies). */
export function describeIssue(error: z.ZodError, source?: string): string {
  return issueLines(error)
    .map((line) => where(source) + line)
    .join('; ');
}

function where(source?: string): string {
  return source ? `${source}: ` : '';
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A JSON syntax error says where as a position: said as a line and column too (YAML's errors say them already). */
function withLineAndColumn(message: string, text: string): string {
  const at = /at position (\d+)/.exec(message);
  if (!at || /line \d+/.test(message)) return message;
  const before = text.slice(0, Number(at[1]));
  const line = before.split('\n').length;
  return `${message} (line ${line}, column ${before.length - before.lastIndexOf('\n')})`;
}
