#!/usr/bin/env bash
# make bench: requests/s of cairn next to nginx serving a small static file, measured in the
# same run with wrk, alternating rounds so that machine noise hits both alike. Prints a
# Markdown table (also written to build/bench/http.md).
#   BENCH_SECONDS (default 5), BENCH_ROUNDS (default 3), BENCH_CONNECTIONS (default 64)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
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

# cairn with its access log on, like nginx; a user and a session for the authenticated
# requests
start_cairn "$work/data" "$work/cairn.log"
pids+=("$cairn_pid")
cairn_port=${base##*:}
sleep 0.3

rps() { wrk -t2 -c"$conns" -d"${secs}s" "$@" | awk '/^Requests\/sec:/ {print $2}'; }

cat >"$work/login.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"username":"bench","password":"bench password"}'
wrk.headers["Content-Type"] = "application/json"
LUA
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A res
for r in $(seq "$rounds"); do
  res[nginx]+="$(rps "http://127.0.0.1:$nginx_port/health") "
  res[health]+="$(rps "http://127.0.0.1:$cairn_port/health") "
  res[notfound]+="$(rps "http://127.0.0.1:$cairn_port/api/v1/nope") "
  res[account]+="$(rps -H "Authorization: Bearer $token" "$base/api/v1/account") "
  echo "bench: round $r of $rounds done" >&2
done
n=$(tr ' ' '\n' <<<"${res[nginx]}" | grep . | median)
h=$(tr ' ' '\n' <<<"${res[health]}" | grep . | median)
f=$(tr ' ' '\n' <<<"${res[notfound]}" | grep . | median)
a=$(tr ' ' '\n' <<<"${res[account]}" | grep . | median)
# logins are bound by argon2id (one hash each): a few connections are enough
logins=$(wrk -t2 -c4 -d"${secs}s" -s "$work/login.lua" "$base/api/v1/auth/login" | awk '/^Requests\/sec:/ {print $2}')
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a / b}'; }

# The token check's share of the server's CPU for GET /api/v1/account, from call-graph
# samples of the server under load (when perf works on this machine).
auth_share="(perf not available)"
cairn_pid=$(pgrep -f "serve --listen 127.0.0.1:0 --data $work/data" | head -1 || true)
if command -v perf >/dev/null && [ -n "$cairn_pid" ] && perf stat -e task-clock true >/dev/null 2>&1; then
  wrk -t1 -c32 -d"$((secs + 3))s" -H "Authorization: Bearer $token" "$base/api/v1/account" >/dev/null &
  sleep 1
  perf record -q --call-graph dwarf,16384 -F 499 -p "$cairn_pid" -o "$work/perf.data" -- sleep "$secs" >/dev/null 2>&1 || true
  wait $! 2>/dev/null || true
  share() { perf report -i "$work/perf.data" --children --sort symbol 2>/dev/null |
    awk -v f="$1" '!done && $0 ~ "\\] "f"( |$)" {gsub("%","",$1); print $1; done = 1}' || true; }
  na=$(share need_auth); req=$(share on_request)
  if [ -n "$na" ] && [ -n "$req" ]; then
    auth_share=$(awk -v a="$na" -v r="$req" 'BEGIN {printf "%.1f%% of the request handling (%.1f%% of all server CPU)", 100 * a / r, a}')
  fi
fi

{
  echo "| what (wrk -t2 -c$conns, ${secs}s, median of $rounds) | requests/s | vs nginx static file |"
  echo "|---|---|---|"
  echo "| nginx 2 workers, static 15-byte file (baseline) | $n | 1.00x |"
  echo "| cairn \`GET /health\` | $h | $(ratio "$h" "$n") |"
  echo "| cairn \`GET /api/v1/nope\` (JSON 404) | $f | $(ratio "$f" "$n") |"
  echo
  echo "| accounts (same run) | requests/s | vs cairn \`GET /health\` |"
  echo "|---|---|---|"
  echo "| \`GET /api/v1/account\` with a bearer token (-c$conns) | $a | $(ratio "$a" "$h") |"
  echo "| \`POST /api/v1/auth/login\` (-c4; argon2id 19 MiB, 2 passes) | $logins | |"
  echo
  echo "Token check (need_auth, inclusive) in GET /api/v1/account: $auth_share."
  echo
  echo "Machine: $(nproc) cores, $(uname -m); cairn $("$root/build/cairn" version | cut -d' ' -f2), access log on for both."
} | tee "$out/http.md"
