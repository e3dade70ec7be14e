// A daemon per test on its own prefix, with the helpers the fault tests share: track a run, read the outbox.
import * as path from 'node:path';
import type { Daemon } from '../../src/runtime/daemon';
import { LocalProvider } from '../../src/providers/local/provider';
import type { WatchEvent } from '../../src/store/events';
import { Keys } from '../../src/store/keys';
import { TrackStore, trackFromRequest } from '../../src/store/tracks';
import { systemClock } from '../../src/util/clock';
import { startDaemon, testConfig } from './daemon';
import { dropPrefix, testRedis, uniquePrefix } from './redis';
import { tempDir } from './tmp';
import { outboxEvents } from './outbox';

export class FaultRig {
  readonly redis = testRedis();
  private readonly prefixes: string[] = [];

  /** A daemon on the test config plus `extra`, on a prefix of its own. */
  async daemonWith(extra: Record<string, unknown>): Promise<{ daemon: Daemon; prefix: string; keys: Keys; dataDir: string; local: LocalProvider }> {
    const prefix = uniquePrefix('fault');
    this.prefixes.push(prefix);
    const dataDir = tempDir('fault');
    const daemon = await startDaemon(testConfig({ prefix, dataDir, extra }));
    return { daemon, prefix, keys: new Keys(prefix), dataDir, local: new LocalProvider({ root: path.join(dataDir, 'runs') }) };
  }

  async trackRun(keys: Keys, o: { provider?: string; pipelineRun: string; labels?: Record<string, string> }): Promise<void> {
    await new TrackStore(this.redis, keys, systemClock).add(
      trackFromRequest({ provider: o.provider ?? 'local', pipelineRun: o.pipelineRun, labels: o.labels }, 'cli', Date.now()),
    );
  }

  async events(keys: Keys): Promise<WatchEvent[]> {
    return outboxEvents(this.redis, keys);
  }

  async close(): Promise<void> {
    for (const p of this.prefixes) await dropPrefix(this.redis, p);
    this.redis.disconnect();
  }
}
