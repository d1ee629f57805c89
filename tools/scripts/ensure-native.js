#!/usr/bin/env node
// Root postinstall: the Kafka client is a native addon, and npm may have built it for whichever Node
// ran the install (the machine's), not the project's Node 24 (node_modules/.bin/node). Check that it
// loads under the Node running this script (npm puts node_modules/.bin first on PATH) and rebuild it
// against Node 24's headers if it does not.
/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS script run by npm before anything is built */
'use strict';
const { execFileSync, execSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '../..');
function loads() {
  try {
    execFileSync(process.execPath, ['-e', "require('@confluentinc/kafka-javascript')"], {
      cwd: root,
      stdio: 'pipe',
    });
    return true;
  } catch (error) {
    return String(error.stderr || error.message);
  }
}

const first = loads();
if (first === true) process.exit(0);
console.log(
  `[stratum] the Kafka client does not load under Node ${process.version}; rebuilding it for this Node.`,
);
const headers = execFileSync(
  'bash',
  [path.join(root, 'tools/scripts/node-headers.sh'), process.versions.node],
  {
    cwd: root,
    encoding: 'utf8',
  },
).trim();
execSync('npm rebuild @confluentinc/kafka-javascript --foreground-scripts', {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, npm_config_nodedir: headers, CKJS_LINKING: process.env.CKJS_LINKING || 'dynamic' },
});
const second = loads();
if (second !== true) {
  console.error(
    '[stratum] the Kafka client still does not load. It needs a C/C++ toolchain and the libraries listed in\n' +
      'docs/operations.md (Debian: build-essential python3 libssl-dev zlib1g-dev libzstd-dev libsasl2-dev\n' +
      'libcurl4-openssl-dev liblz4-dev). Error:\n' +
      second,
  );
  process.exit(1);
}
