# Sourced by the bench scripts (which set $root). start_cairn DATA LOG [VAR=VALUE ...]
# starts build/cairn on a free port with an emptied data directory DATA, rate limits out of
# the way (and the per-address connection limit: every bench client is on loopback) and
# the given settings, waits until it listens, registers user "bench" and logs
# in. Sets cairn_pid, base (http://127.0.0.1:PORT) and token.
start_cairn() {
  local data=$1 log=$2
  shift 2
  rm -rf "$data"
  env CAIRN_RATELIMIT_PER_ADDRESS=1000000 CAIRN_RATELIMIT_PER_ACCOUNT=1000000 \
    CAIRN_SERVER_MAX_CONNECTIONS_PER_ADDRESS=100000 "$@" \
    "$root/build/cairn" serve --listen 127.0.0.1:0 --data "$data" >/dev/null 2>"$log" &
  cairn_pid=$!
  for _ in $(seq 100); do grep -q 'listening on' "$log" 2>/dev/null && break; sleep 0.05; done
  base=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1)
  curl -sf -XPOST "$base/api/v1/auth/register" -H 'Content-Type: application/json' \
    -d '{"username":"bench","password":"bench password"}' >/dev/null
  token=$(curl -sf -XPOST "$base/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d '{"username":"bench","password":"bench password"}' | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
}

# A free TCP port on loopback.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
