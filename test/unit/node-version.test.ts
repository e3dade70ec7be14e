// The Node.js the package asks for and CI runs on (issue 38, item 11).
// Node 20 reached its end of life on 2026-04-30 and @sparticuz/chromium wants Node >= 22.17: the
// package says >= 22, and CI runs the whole suite on Node 24 from the registry's node-linux-<arch> package.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

it('package.json asks for Node 22.12 or later, and CI puts a pinned Node 24 from the registry first on PATH before npm ci', () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
  // 22.12: require() of an ES module without a flag (openid-client is one).
  expect(pkg.engines.node).toBe('>=22.12');
  const ci = readFileSync(path.join(ROOT, '.ci/run'), 'utf8');
  expect(ci).toMatch(/NODE24_VERSION=24\.\d+\.\d+\n/);
  expect(ci).toContain('npm install --prefix "$NODE24_DIR"');
  expect(ci.indexOf('export PATH="$NODE24_DIR')).toBeLessThan(ci.indexOf('npm ci --no-audit'));
});
