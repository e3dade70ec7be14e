// The local run store's change feed: every write of a run record also touches one small marker file per pipeline
// run in `runs/changes/`, named `<experiment>@<pipelineRunId>`. The daemon watches that one folder (one inotify
// watch, whatever the number of runs) and hints the run's tracks. A marker says "look now", never what changed:
// a missed or merged file event only means the run is seen at its next regular poll.
import { promises as fs, mkdirSync, utimesSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import * as path from 'node:path';
import type { ChangedRun } from '../../model/provider';

/** Markers not rewritten for this long are removed when a watch starts: their runs ended long ago. */
const MARKER_KEEP_MS = 7 * 86_400_000;

export function changesDir(root: string): string {
  return path.join(root, 'changes');
}

/**
 * Marks a pipeline run as changed by touching its marker (a new mtime: inotify reports it as a change, and the
 * prune below reads it). Touching, not rewriting: truncating and rewriting a file that has data makes ext4 flush
 * it on close, which cost 40 times more (docs/PERFORMANCE.md). Synchronous, as in src/fs/atomic.ts.
 */
export async function noteChange(root: string, experiment: string, pipelineRunId: string): Promise<void> {
  const marker = path.join(changesDir(root), `${experiment}@${pipelineRunId}`);
  const now = new Date();
  try {
    utimesSync(marker, now, now);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(changesDir(root), { recursive: true });
    writeFileSync(marker, '');
  }
}

/** Watches the markers; calls `onChange` for each run whose marker was written. Returns the function that stops it. */
export async function watchChanges(root: string, onChange: (run: ChangedRun) => Promise<void>, onError: (err: Error) => void): Promise<() => Promise<void>> {
  const dir = changesDir(root);
  await fs.mkdir(dir, { recursive: true });
  await pruneOldMarkers(dir).catch(onError);
  let watcher: FSWatcher | undefined = watch(dir, { persistent: false }, (_event, name) => {
    const match = name ? /^([^@]+)@(.+)$/.exec(name.toString()) : null;
    if (match) onChange({ experiment: match[1], pipelineRunId: match[2] }).catch(onError);
  });
  watcher.on('error', onError);
  return async () => {
    watcher?.close();
    watcher = undefined;
  };
}

async function pruneOldMarkers(dir: string): Promise<void> {
  const cutoff = Date.now() - MARKER_KEEP_MS;
  for (const name of await fs.readdir(dir)) {
    const file = path.join(dir, name);
    const stat = await fs.stat(file).catch(() => undefined);
    if (stat && stat.mtimeMs < cutoff) await fs.rm(file, { force: true });
  }
}
