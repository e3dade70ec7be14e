// A Redis for a fresh machine: when nothing answers at a loopback URL, start a `redis-server` there (no persistence),
// or say at once what to install. The demo and the test suite's global setup use it; the daemon never does (in
// production a Redis that does not answer is an outage to report, not something to replace).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { RedisUnavailableError } from '../model/errors';

/** How to get Redis, said when none answers and none can be started. */
export const INSTALL_REDIS =
  'Install Redis 7: `sudo apt-get install redis-server` (Debian/Ubuntu), `brew install redis` (macOS), or `docker run -p 6379:6379 redis:7`; or set REDIS_URL';

/** True when a Redis answers PING at `url` (a plain redis:// URL) within `timeoutMs`. */
export function redisAnswers(url: string, timeoutMs = 1000): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || 6379) });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      // +PONG, or -NOAUTH from a Redis that wants a password: either way a Redis is there.
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH'));
    });
    socket.on('error', () => done(false));
  });
}

/**
 * Makes sure a Redis answers at `url`: returns undefined when one does, the started `redis-server` when none did and
 * the URL is on this machine. Throws RedisUnavailableError, naming what to install, when none can be started — at
 * once, never after waiting.
 */
export async function ensureLocalRedis(url: string, o: { redisServer?: string; say?(line: string): void } = {}): Promise<ChildProcess | undefined> {
  if (await redisAnswers(url)) return undefined;
  const { hostname, port } = new URL(url);
  const binary = o.redisServer ?? 'redis-server';
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(hostname)) throw new RedisUnavailableError(`${url} (not on this machine: not started here)`);
  if (spawnSync(binary, ['--version']).status !== 0) throw new RedisUnavailableError(`${url} and no redis-server binary was found. ${INSTALL_REDIS}`);
  o.say?.(`no Redis at ${url}: starting redis-server on port ${port || 6379} (no persistence)`);
  const child = spawn(binary, ['--port', port || '6379', '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (await redisAnswers(url, 200)) return child;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new RedisUnavailableError(`${url}: redis-server was started but does not answer`);
}
