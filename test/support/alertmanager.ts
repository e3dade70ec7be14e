// Debian's prometheus-alertmanager and amtool, the real thing: found on PATH (.ci/run installs them), run by tests.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from './wait-for';

const run = promisify(execFile);

/** The binary's path, or undefined where it is not installed (the tests then say so and what to install). */
export function binary(name: 'amtool' | 'prometheus-alertmanager'): string | undefined {
  return ['/usr/bin', '/usr/local/bin', '/bin'].map((dir) => path.join(dir, name)).find((p) => existsSync(p));
}

export const NOT_INSTALLED = 'Debian package prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager; .ci/run does)';

/** amtool against `url`, with a bearer token through its HTTP config file when given; stdout, stderr and exit code. */
export async function amtool(url: string, args: string[], o: { token?: string; dir: string }): Promise<{ stdout: string; stderr: string; code: number }> {
  const extra: string[] = [];
  if (o.token) {
    const file = path.join(o.dir, 'amtool-http.yaml');
    writeFileSync(file, `authorization:\n  type: Bearer\n  credentials: ${o.token}\n`);
    extra.push(`--http.config.file=${file}`);
  }
  try {
    const { stdout, stderr } = await run(binary('amtool')!, [`--alertmanager.url=${url}`, ...extra, ...args], { timeout: 30_000 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : 1 };
  }
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** A single-node Alertmanager on a port of its own, storing in `dir`; `url` once it answers. */
export class Alertmanager {
  url = '';
  private child?: ChildProcess;
  output = '';

  constructor(private readonly dir: string) {}

  async start(o: { resolveTimeout?: string } = {}): Promise<string> {
    const port = await freePort();
    const config = path.join(this.dir, 'alertmanager.yml');
    writeFileSync(config, `global:\n  resolve_timeout: ${o.resolveTimeout ?? '5m'}\nroute:\n  receiver: none\nreceivers:\n  - name: none\n`);
    this.child = spawn(
      binary('prometheus-alertmanager')!,
      [`--config.file=${config}`, `--storage.path=${path.join(this.dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child.stdout!.on('data', (c: Buffer) => (this.output += c.toString()));
    this.child.stderr!.on('data', (c: Buffer) => (this.output += c.toString()));
    this.url = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${this.url}/-/ready`).catch(() => undefined))?.ok, {
      timeoutMs: 20_000,
      what: `alertmanager ready (${this.output.slice(-300)})`,
    });
    return this.url;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }
}
