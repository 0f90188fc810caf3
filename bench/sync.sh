#!/usr/bin/env bash
# make bench, sync part: push throughput next to the raw store limit measured in the same
# run, then bench/sync.mjs (catch-up, growth, long-poll). Prints Markdown (also written
# to build/bench/sync.md).
#   BENCH_SECONDS (default 5), BENCH_PULL_CHANGES (default 1000000), BENCH_WAITERS (5000),
#   BENCH_GROWTH_RECORDS (default 1000000)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
secs=${BENCH_SECONDS:-5}
work=$(mktemp -d /tmp/cairn-bench-sync-XXXXXX)
out="$root/build/bench"
mkdir -p "$out"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || true

# A fresh server with an empty data directory (so every push measurement starts from
# the same state as the raw program's), a user, and a token.
start_server() {
  [ -n "$pid" ] && { kill "$pid"; wait "$pid" 2>/dev/null || true; }
  start_cairn "$work/data" "$work/cairn.log" CAIRN_LOG_ACCESS=false
  pid=$cairn_pid
}

{
  # The headline: the shapes real clients send, against plain SQLite doing the same rows.
  echo "| push, the shapes clients send: UUID v4 ids, 150-250 B of JSON, batches of 1000, 100000 changes into an empty server | changes/s | vs plain SQLite | bytes written per change | vs plain SQLite |"
  echo "|---|---|---|---|---|"
  read -r raw_rps raw_bpc < <("$root/build/bench/raw_sqlite" "$work/raw.db" 100000 1000)
  rm -f "$work/raw.db" "$work/raw.db-wal" "$work/raw.db-shm"
  for c in 1 8; do
    start_server
    read -r rps bpc < <(node "$root/bench/uuid_push.mjs" "$base" "$token" "$pid" "$c" 100000 1000)
    echo "| $c client(s) | $rps | $(awk -v a="$rps" -v r="$raw_rps" 'BEGIN {printf "%.2fx", a / r}') | $bpc | $(awk -v a="$bpc" -v r="$raw_bpc" 'BEGIN {printf "%.2fx", a / r}') |"
  done
  echo "| plain SQLite (bench/raw_sqlite.c): the same rows in one table with one index, same batches, WAL, synchronous=FULL | $raw_rps | 1.00x | $raw_bpc | 1.00x |"
  echo
  echo "| catch-up (bench/catchup.mjs, the 100000 changes the 8 clients pushed) | bytes, time | |"
  echo "|---|---|---|"
  node "$root/bench/catchup.mjs" "$base" "$token"
  node "$root/bench/bootstrap.mjs" "$base" "$token" "$pid"
  echo
  start_server
  node "$root/bench/growth.mjs" "$base" "$token" "${BENCH_GROWTH_RECORDS:-1000000}"
  echo
  echo "| push, the clustered shape (wrk, ${secs}s each, durable commits; ids r1, r2, ..., 40-byte records) | changes/s | vs raw store limit |"
  echo "|---|---|---|"
  for b in 100 1000; do
    rm -rf "$work/raw"
    raw=$("$root/build/bench/raw_push" "$work/raw" "$b" $((b * 200)))
    for c in 1 8 64; do
      start_server
      t=$([ "$c" -eq 1 ] && echo 1 || echo 2)
      TOKEN=$token BATCH=$b RUN="b$b-c$c-$$" wrk -t"$t" -c"$c" -d"${secs}s" --timeout 30s -s "$root/bench/push.lua" \
        "$base/api/v1/spaces/me/changes" >"$work/wrk.out"
      rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.out")
      bad=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.out")
      cps=$(awk -v r="$rps" -v b="$b" 'BEGIN {printf "%.0f", r * b}')
      note=""
      [ -n "$bad" ] && note=" ($bad answers were not 2xx: not counted as valid)"
      echo "| batches of $b, $c client(s)$note | $cps | $(awk -v a="$cps" -v r="$raw" 'BEGIN {printf "%.2fx", a / r}') |"
    done
    echo "| raw: the same store calls without HTTP, batches of $b | $raw | 1.00x |"
  done
  echo
  start_server
  echo "| sync (bench/sync.mjs) | result | note |"
  echo "|---|---|---|"
  node "$root/bench/sync.mjs" "$base" "$token" "$pid"
  node "$root/bench/firstpull.mjs" "$base" "$token"
  echo
  start_server
  echo "| blob references in one push (bench/blobrefs.mjs) | time | note |"
  echo "|---|---|---|"
  node "$root/bench/blobrefs.mjs" "$base"
  echo
  echo "Machine: $(nproc) cores; cairn $("$root/build/cairn" version | cut -d' ' -f2); access log off."
  # this block runs in a subshell (the pipe): its server is not the one cleanup knows
  kill "$pid" 2>/dev/null || true
} | tee "$out/sync.md"
