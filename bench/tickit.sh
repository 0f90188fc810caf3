#!/usr/bin/env bash
# make bench, tickit part (issue 15): bench/tickit.mjs against a fresh server. Prints
# Markdown (also written to build/bench/tickit.md).
#   BENCH_TASKS (default 10000)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/cairn-bench-tickit-XXXXXX")
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
  echo "| tickit (loopback, ${BENCH_TASKS:-10000} tasks) | measured | baseline (native API, same rows, same run) | ratio |"
  echo "|---|---|---|---|"
  node "$root/bench/tickit.mjs" "$base" "$token"
  echo
  echo "Machine: $(nproc) cores; cairn $("$root/build/cairn" version | cut -d' ' -f2); access log off."
} | tee "$out/tickit.md"
