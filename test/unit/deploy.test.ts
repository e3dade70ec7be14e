// docker-compose.yml and the Dockerfile cannot run here (no Docker engine): their structure is checked instead.
import { readFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { validateConfig, substituteEnv } from '../../src/config/load';

const root = path.join(__dirname, '../..');
const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as any;
const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');

describe('docker-compose.yml', () => {
  const services = compose.services;

  it('has Redis, the daemon, a scalable worker and a mail catcher', () => {
    expect(Object.keys(services).sort()).toEqual(['daemon', 'mailcatcher', 'redis', 'worker']);
  });

  it('runs Redis with append-only persistence on a named volume, no eviction, and a health check', () => {
    expect(services.redis.command).toEqual(expect.arrayContaining(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction']));
    expect(services.redis.volumes).toContain('redis-data:/data');
    expect(services.redis.healthcheck.test).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(Object.keys(compose.volumes)).toEqual(expect.arrayContaining(['redis-data', 'srw-data']));
  });

  it('wires the daemon through environment variables to Redis, SMTP and its config', () => {
    const env = services.daemon.environment;
    expect(env.REDIS_URL).toBe('redis://redis:6379');
    expect(env.SMTP_URL).toBe('smtp://mailcatcher:1025');
    expect(existsSync(path.join(root, env.SRW_CONFIG.replace('/app/', '')))).toBe(true);
    expect(env.SRW_API_TOKEN).toMatch(/^\$\{SRW_API_TOKEN:\?/); // required, never written in the file
    expect(services.daemon.depends_on.redis.condition).toBe('service_healthy');
    expect([services.daemon.healthcheck.test].flat().join(' ')).toContain('/healthz');
    expect(services.daemon.ports).toEqual(['127.0.0.1:8787:8787']);
  });

  it('the worker shares the environment and the data volume, and publishes nothing, so it scales', () => {
    expect(services.worker.environment).toEqual(services.daemon.environment);
    expect(services.worker.command).toEqual(['workers']);
    expect(services.worker.volumes).toEqual(services.daemon.volumes);
    expect(services.worker.ports).toBeUndefined();
    expect(services.worker.container_name).toBeUndefined();
    // Scrapable: each worker serves /readyz and /metrics on workers.listen, exposed to the compose network only.
    expect(services.worker.expose).toEqual(['8788']);
    expect([services.worker.healthcheck.test].flat().join(' ')).toContain('127.0.0.1:8788/readyz');
  });

  it('the mail catcher has a web UI published on localhost', () => {
    expect(services.mailcatcher.image).toMatch(/mailpit/);
    expect(services.mailcatcher.ports).toContain('127.0.0.1:8025:8025');
  });

  it('every depends_on names a service (and some service has one)', () => {
    const deps = (Object.values(services) as any[]).flatMap((s) => Object.keys(s.depends_on ?? {}));
    expect(deps.length).toBeGreaterThan(0);
    expect(deps.filter((dep) => !services[dep])).toEqual([]);
  });

  it('config/docker.yaml validates with the environment compose gives it', () => {
    const raw = parse(readFileSync(path.join(root, 'config/docker.yaml'), 'utf8'));
    const env = { REDIS_URL: 'redis://redis:6379', SMTP_URL: 'smtp://mailcatcher:1025', SRW_API_TOKEN: 't0k3n-0123456789abcdef0123456789abcdef' };
    const config = validateConfig(substituteEnv(raw, env, ''), { env, dataDir: '/data' });
    expect(config.api).toMatchObject({ listen: '0.0.0.0:8787', token: 't0k3n-0123456789abcdef0123456789abcdef' });
    expect(config.workers.listen).toBe('0.0.0.0:8788');
    expect(config.notifiers.mail).toMatchObject({ type: 'email', smtp: { url: 'smtp://mailcatcher:1025' } });
  });
});

describe('Dockerfile', () => {
  it('is multi-stage, runs as a non-root user, and checks /healthz', () => {
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^COPY --from=build /m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*\/healthz/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "bin\/steprun-watch.js"\]$/m);
  });
});
