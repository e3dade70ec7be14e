#!/usr/bin/env node
'use strict';
// The installed command: runs the compiled CLI (npm ci builds it through the prepare script).
void require('../dist/src/cli/main.js')
  .main(process.argv)
  .then((ok) => {
    // A failed command must end: if a handle it opened is still alive, exit anyway once output has drained.
    if (!ok) setTimeout(() => process.exit(), 3000).unref();
  });
