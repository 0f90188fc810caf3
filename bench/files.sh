#!/usr/bin/env bash
# make bench, file part (issue 13): end-to-end file sync on loopback.
#  - many small files: `cairn sync` of a copy of /usr/share/doc into an empty space, files/s
#    (best of BENCH_ROUNDS, a new user's space each round); then a second sync with nothing
#    changed: requests and seconds;
#  - one large file: PUT .../content of BENCH_BIG_MIB (default 1024) MiB next to
#    `openssl dgst -sha256` of the same file in the same run, and the server's peak RSS
#    for it next to that of a 16 MiB upload (memory flat in the size);
#  - edit deduplication: 1 KiB changed in the middle of a 256 MiB file, through `cairn
#    sync` (bytes sent, bytes newly stored) and through PUT .../content (bytes newly
#    stored), against 3 average chunks.
# Prints Markdown (also written to build/bench/files.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
rounds=${BENCH_ROUNDS:-3}
big_mib=${BENCH_BIG_MIB:-1024}
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/cairn-bench-files-XXXXXX")
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
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }
user_token() { # a new user's token
  curl -sf -XPOST "$base/api/v1/auth/register" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"bench password\"}" >/dev/null
  curl -sf -XPOST "$base/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"bench password\"}" | sed 's/.*"access_token":"\([^"]*\)".*/\1/'
}
sync_run() { # DIR TOKEN: runs cairn sync, prints its summary line
  CAIRN_SYNC_TOKEN=$2 "$root/build/cairn" sync "$1" --server "$base" >/dev/null 2>"$work/sync.err" || {
    cat "$work/sync.err" >&2
    exit 1
  }
  grep 'cairn sync:' "$work/sync.err" | tail -1
}
field() { sed -n "s/.* \([0-9.]*\) $1.*/\1/p"; } # the number before a word of the summary
blob_bytes() { find "$work/data/blobs" -path '*/tmp' -prune -o -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }
hwm_kib() { awk '/VmHWM/ {print $2}' "/proc/$pid/status"; }

# --- many small files ---
cp -a /usr/share/doc "$work/doc"
nfiles=$(find "$work/doc" \( -type f -o -type l -o -type d -empty \) | wc -l)
best_rate=0 best_line=""
for r in $(seq "$rounds"); do
  rm -rf "$work/doc/.cairn-sync"
  tok=$(user_token "small$r")
  t0=$(now)
  line=$(sync_run "$work/doc" "$tok")
  t1=$(now)
  rate=$(awk -v n="$nfiles" -v s="$(secs "$t0" "$t1")" 'BEGIN {printf "%.0f", n / s}')
  if [ "$rate" -gt "$best_rate" ]; then best_rate=$rate best_line=$line best_s=$(secs "$t0" "$t1"); fi
done
t0=$(now)
again=$(sync_run "$work/doc" "$tok")
t1=$(now)
again_req=$(echo "$again" | field requests)
again_s=$(secs "$t0" "$t1")

# --- one large file ---
head -c $((big_mib * 1048576)) /dev/urandom >"$work/big"
head -c $((16 * 1048576)) /dev/urandom >"$work/small16"
openssl dgst -sha256 "$work/big" >/dev/null # cached for both readers
t0=$(now); openssl dgst -sha256 "$work/big" >/dev/null; t1=$(now)
sha_mbps=$(awk -v b=$((big_mib * 1048576)) -v s="$(secs "$t0" "$t1")" 'BEGIN {printf "%.0f", b / s / 1048576}')
echo 5 >"/proc/$pid/clear_refs"
curl -sf -H "Authorization: Bearer $token" -T "$work/small16" "$base/api/v1/spaces/me/content/small16" -o /dev/null
hwm16=$(hwm_kib)
echo 5 >"/proc/$pid/clear_refs"
t0=$(now)
curl -sf -H "Authorization: Bearer $token" -T "$work/big" "$base/api/v1/spaces/me/content/big" -o /dev/null
t1=$(now)
hwm_big=$(hwm_kib)
put_mbps=$(awk -v b=$((big_mib * 1048576)) -v s="$(secs "$t0" "$t1")" 'BEGIN {printf "%.0f", b / s / 1048576}')

