// Once after the whole suite: stops the redis-server global-setup.ts started, if it started one.
import type { ChildProcess } from 'node:child_process';

export default async function globalTeardown(): Promise<void> {
  const started = (globalThis as { __srwTestRedis__?: ChildProcess }).__srwTestRedis__;
  if (!started || started.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    started.once('exit', () => resolve());
    started.kill('SIGTERM');
  });
}
