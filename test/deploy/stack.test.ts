// The real deploy. The project's image built from its Dockerfile (Node 24) and docker-compose.yml brought
// up with podman-compose — the daemon, 2 scaled workers, Redis, and a local SMTP sink in place of the mail catcher
// (deploy/podman/compose.test.yaml) — then: health of every process, a failing pipeline run's mail exactly once, a
// worker SIGKILLed mid-burst losing and duplicating nothing, and `down` within 15 s. Base images: base-images.sh.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const PROJECT = 'srwdeploy';
const TOKEN = randomBytes(24).toString('hex');
const env = {
  ...process.env,
  CONTAINERS_CONF: path.join(ROOT, 'deploy/podman/containers.conf'),
  BUILDAH_FORMAT: 'docker', // the OCI format drops HEALTHCHECK
  SRW_API_TOKEN: TOKEN,
};
const COMPOSE = ['-p', PROJECT, '-f', 'docker-compose.yml', '-f', 'deploy/podman/compose.test.yaml'];

function run(cmd: string, args: string[], timeoutMs = 300_000): string {
  return execFileSync(cmd, args, { cwd: ROOT, env, encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}
const compose = (...args: string[]) => run('podman-compose', [...COMPOSE, ...args]);
const podman = (...args: string[]) => run('podman', args);
/** A command inside a service's container (`daemon`, `worker` 1 or 2). */
const inside = (container: string, ...args: string[]) => podman('exec', container, ...args);
const cli = (...args: string[]) => inside(`${PROJECT}_daemon_1`, 'node', 'bin/steprun-watch.js', ...args);

async function until<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function httpStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return (await fetch(url, { headers }).catch(() => undefined))?.status ?? 0;
}

/** The mails the sink holds (its JSON on the published 8025). */
async function mails(): Promise<{ subject: string }[]> {
  return (await (await fetch('http://127.0.0.1:8025/messages')).json()) as { subject: string }[];
}

/**
 * Nothing left to deliver: every delivery the daemon recorded is final. A duplicate could only come from one that is
 * not (a send retried, a killed worker's claim taken over), so a test that checks for one waits for this, not a time.
 */
async function quiet(): Promise<void> {
  const final = ['delivered', 'failed', 'silenced', 'inhibited', 'suppressed'];
  await until('nothing left to deliver', () => {
    const list = JSON.parse(cli('deliveries', '--json', '--limit', '10000')) as { status: string }[];
    return list.length > 0 && list.every((d) => final.includes(d.status));
  });
}

function say(line: string): void {
  process.stdout.write(`deploy: ${line}\n`);
}

/** A pipeline file written inside the daemon's container and run there, on the shared /data volume. */
function runPipelineInside(name: string, yaml: string): void {
  inside(`${PROJECT}_daemon_1`, 'sh', '-c', `cat > /data/${name}.yaml <<'YAML'\n${yaml}YAML`);
  try {
    cli('run', `/data/${name}.yaml`);
  } catch {
    // a failing pipeline exits 1: that is the point
  }
}

beforeAll(() => {
  compose('down');
  for (const volume of ['redis-data', 'srw-data']) {
    try {
      podman('volume', 'rm', '-f', `${PROJECT}_${volume}`);
    } catch {
      // not there
    }
  }
});

afterAll(() => {
  try {
    compose('down');
  } catch {
    // best effort
  }
});

describe('the compose stack under podman', () => {
  let startedAt = 0;

  it('builds the image from the Dockerfile (Node 24) and comes up: daemon and 2 workers healthy and ready', async () => {
    const built = Date.now();
    podman('build', '--format', 'docker', '-t', 'localhost/steprun-watch:deploy-test', '.');
    say(`image built in ${((Date.now() - built) / 1000).toFixed(1)} s`);
    const size = Number(podman('image', 'inspect', '--format', '{{.Size}}', 'localhost/steprun-watch:deploy-test').trim());
    say(`image size ${(size / 1024 / 1024).toFixed(0)} MiB`);
    startedAt = Date.now();
    compose('up', '-d', '--build');
    say(`compose up (building the services' images from the cache) in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
    const upAt = Date.now();
    const node = podman('run', '--rm', '--entrypoint', 'node', 'localhost/steprun-watch:deploy-test', '--version').trim();
    expect(node).toMatch(/^v24\./);
    await until('the daemon /readyz', async () => (await httpStatus('http://127.0.0.1:8787/readyz')) === 200);
    say(`daemon ready ${((Date.now() - upAt) / 1000).toFixed(1)} s after its container started`);
    expect(await httpStatus('http://127.0.0.1:8787/healthz')).toBe(200);
    for (const worker of [`${PROJECT}_worker_1`, `${PROJECT}_worker_2`]) {
      for (const route of ['healthz', 'readyz']) {
        const probe = `fetch('http://127.0.0.1:8788/${route}').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;
        await until(`${worker} /${route}`, () => {
          inside(worker, 'node', '-e', probe);
          return true;
        });
      }
      // The image's HEALTHCHECK as compose defines it (podman runs it on demand here: no systemd timers).
      podman('healthcheck', 'run', worker);
    }
    podman('healthcheck', 'run', `${PROJECT}_daemon_1`);
    // The API needs the token from outside loopback of the container: refused without it.
    expect(await httpStatus('http://127.0.0.1:8787/tracks')).toBe(401);
    expect(await httpStatus('http://127.0.0.1:8787/tracks', { authorization: `Bearer ${TOKEN}` })).toBe(200);
  });

  it('a failing pipeline run inside the stack reaches the mail sink once', async () => {
    // No wait after tracking: an experiment track takes every run created after it, whenever it first polls.
    cli('track', '--experiment', 'deploy1');
    runPipelineInside('fails', 'experiment: deploy1\nsteps:\n  - { name: train, run: "echo CUDA out of memory >&2; exit 3" }\n');
    await until('the failure mail', async () => (await mails()).some((m) => m.subject.includes('[Failed] train')));
    await quiet();
    const failures = (await mails()).filter((m) => m.subject.includes('[Failed] train'));
    expect(failures).toHaveLength(1);
  });

  it('a worker container killed mid-burst loses and duplicates nothing', async () => {
    cli('track', '--experiment', 'burst');
    const steps = Array.from({ length: 40 }, (_, i) => `  - { name: b${String(i).padStart(2, '0')}, run: "exit 1" }`).join('\n');
    const before = (await mails()).length;
    runPipelineInside('burst', `experiment: burst\nparallel: 40\nsteps:\n${steps}\n`);
    await until('the burst to start arriving', async () => (await mails()).length > before);
    podman('kill', '--signal', 'KILL', `${PROJECT}_worker_1`);
    say('worker 1 SIGKILLed mid-burst');
    const expected = Array.from({ length: 40 }, (_, i) => `[Failed] b${String(i).padStart(2, '0')}`);
    await until(
      'every burst failure mailed',
      async () => {
        const subjects = (await mails()).map((m) => m.subject);
        return expected.every((e) => subjects.some((s) => s.startsWith(e)));
      },
      180_000,
    );
    await quiet();
    const subjects = (await mails()).map((m) => m.subject);
    for (const e of expected) expect({ step: e, mails: subjects.filter((s) => s.startsWith(`${e} `)).length }).toEqual({ step: e, mails: 1 });
  });

  it('down within 15 s: PID 1 of the daemon and each worker drains and exits on SIGTERM (not killed)', () => {
    // podman-compose 1.0.3's `down` kills after 1 s: each process is first stopped as Docker would (SIGTERM, then
    // SIGKILL after the grace period) and must have exited by itself.
    const started = Date.now();
    for (const name of [`${PROJECT}_daemon_1`, `${PROJECT}_worker_2`]) {
      podman('stop', '-t', '15', name);
      const state = podman('inspect', '--format', '{{.State.ExitCode}}', name).trim();
      expect({ name, exitCode: state }).toEqual({ name, exitCode: '0' });
      expect(podman('logs', '--tail', '5', name)).toContain('"msg":"stopped"');
    }
    compose('down');
    const seconds = (Date.now() - started) / 1000;
    say(`down in ${seconds.toFixed(1)} s`);
    expect(seconds).toBeLessThan(15);
  });
});
