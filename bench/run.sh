#!/usr/bin/env bash
# make bench: requests/s of cairn next to nginx serving a small static file, measured in the
# same run with wrk, alternating rounds so that machine noise hits both alike. Prints a
# Markdown table (also written to build/bench/http.md).
#   BENCH_SECONDS (default 5), BENCH_ROUNDS (default 3), BENCH_CONNECTIONS (default 64)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-3}
conns=${BENCH_CONNECTIONS:-64}
work=$(mktemp -d /tmp/cairn-bench-XXXXXX)
out="$root/build/bench"
mkdir -p "$out"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# nginx: two workers, a small file, access log on (cairn logs every request too)
nginx_port=$(free_port)
mkdir -p "$work/www" "$work/nginx"
printf '{"status":"ok"}' >"$work/www/health"
cat >"$work/nginx/nginx.conf" <<NGX
worker_processes 2;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log $work/nginx/access.log;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  default_type application/json;
  server { listen 127.0.0.1:$nginx_port; root $work/www; }
}
NGX
/usr/sbin/nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
pids+=($!)

"$root/build/cairn" serve --listen 127.0.0.1:0 --data "$work/data" 2>"$work/cairn.log" &
pids+=($!)
for _ in $(seq 100); do
  grep -q 'listening on' "$work/cairn.log" 2>/dev/null && break
  sleep 0.05
done
cairn_port=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/cairn.log" | head -1 | cut -d: -f3)
sleep 0.3

rps() { wrk -t2 -c"$conns" -d"${secs}s" "$1" | awk '/^Requests\/sec:/ {print $2}'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A res
for r in $(seq "$rounds"); do
  res[nginx]+="$(rps "http://127.0.0.1:$nginx_port/health") "
  res[health]+="$(rps "http://127.0.0.1:$cairn_port/health") "
  res[notfound]+="$(rps "http://127.0.0.1:$cairn_port/api/v1/nope") "
  echo "bench: round $r of $rounds done" >&2
done
n=$(tr ' ' '\n' <<<"${res[nginx]}" | grep . | median)
h=$(tr ' ' '\n' <<<"${res[health]}" | grep . | median)
f=$(tr ' ' '\n' <<<"${res[notfound]}" | grep . | median)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a / b}'; }

{
  echo "| what (wrk -t2 -c$conns, ${secs}s, median of $rounds) | requests/s | vs nginx static file |"
  echo "|---|---|---|"
  echo "| nginx 2 workers, static 15-byte file (baseline) | $n | 1.00x |"
  echo "| cairn \`GET /health\` | $h | $(ratio "$h" "$n") |"
  echo "| cairn \`GET /api/v1/nope\` (JSON 404) | $f | $(ratio "$f" "$n") |"
  echo
  echo "Machine: $(nproc) cores, $(uname -m); cairn $("$root/build/cairn" version | cut -d' ' -f2), access log on for both."
} | tee "$out/http.md"
