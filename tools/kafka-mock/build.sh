#!/usr/bin/env bash
# Builds tools/bench-bin/kafka-mock (a librdkafka mock Kafka cluster driven over
# stdin/stdout) against the librdkafka bundled in @confluentinc/kafka-javascript.
# Rebuilds only when the binary is missing or older than kafka-mock.c.
# Prints the binary's path on stdout; diagnostics go to stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
src="$here/kafka-mock.c"
out_dir="$root/tools/bench-bin"
out="$out_dir/kafka-mock"
pkg="$root/node_modules/@confluentinc/kafka-javascript"
inc="$pkg/deps/librdkafka/src"
lib="$pkg/build/deps"

if [[ -x "$out" && ! "$src" -nt "$out" && "${KAFKA_MOCK_FORCE_BUILD:-}" == "" ]]; then
  echo "$out"
  exit 0
fi

if [[ ! -f "$inc/rdkafka_mock.h" ]]; then
  echo "kafka-mock build: $inc/rdkafka_mock.h not found." >&2
  echo "  The Kafka client package @confluentinc/kafka-javascript is not installed; run 'npm ci' in $root." >&2
  exit 1
fi
if ! compgen -G "$lib/librdkafka.so*" >/dev/null; then
  echo "kafka-mock build: no librdkafka shared library in $lib." >&2
  echo "  The Kafka client package @confluentinc/kafka-javascript is not built; run 'npm ci' in $root" >&2
  echo "  (building it from source needs: build-essential python3 libssl-dev zlib1g-dev libzstd-dev libsasl2-dev liblz4-dev libcurl4-openssl-dev)." >&2
  exit 1
fi
if [[ ! -e "$lib/librdkafka.so" ]]; then
  # Only the versioned soname exists: link against it explicitly.
  link=("$(ls "$lib"/librdkafka.so.* | head -n1)")
else
  link=(-L "$lib" -lrdkafka)
fi
if ! command -v "${CC:-cc}" >/dev/null; then
  echo "kafka-mock build: no C compiler ('${CC:-cc}'); install build-essential." >&2
  exit 1
fi

mkdir -p "$out_dir"
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
"${CC:-cc}" -O2 -g -Wall -Wextra -Wno-unused-parameter -Wno-ignored-qualifiers -std=c11 \
  -I "$inc" "$src" -o "$tmp" "${link[@]}" -Wl,-rpath,"$lib"
mv -f "$tmp" "$out" # atomic: concurrent builders never see a half-written binary
echo "kafka-mock build: built $out" >&2
echo "$out"
