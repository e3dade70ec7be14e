// The docs read against the code they describe (issue 38, item 16).
// the docs drifted from the code — PLUGINS.md's list of built-in notifiers lacked `slack`,
// PROVIDERS.md cited a file outside the repository, the README's list of test kinds lacked fuzz. Each is read here
// from the code it describes.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { builtinNotifiers } from '../../src/notify/builtin';

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

it('PLUGINS.md names every built-in notifier type', () => {
  const listed = /Built-in types \(([^)]*)\)/.exec(read('docs/PLUGINS.md').replace(/\n/g, ' '))![1]!;
  for (const type of builtinNotifiers()
    .types()
    .filter((t) => t !== 'module'))
    expect([type, listed]).toEqual([type, expect.stringContaining(`\`${type}\``)]);
});

it('the README and docs/ stand alone: no link or citation into a folder outside the repository', () => {
  const files = [
    'README.md',
    ...readdirSync(path.join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  for (const file of files) expect([file, read(file).match(/\.\.\/shared\/\S*/g)]).toEqual([file, null]);
});

it('the README’s test command names every kind of test the suite has', () => {
  const config = require(path.join(ROOT, 'jest.config.js')) as { projects: { displayName: string }[] };
  const line = read('README.md')
    .split('\n')
    .find((l) => l.startsWith('npm test'))!;
  for (const { displayName } of config.projects) {
    const word = displayName === 'e2e' ? 'end-to-end' : displayName;
    expect([displayName, line]).toEqual([displayName, expect.stringContaining(word)]);
  }
});

it('docs/ARCHITECTURE.md names every source file (commands and dashboard pages by their folder’s one-file-each rule)', () => {
  const doc = read('docs/ARCHITECTURE.md');
  const walk = (dir: string): string[] =>
    readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((d) =>
      d.isDirectory() ? walk(`${dir}/${d.name}`) : d.name.endsWith('.ts') ? [`${dir}/${d.name}`] : [],
    );
  const unnamed = [...walk('src'), ...walk('workers')].filter((f) => !/\/(commands|pages)\/[^/]+\.ts$/.test(f)).filter((f) => !doc.includes(path.basename(f)));
  expect(unnamed).toEqual([]);
});