# --- edit deduplication ---
avg=$(curl -sf "$base/api/v1/limits" | sed 's/.*"file_chunk_avg":\([0-9]*\).*/\1/')
mkdir -p "$work/edit"
head -c 268435456 /dev/urandom >"$work/edit/big.bin"
tok=$(user_token "editor")
sync_run "$work/edit" "$tok" >/dev/null
stored0=$(blob_bytes)
printf '%1024s' | tr ' ' 'x' | dd of="$work/edit/big.bin" bs=1 seek=134217728 conv=notrunc status=none
line=$(sync_run "$work/edit" "$tok")
sync_sent=$(echo "$line" | field 'bytes sent')
sync_stored=$(($(blob_bytes) - stored0))
cp "$work/edit/big.bin" "$work/put.bin"
curl -sf -H "Authorization: Bearer $token" -T "$work/put.bin" "$base/api/v1/spaces/me/content/put.bin" -o /dev/null
# five edits at spread offsets, each stored anew: where cuts move depends on the bytes
# around the edit, so one edit alone is luck
put_all=()
for off in 11111111 60000000 100000000 170000017 250000000; do
  stored0=$(blob_bytes)
  head -c 1024 /dev/urandom | dd of="$work/put.bin" bs=1 seek=$off conv=notrunc status=none
  curl -sf -H "Authorization: Bearer $token" -T "$work/put.bin" "$base/api/v1/spaces/me/content/put.bin" -o /dev/null
  put_all+=($(($(blob_bytes) - stored0)))
done
put_stored=$(printf '%s\n' "${put_all[@]}" | sort -n | tail -1)
put_mean=$(printf '%s\n' "${put_all[@]}" | awk '{s += $1} END {printf "%d", s / NR}')

mib() { awk -v b="$1" 'BEGIN {printf "%.2f MiB", b / 1048576}'; }
chunks() { awk -v b="$1" -v a="$avg" 'BEGIN {printf "%.2f", b / a}'; }
{
  echo "| file sync (loopback) | measured | baseline | ratio or target |"
  echo "|---|---|---|---|"
  echo "| \`cairn sync\` of /usr/share/doc ($nfiles files, links, empty dirs) into an empty space, best of $rounds | $best_rate files/s ($best_s s) | target 2,000 files/s | $(awk -v r="$best_rate" 'BEGIN {printf "%.2fx", r / 2000}') of the target |"
  echo "| second \`cairn sync\`, nothing changed | $again_req requests, $again_s s | | |"
  echo "| PUT .../content of $big_mib MiB | $put_mbps MB/s | openssl dgst -sha256: $sha_mbps MB/s | $(awk -v a="$put_mbps" -v b="$sha_mbps" 'BEGIN {printf "%.2fx", a / b}') (target 0.6x) |"
  echo "| server peak RSS during it | $((hwm_big / 1024)) MiB | 16 MiB upload: $((hwm16 / 1024)) MiB | $(awk -v a="$hwm_big" -v b="$hwm16" 'BEGIN {printf "%.2fx", a / b}') |"
  echo "| 1 KiB edited in a 256 MiB file, \`cairn sync\`: bytes sent | $(mib "$sync_sent") | 3 average chunks: $(mib $((3 * avg))) | $(chunks "$sync_sent") chunks |"
  echo "| the same: bytes newly stored | $(mib "$sync_stored") | $(mib $((3 * avg))) | $(chunks "$sync_stored") chunks |"
  echo "| 1 KiB edited at 5 offsets, PUT .../content: bytes newly stored, worst (mean) | $(mib "$put_stored") ($(mib "$put_mean")) | $(mib $((3 * avg))) | $(chunks "$put_stored") ($(chunks "$put_mean")) chunks |"
  echo
  echo "First sync: $best_line"
  echo "Machine: $(nproc) cores; cairn $("$root/build/cairn" version | cut -d' ' -f2); access log off; data in $(df --output=source "$work" | tail -1)."
} | tee "$out/files.md"
