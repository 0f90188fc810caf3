#!/usr/bin/env bash
# make bench, messages part: bench/messages.mjs against a fresh server whose password
# hashing is cheap (the bench registers 10,000 users; hashing is not what it measures).
# Prints Markdown (also written to build/bench/messages.md).
#   BENCH_CONVERSATIONS (default 10000)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/cairn-bench-messages-XXXXXX")
out="$root/build/bench"
mkdir -p "$out"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
start_cairn "$work/data" "$work/cairn.log" CAIRN_LOG_ACCESS=false CAIRN_AUTH_PASSWORD_MEMORY=8KiB \
  CAIRN_AUTH_PASSWORD_PASSES=1
pid=$cairn_pid
{
  echo "| messages (loopback) | measured | target |"
  echo "|---|---|---|"
  node "$root/bench/messages.mjs" "$base"
  echo
  echo "Machine: $(nproc) cores; cairn $("$root/build/cairn" version | cut -d' ' -f2); access log off; password hashing made cheap for the setup."
} | tee "$out/messages.md"
