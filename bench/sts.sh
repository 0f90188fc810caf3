#!/usr/bin/env bash
# make bench, sync_server_ts part (issue 15): bench/sts.mjs against a fresh server. Prints
# Markdown (also written to build/bench/sts.md).
#   BENCH_STS_ROWS (default 20000)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/cairn-bench-sts-XXXXXX")
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
  echo "| sync_server_ts protocol (loopback, ${BENCH_STS_ROWS:-20000} rows) | measured | native API, same rows, same run | ratio | against sync_server_ts |"
  echo "|---|---|---|---|---|"
  node "$root/bench/sts.mjs" "$base"
  echo
  echo "Machine: $(nproc) cores; cairn $("$root/build/cairn" version | cut -d' ' -f2); access log off."
} | tee "$out/sts.md"
