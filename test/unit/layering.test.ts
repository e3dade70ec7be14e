// The house rules of docs/ARCHITECTURE.md, checked on the imports themselves (issue 15).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

const SRC = path.resolve(__dirname, '../../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : full.endsWith('.ts') ? [full] : [];
  });
}

/** Every relative import of a file, as a path under src/ (no extension). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/from '(\.[^']+)'/g)].map((m) => path.relative(SRC, path.resolve(path.dirname(file), m[1]!)));
}

function violations(folder: string, forbidden: (target: string) => boolean): string[] {
  return files(path.join(SRC, folder)).flatMap((f) =>
    importsOf(f)
      .filter(forbidden)
      .map((t) => `${path.relative(SRC, f)} -> ${t}`),
  );
}

/** The table of docs/ARCHITECTURE.md: folder -> the folders it may import (null: anything). */
function allowedEdges(): Map<string, string[] | null> {
  const doc = readFileSync(path.join(SRC, '../docs/ARCHITECTURE.md'), 'utf8');
  const section = doc.slice(doc.indexOf('### Folder dependencies'));
  return new Map(
    [...section.matchAll(/^\| `(\w+)` \| (.+) \|$/gm)].map((m) => [
      m[1]!,
      m[2]!.includes('anything') ? null : [...m[2]!.matchAll(/`([\w-]+)`/g)].map((x) => x[1]!),
    ]),
  );
}

describe('layering', () => {
  it('model/ imports no provider: the RunProvider interface is the model’s own (model/provider.ts)', () => {
    expect(violations('model', (t) => t.startsWith('providers/'))).toEqual([]);
  });

  it('every folder imports only what the table of docs/ARCHITECTURE.md allows, and the table names every folder', () => {
    const allowed = allowedEdges();
    const folders = readdirSync(SRC).filter((n) => statSync(path.join(SRC, n)).isDirectory());
    expect([...allowed.keys()].sort()).toEqual(folders.sort());
    const broken: string[] = [];
    for (const folder of folders) {
      const may = allowed.get(folder);
      if (may === null) continue;
      const ok = new Set([folder, ...may!]);
      for (const file of files(path.join(SRC, folder)))
        for (const target of importsOf(file)) {
          const top = target.includes('/') ? target.split('/')[0]! : target;
          if (!ok.has(top)) broken.push(`${path.relative(SRC, file)} -> ${target}`);
        }
    }
    expect(broken).toEqual([]);
  });

  it('the table allows only edges some import uses, and has no cycle', () => {
    const allowed = allowedEdges();
    const used = new Set<string>();
    for (const folder of allowed.keys())
      for (const file of files(path.join(SRC, folder)))
        for (const target of importsOf(file)) if (target.includes('/')) used.add(`${folder} -> ${target.split('/')[0]}`);
    const unused = [...allowed].flatMap(([folder, may]) => (may ?? []).map((t) => `${folder} -> ${t}`)).filter((edge) => !used.has(edge));
    expect(unused).toEqual([]);
    // A depth-first walk of the table: a folder met again while it is being walked closes a cycle.
    const cycles: string[] = [];
    const walk = (folder: string, trail: string[]) => {
      if (trail.includes(folder)) return void cycles.push([...trail, folder].join(' -> '));
      for (const next of allowed.get(folder) ?? []) walk(next, [...trail, folder]);
    };
    for (const folder of allowed.keys()) walk(folder, []);
    expect(cycles).toEqual([]);
  });

  it('notify/ and alerts/ import nothing from watch/', () => {
    expect([...violations('notify', (t) => t.startsWith('watch/')), ...violations('alerts', (t) => t.startsWith('watch/'))]).toEqual([]);
  });

  it('store/ (keys, ids, scripts, the outbox) depends on no stage of the flow', () => {
    expect(violations('store', (t) => /^(watch|notify|alerts|api|cli)\//.test(t) || t === 'daemon')).toEqual([]);
  });

  it('model/ and providers/ know nothing of Redis or BullMQ', () => {
    const bad = [...files(path.join(SRC, 'model')), ...files(path.join(SRC, 'providers'))].filter((f) =>
      /from '(ioredis|bullmq)'/.test(readFileSync(f, 'utf8')),
    );
    expect(bad.map((f) => path.relative(SRC, f))).toEqual([]);
  });

  it('no source file is over 300 lines (issue 15: small modules with one job)', () => {
    const long = files(SRC)
      .map((f) => [path.relative(SRC, f), readFileSync(f, 'utf8').split('\n').length - 1] as const)
      .filter(([, lines]) => lines > 300);
    expect(long).toEqual([]);
  });
});
