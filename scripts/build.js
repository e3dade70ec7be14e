#!/usr/bin/env node
// Compiles the TypeScript sources to dist/, copies the Lua scripts beside the code that loads them, and builds the
// dashboard's front end (ui/, Vite) into dist/ui/. `--runtime` (the Docker image) compiles only src/ and workers/:
// the benchmarks and their test helpers stay out of the image.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const tsconfig = process.argv.includes('--runtime') ? 'tsconfig.runtime.json' : 'tsconfig.build.json';
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', tsconfig], {
  cwd: root,
  stdio: 'inherit',
});
const from = path.join(root, 'src/store/commands');
const to = path.join(root, 'dist/src/store/commands');
fs.mkdirSync(to, { recursive: true });
for (const name of fs.readdirSync(from)) {
  if (name.endsWith('.lua')) fs.copyFileSync(path.join(from, name), path.join(to, name));
}

// The dashboard's assets: built here, shipped in the package, served by the daemon (nothing fetched at run time).
execFileSync(process.execPath, [path.join(path.dirname(require.resolve('vite/package.json')), 'bin/vite.js'), 'build', '--config', 'ui/vite.config.mjs'], { cwd: root, stdio: 'inherit' });
