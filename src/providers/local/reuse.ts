// Step reuse for local pipelines: same command and same input contents as an earlier Finished step.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from '../../fs/atomic';
import { Status } from '../../model/status';
import type { RunStore } from './store';

export interface ReuseSource {
  stepRunId: string;
  pipelineRunId: string;
  nodeId: string;
}

/** A digest of what decides a step's result: its name, command, output names, and every input file's bytes. */
export async function stepFingerprint(o: { name: string; run: string; outputs: Record<string, string>; inputs: string[]; cwd: string }): Promise<string> {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ name: o.name, run: o.run, outputs: o.outputs }));
  for (const input of [...o.inputs].sort()) {
    hash.update(`\0input\0${input}\0`);
    await hashTree(path.resolve(o.cwd, input), hash);
  }
  return hash.digest('hex');
}

async function hashTree(p: string, hash: ReturnType<typeof createHash>): Promise<void> {
  const stat = await fs.lstat(p).catch(() => undefined);
  if (!stat) return void hash.update('\0missing\0');
  if (stat.isFile()) return void hash.update(await fs.readFile(p));
  if (!stat.isDirectory()) return void hash.update('\0other\0');
  for (const name of (await fs.readdir(p)).sort()) {
    hash.update(`\0entry\0${name}\0`);
    await hashTree(path.join(p, name), hash);
  }
}

/** The earlier step run this fingerprint can reuse, if it is still there and Finished. */
export async function findReusable(store: RunStore, experiment: string, fingerprint: string): Promise<ReuseSource | undefined> {
  let source: ReuseSource;
  try {
    source = JSON.parse(await fs.readFile(store.reuseFile(experiment, fingerprint), 'utf8')) as ReuseSource;
  } catch {
    return undefined;
  }
  const step = await store.readStep(source.stepRunId, source.pipelineRunId).catch(() => undefined);
  return step?.status === Status.Finished ? source : undefined;
}

export async function rememberReusable(store: RunStore, experiment: string, fingerprint: string, source: ReuseSource): Promise<void> {
  await writeJsonAtomic(store.reuseFile(experiment, fingerprint), source);
}
