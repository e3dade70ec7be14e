// Every example config loads and validates, with the environment variables it names set.
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../src/config/load';
import { createLogger } from '../../src/util/logger';
import { checkConfig } from '../../src/runtime/config-check';
import { buildNotifiers, buildProviders } from '../../src/runtime/wiring';
import { EXAMPLE_ENV } from '../support/example-env';

const dir = path.join(__dirname, '../../config/examples');
const env = EXAMPLE_ENV;

describe('config/examples', () => {
  it.each(readdirSync(dir).filter((f) => f.endsWith('.yaml')))('%s validates, and its routes and tracks name what exists', async (file) => {
    const config = await loadConfig({ file: path.join(dir, file), env });
    expect(() => checkConfig(config)).not.toThrow();
    // Providers and notifiers validate their own options when built (nothing connects yet).
    const providers = buildProviders(config);
    const notifiers = await buildNotifiers(config, providers, createLogger({ level: 'silent', pretty: false }));
    expect([...notifiers.keys()].sort()).toEqual(Object.keys(config.notifiers).sort());
    await Promise.all([...notifiers.values()].map((n) => n.close?.()));
  });
});
