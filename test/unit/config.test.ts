import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../src/config/load';
import { checkConfig } from '../../src/runtime/config-check';
import { tempDir } from '../support/tmp';

async function configFile(text: string, ext = 'yaml'): Promise<string> {
  const file = path.join(tempDir('cfg'), `c.${ext}`);
  await fs.writeFile(file, text);
  return file;
}

describe('config', () => {
  it('loads the embedded defaults with no file', async () => {
    const c = await loadConfig({ env: {} });
    expect(c.redis).toEqual({ url: 'redis://127.0.0.1:6379', prefix: 'srw' });
    expect(c.poll.tick).toBe('*/5 * * * * *');
    expect(c.providers.local).toEqual({ type: 'local' });
    expect(c.dataDir).toBe(path.resolve('.steprun-watch'));
  });

  it('takes REDIS_URL and SRW_DATA_DIR from the environment', async () => {
    const c = await loadConfig({ env: { REDIS_URL: 'redis://r:1', SRW_DATA_DIR: '/tmp/x' } });
    expect(c.redis.url).toBe('redis://r:1');
    expect(c.dataDir).toBe('/tmp/x');
  });

  it('replaces ${VAR} from the environment, with fallbacks', async () => {
    const file = await configFile('notifiers:\n  hook: { type: console, token: "${HOOK_TOKEN}", other: "${NOPE:-dflt}" }\n');
    const c = await loadConfig({ file, env: { HOOK_TOKEN: 's3cret' } });
    expect(c.notifiers.hook).toEqual({ type: 'console', token: 's3cret', other: 'dflt' });
  });

  it('names the field whose variable is not set', async () => {
    const file = await configFile('notifiers:\n  hook: { type: console, token: "${HOOK_TOKEN}" }\n');
    await expect(loadConfig({ file, env: {} })).rejects.toMatchObject({
      code: 'SRW_CONFIG_INVALID',
      message: 'notifiers.hook.token: environment variable HOOK_TOKEN is not set',
    });
  });

  it('names the path of an invalid field', async () => {
    const file = await configFile('poll:\n  minIntervalSeconds: -3\n');
    await expect(loadConfig({ file, env: {} })).rejects.toMatchObject({
      code: 'SRW_CONFIG_INVALID',
      message: expect.stringContaining('poll.minIntervalSeconds:'),
    });
    const json = await configFile('{"routes": [{"match": {}, "notify": []}]}', 'json');
    await expect(loadConfig({ file: json, env: {} })).rejects.toMatchObject({ message: expect.stringContaining('routes[0].notify:') });
  });

  it('api.publicUrl: an http(s) address, named when it is not one', async () => {
    const ok = await configFile('api:\n  publicUrl: https://srw.example.com/watch/\n');
    expect((await loadConfig({ file: ok, env: {} })).api.publicUrl).toBe('https://srw.example.com/watch/');
    const bad = await configFile('api:\n  publicUrl: srw.example.com\n');
    await expect(loadConfig({ file: bad, env: {} })).rejects.toMatchObject({ message: expect.stringContaining('api.publicUrl: an http(s) address') });
  });

  it('refuses an unknown key by name', async () => {
    const file = await configFile('pol: {}\n');
    await expect(loadConfig({ file, env: {} })).rejects.toMatchObject({ message: expect.stringMatching(/pol/) });
  });

  it('says when the file cannot be read or parsed', async () => {
    await expect(loadConfig({ file: '/nonexistent/c.yaml', env: {} })).rejects.toMatchObject({
      code: 'SRW_CONFIG_INVALID',
      message: expect.stringContaining('ENOENT'),
    });
    const bad = await configFile('a: [1,\n');
    await expect(loadConfig({ file: bad, env: {} })).rejects.toMatchObject({ code: 'SRW_CONFIG_INVALID' });
  });

  it('refuses a route to an unknown notifier and a track on an unknown provider, by field', async () => {
    const routes = await loadConfig({ file: await configFile('routes: [{match: {}, notify: [console, pager]}]\n'), env: {} });
    expect(() => checkConfig(routes)).toThrow('routes[0].notify[1]: unknown notifier "pager" (configured: console, mail, harvest)');
    const tracks = await loadConfig({ file: await configFile('tracks: [{provider: prod, experiment: x}]\n'), env: {} });
    expect(() => checkConfig(tracks)).toThrow('tracks[0].provider: unknown provider "prod" (configured: local)');
  });
});

describe('validateConfig', () => {
  it('fills every section default from an empty config, so no setting is ever undefined', async () => {
    const { validateConfig } = await import('../../src/config/load');
    const c = validateConfig({}, { env: {} });
    expect(c.workers).toEqual({ lockDurationMs: 30000, reclaimIdleMs: 30000, listen: '127.0.0.1:8788', deliverThreads: 0 });
    expect(c.poll).toMatchObject({ tick: '*/5 * * * * *', minIntervalSeconds: 5, maxIntervalSeconds: 300, concurrency: 16, errorAfterFailures: 3 });
    expect(c.poll.hints).toEqual({ enabled: true, debounceMs: 50, minGapMs: 1000, pushedForSeconds: 600 });
    expect(c.delivery).toEqual({ attempts: 6, backoffMs: 2000, concurrency: 32 });
    expect(c.events).toEqual({ maxLen: 100000 });
    expect(c.redis.prefix).toBe('srw');
    expect(c.log.level).toBe('info');
  });
});

describe('config-check', () => {
  it('knows exactly the built-in notifier and provider types (the registries)', async () => {
    const { BUILTIN_NOTIFIER_TYPES, BUILTIN_PROVIDER_TYPES } = await import('../../src/runtime/config-check');
    const { builtinNotifiers } = await import('../../src/notify/builtin');
    const { builtinProviders } = await import('../../src/providers/builtin');
    expect([...BUILTIN_NOTIFIER_TYPES].sort()).toEqual(builtinNotifiers().types().sort());
    expect([...BUILTIN_PROVIDER_TYPES].sort()).toEqual(builtinProviders().types().sort());
  });
});
