#!/usr/bin/env node
'use strict';
// The installed command: runs the compiled CLI (npm ci builds it through the prepare script).
void require('../dist/src/cli/main.js').main(process.argv);
