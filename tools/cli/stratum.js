#!/usr/bin/env node
// `stratum` — the command-line tool of the repository (root package.json "bin"; `npx stratum …`).
// Runs the TypeScript source through @swc-node/register, as the repo's other tools do, with the
// root tsconfig.json (path aliases such as @stratum/tosca) whatever the working directory.
/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS launcher */
'use strict';
const path = require('node:path');

process.env.SWC_NODE_PROJECT = process.env.SWC_NODE_PROJECT || path.join(__dirname, '../../tsconfig.json');
require('@swc-node/register');
const { main } = require('./src/main.ts');

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`stratum: internal error: ${error && error.stack ? error.stack : error}\n`);
    process.exitCode = 70;
  },
);
