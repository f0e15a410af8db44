#!/usr/bin/env node
'use strict';
// The `servetune` command. The CLI is TypeScript, run through tsx's require hook (no build step).
require('tsx/cjs');
const { run } = require('../cli/main.ts');

run(process.argv).then((code) => {
  process.exitCode = code;
});
