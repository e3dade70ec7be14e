#!/usr/bin/env node
'use strict';
// The installed command: runs the compiled CLI (npm ci builds it through the prepare script).
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // The one answer that needs nothing else: no module of the CLI is loaded for it.
  process.stdout.write(`${require('../package.json').version}\n`);
} else {
  void require('../dist/src/cli/main.js')
    .main(process.argv)
    .then((ok) => {
      // A failed command must end: if a handle it opened is still alive, exit anyway once output has drained.
      if (!ok) setTimeout(() => process.exit(), 3000).unref();
    });
}
