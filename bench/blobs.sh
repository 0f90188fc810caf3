#!/usr/bin/env bash
# make bench, blob part: upload and download MB/s for 1 MiB and 256 MiB blobs next to the
# hardware in the same run (uploads against the slower of `openssl dgst -sha256` of the
# bytes and a direct write of them, `dd oflag=direct bs=1M`; downloads against nginx
# serving the same files with sendfile to the same curl), and the server's peak memory
# while 16 uploads run at once (16 MiB and 256 MiB each, to show it is flat in the blob
# size). Prints Markdown (also written to build/bench/blobs.md).
#   BENCH_SMALL (default 64): how many 1 MiB blobs; BENCH_ROUNDS (default 3): best of.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
small=${BENCH_SMALL:-64}
rounds=${BENCH_ROUNDS:-3}
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/cairn-bench-blobs-XXXXXX")
out="$root/build/bench"
mkdir -p "$out" "$work/small" "$work/copy"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_cairn "$work/data" "$work/cairn.log" CAIRN_LOG_ACCESS=false
pid=$cairn_pid
base="$base/api/v1"
auth="Authorization: Bearer $token"

# nginx serves the blob directory itself, so both servers send the very same files (its
# workers run as this user: the data directory is private)
nginx_port=$(free_port)
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<NGX
worker_processes 2;
daemon off;
user $(id -un);
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  default_type application/octet-stream;
  server { listen 127.0.0.1:$nginx_port; root $work/data/blobs; }
}
NGX
/usr/sbin/nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
nginx_pid=$!
trap 'kill $nginx_pid 2>/dev/null || true; cleanup' EXIT

now() { date +%s.%N; }
mbps() { awk -v b="$1" -v s="$2" 'BEGIN {printf "%.0f", b / s / 1048576}'; }
best() { sort -n | tail -1; }

# The data: distinct random blobs, new for every round, read once so that every reader
# finds them cached.
for i in $(seq "$small"); do : >"$work/small/$i"; done

one_round() { # $1: label, $2: list of files; prints "sha direct upload download nginx" MB/s
  local files=("${@:2}") bytes=0 t0 t1 f
  for f in "${files[@]}"; do bytes=$((bytes + $(stat -c %s "$f"))); done
  t0=$(now); openssl dgst -sha256 -r "${files[@]}" >"$work/sums"; t1=$(now)
  local sha_r; sha_r=$(mbps "$bytes" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
  rm -f "$work/copy/out"
  # one dd per file, straight from the file (a pipe in between halved dd's rate here)
  t0=$(now)
  for f in "${files[@]}"; do dd if="$f" of="$work/copy/out" bs=1M oflag=direct status=none; done
  t1=$(now)
  local dir_r; dir_r=$(mbps "$bytes" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
  rm -f "$work/copy/out"
  # one curl process, one keep-alive connection, the files one after another
  local args=() gets=() ngets=() h
  while read -r h f; do
    f=${f#\*}
    args+=(-T "$f" "$base/blobs/$h")
    gets+=(-o /dev/null "$base/blobs/$h")
    ngets+=(-o /dev/null "http://127.0.0.1:$nginx_port/${h:0:2}/${h:2:2}/$h")
  done <"$work/sums"
  t0=$(now); curl -sf -H "$auth" "${args[@]}" >/dev/null || { echo "upload failed" >&2; exit 1; }; t1=$(now)
  local up_r; up_r=$(mbps "$bytes" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
  curl -sf -H "$auth" "${gets[@]}" # once to read them into the page cache (uploads bypass it)
  t0=$(now); curl -sf -H "$auth" "${gets[@]}" || { echo "download failed" >&2; exit 1; }; t1=$(now)
  local down_r; down_r=$(mbps "$bytes" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
  t0=$(now); curl -sf "${ngets[@]}" || { echo "nginx: download failed" >&2; exit 1; }; t1=$(now)
  local ngx_r; ngx_r=$(mbps "$bytes" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
  echo "$sha_r $dir_r $up_r $down_r $ngx_r"
}

row() { # $1: label, rest: files
  local label=$1 r sha_b=0 dir_b=0 up_b=0 down_b=0 ngx_b=0
  shift
  for _ in $(seq "$rounds"); do
    # fresh content each round, so every upload stores a new blob
    if [ "$label" = "256 MiB" ]; then
      head -c 268435456 /dev/urandom >"$work/big"
    else
      for i in $(seq "$small"); do head -c 1048576 /dev/urandom >"$work/small/$i"; done
    fi
    cat "$@" >/dev/null
    r=$(one_round "$label" "$@") || exit 1
    read -r s d u g n <<<"$r"
    [ "$s" -gt "$sha_b" ] && sha_b=$s
    [ "$d" -gt "$dir_b" ] && dir_b=$d
    [ "$u" -gt "$up_b" ] && up_b=$u
    [ "$g" -gt "$down_b" ] && down_b=$g
    [ "$n" -gt "$ngx_b" ] && ngx_b=$n
  done
  local slower=$((sha_b < dir_b ? sha_b : dir_b))
  echo "| $label | $sha_b | $dir_b | $up_b | $(awk -v u="$up_b" -v s="$slower" 'BEGIN {printf "%.2fx", u / s}') | $ngx_b | $down_b | $(awk -v u="$down_b" -v s="$ngx_b" 'BEGIN {printf "%.2fx", u / s}') |"
}

hwm_kib() { awk '/VmHWM/ {print $2}' "/proc/$pid/status"; }

concurrent() { # $1: bytes per upload; 16 uploads of one file at once; prints peak RSS KiB
  head -c "$1" /dev/urandom >"$work/c"
  local h; h=$(sha256sum "$work/c" | cut -c1-64)
  echo 5 >"/proc/$pid/clear_refs" # resets VmHWM to the current RSS
  local pids=()
  for _ in $(seq 16); do curl -sf -H "$auth" -T "$work/c" "$base/blobs/$h" -o /dev/null & pids+=($!); done
  wait "${pids[@]}"
  hwm_kib
}

{
  echo "| blobs (best of $rounds; one curl, one connection) | openssl dgst MB/s | dd oflag=direct MB/s | upload MB/s | upload vs slower of the two | nginx download MB/s | download MB/s | download vs nginx |"
  echo "|---|---|---|---|---|---|---|---|"
  row "$small x 1 MiB" "$work"/small/*
  row "256 MiB" "$work/big"
  echo
  rss0=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  m16=$(concurrent $((16 * 1048576)))
  m256=$(concurrent 268435456)
  echo "| 16 uploads of one blob at once | server peak RSS | note |"
  echo "|---|---|---|"
  echo "| idle, before | $((rss0 / 1024)) MiB | |"
  echo "| 16 x 16 MiB | $((m16 / 1024)) MiB | |"
  echo "| 16 x 256 MiB | $((m256 / 1024)) MiB | $(awk -v a="$m256" -v b="$m16" 'BEGIN {printf "%.2fx", a / b}') of the 16 MiB case |"
  echo
  echo "Machine: $(nproc) cores; cairn $("$root/build/cairn" version | cut -d' ' -f2); access log off; data in $(df --output=source "$work" | tail -1)."
} | tee "$out/blobs.md"
