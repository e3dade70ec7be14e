// Harvest retention: keep the newest N pipeline runs of an experiment, or those harvested within D days, and delete
// the rest — never a run whose harvest is in flight (it holds an `.in-flight` marker from start to end, in every
// process), and never the run just harvested.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { assertNotLinked } from '../../fs/safe-path';

export interface KeepPolicy {
  runs?: number;
  days?: number;
}

/** The folder inside a run's harvest folder whose entries mark harvests under way: `<delivery id>-<output>`. */
export const IN_FLIGHT = '.in-flight';

/** Marks a harvest of `runFolder` as under way until the returned function is called. */
export async function markInFlight(runFolder: string, id: string): Promise<() => Promise<void>> {
  const marker = path.join(runFolder, IN_FLIGHT, id);
  await fs.mkdir(path.dirname(marker), { recursive: true });
  await fs.writeFile(marker, `${process.pid} ${new Date().toISOString()}\n`);
  return async () => {
    await fs.rm(marker, { force: true });
    await fs.rmdir(path.dirname(marker)).catch(() => undefined); // only once empty: another harvest may hold it
  };
}

/**
 * Applies `keep` to the pipeline-run folders of one experiment folder. A run's age is its folder's last change (a
 * harvest writes into it). Returns the run folders deleted.
 */
export async function applyRetention(experimentFolder: string, keep: KeepPolicy, o: { now: number; current: string }): Promise<string[]> {
  // Never through a link: the run folders listed here are deleted, and must be the harvest folder's own.
  await assertNotLinked(experimentFolder);
  const names = await fs.readdir(experimentFolder).catch(() => [] as string[]);
  const runs = await Promise.all(
    names.map(async (name) => {
      const folder = path.join(experimentFolder, name);
      const st = await fs.lstat(folder).catch(() => undefined);
      return st?.isDirectory() ? { name, folder, mtimeMs: st.mtimeMs } : undefined;
    }),
  );
  const newestFirst = runs.filter((r) => r !== undefined).sort((a, b) => b.mtimeMs - a.mtimeMs || b.name.localeCompare(a.name));
  const deleted: string[] = [];
  for (const [i, run] of newestFirst.entries()) {
    const tooMany = keep.runs !== undefined && i >= keep.runs;
    const tooOld = keep.days !== undefined && o.now - run.mtimeMs > keep.days * 86_400_000;
    if (!tooMany && !tooOld) continue;
    if (run.name === o.current || (await inFlight(run.folder))) continue;
    await fs.rm(run.folder, { recursive: true, force: true });
    deleted.push(run.name);
  }
  return deleted;
}

async function inFlight(runFolder: string): Promise<boolean> {
  return (await fs.readdir(path.join(runFolder, IN_FLIGHT)).catch(() => [] as string[])).length > 0;
}
