// Real Redis for tests: a unique key prefix per test file on the shared server, or a private redis-server to stop and restart.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { Redis } from 'ioredis';
import { waitFor } from './wait-for';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export function uniquePrefix(label: string): string {
  return `t_${label}_${randomBytes(4).toString('hex')}`;
}

/** A connection for the test itself; fails loudly (no silent skip) when Redis is not there. */
export function testRedis(url = REDIS_URL): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}

/** Deletes every key of a prefix (its hash tag is `{prefix}`): the same helper the benchmarks use. */
export { dropPrefix } from '../../bench/support';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/**
 * A free port for a cluster node: its bus port (10,000 higher) must exist and be free too — redis-server refuses a
 * port over 55535 in cluster mode, and the ephemeral range goes to 60999.
 */
async function freeClusterPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port <= 55535 && (await isFree(port + 10000))) return port;
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A redis-server of the test's own, with append-only persistence, that the test can stop and start again. */
export class PrivateRedis {
  private proc?: ChildProcess;

  constructor(
    readonly port: number,
    readonly dir: string,
    /** More redis-server arguments, e.g. ['--maxclients', '40']. */
    readonly extraArgs: string[] = [],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.proc = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--maxmemory-policy',
        'noeviction',
        ...this.extraArgs,
      ],
      { stdio: 'ignore' },
    );
    await this.waitUntilUp();
  }

  /** Resolves once the server answers PING. */
  async waitUntilUp(): Promise<void> {
    await waitFor(
      async () => {
        const r = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        r.on('error', () => undefined);
        try {
          await r.connect();
          return (await r.ping()) === 'PONG';
        } finally {
          r.disconnect();
        }
      },
      { what: `redis-server on ${this.port}` },
    );
  }

  /** SIGTERM: Redis flushes the append-only file and exits. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  }
}

/**
 * A local Redis Cluster of three masters (no replicas) on free ports, as `redis-cli --cluster create` builds one:
 * for the tests that must pass on a cluster too. Nothing is persisted; `stop` ends every node.
 */
export class LocalRedisCluster {
  private readonly procs: ChildProcess[] = [];
  ports: number[] = [];

  constructor(readonly dir: string) {}

  get nodes(): string[] {
    return this.ports.map((p) => `127.0.0.1:${p}`);
  }

  async start(): Promise<void> {
    this.ports = [await freeClusterPort(), await freeClusterPort(), await freeClusterPort()];
    for (const port of this.ports) {
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', this.dir, '--cluster-enabled', 'yes'];
      args.push('--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '5000', '--save', '', '--appendonly', 'no');
      this.procs.push(spawn('redis-server', args, { stdio: 'ignore' }));
    }
    for (const port of this.ports) await new PrivateRedis(port, this.dir).waitUntilUp();
    await new Promise<void>((resolve, reject) => {
      const create = spawn('redis-cli', ['--cluster', 'create', ...this.nodes, '--cluster-replicas', '0', '--cluster-yes'], { stdio: 'ignore' });
      // It waits for the nodes to meet with no end of its own: a test must fail with a reason, not by its timeout.
      const timer = setTimeout(() => create.kill('SIGKILL'), 30_000);
      create.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`redis-cli --cluster create on ${this.nodes.join(', ')} ${signal ? 'did not finish in 30 s' : `exited ${code}`}`));
      });
    });
    await waitFor(
      async () => {
        for (const port of this.ports) {
          const r = new Redis(`redis://127.0.0.1:${port}`, { maxRetriesPerRequest: 1 });
          try {
            if (!/cluster_state:ok/.test(String(await r.call('CLUSTER', 'INFO')))) return false;
          } finally {
            r.disconnect();
          }
        }
        return true;
      },
      { what: 'the cluster to be ok' },
    );
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.procs
        .filter((p) => p.exitCode === null)
        .map(
          (p) =>
            new Promise<void>((resolve) => {
              p.once('exit', () => resolve());
              p.kill('SIGTERM');
            }),
        ),
    );
  }
}
