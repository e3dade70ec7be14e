// Azurite (Microsoft's storage emulator) for real Blob and Queue API tests; always started with --disableTelemetry.
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { freePort } from './redis';
import { waitFor } from './wait-for';

/** The well-known development account of the emulator. */
export const DEV_ACCOUNT = 'devstoreaccount1';
export const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export class Azurite {
  private proc?: ChildProcess;
  port = 0;

  /**
   * One service of the emulator: blob (default) or queue. With `tls` it answers HTTPS with that certificate (PEM
   * files), and with `oauth` it takes Entra bearer tokens too (Azurite's `--oauth basic`: audience, issuer and
   * lifetime are checked, not the signature; it needs HTTPS).
   */
  constructor(
    private readonly service: 'blob' | 'queue' = 'blob',
    private readonly o: { tls?: { cert: string; key: string }; oauth?: boolean } = {},
  ) {}

  get blobUrl(): string {
    return `${this.o.tls ? 'https' : 'http'}://127.0.0.1:${this.port}/${DEV_ACCOUNT}`;
  }

  /** The URL of a queue of the development account (queue service). */
  queueUrl(name: string): string {
    return `http://127.0.0.1:${this.port}/${DEV_ACCOUNT}/${name}`;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    const s = this.service;
    // The package's own entry of the service (found from tests and from dist/, where the benchmarks run).
    const pkg = require.resolve('azurite/package.json');
    const bin = path.join(path.dirname(pkg), (require(pkg) as { bin: Record<string, string> }).bin[`azurite-${s}`]!);
    this.proc = spawn(
      process.execPath,
      [
        bin,
        `--${s}Host`,
        '127.0.0.1',
        `--${s}Port`,
        String(this.port),
        '--inMemoryPersistence',
        '--disableTelemetry',
        '--skipApiVersionCheck',
        '--silent',
        ...(this.o.tls ? ['--cert', this.o.tls.cert, '--key', this.o.tls.key] : []),
        ...(this.o.oauth ? ['--oauth', 'basic'] : []),
      ],
      { stdio: 'ignore' },
    );
    await waitFor(
      () =>
        new Promise<boolean>((resolve) => {
          const socket = net.connect(this.port, '127.0.0.1', () => {
            socket.end();
            resolve(true);
          });
          socket.on('error', () => resolve(false));
        }),
      { what: 'azurite' },
    );
  }

  async stop(): Promise<void> {
    if (!this.proc || this.proc.exitCode !== null) return;
    await new Promise<void>((r) => {
      this.proc!.once('exit', () => r());
      this.proc!.kill('SIGTERM');
      // Azurite waits for open connections before it exits: a test that left one must not hang its teardown.
      setTimeout(() => this.proc!.kill('SIGKILL'), 5000).unref();
    });
  }
}
