#!/usr/bin/env bash
# make bench, Verstak part (issue 16): bench/verstak.mjs against a fresh server. Prints
# Markdown (also written to build/bench/verstak.md).
#   BENCH_VERSTAK_OPS (default 100000)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/cairn-bench-verstak-XXXXXX")
out="$root/build/bench"
mkdir -p "$out"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
start_cairn "$work/data" "$work/cairn.log" CAIRN_LOG_ACCESS=false
pid=$cairn_pid
{
  echo "| Verstak protocol (loopback, ${BENCH_VERSTAK_OPS:-100000} ops, batches of 100) | measured | native API, same data, same run | ratio |"
  echo "|---|---|---|---|"
  node "$root/bench/verstak.mjs" "$base"
  echo
  echo "Machine: $(nproc) cores; cairn $("$root/build/cairn" version | cut -d' ' -f2); access log off."
} | tee "$out/verstak.md"
