#!/usr/bin/env bash
# Installs what a step needs from Debian's packages, only when it is missing.
#   scripts/deps.sh build   compiler, pkg-config and the libraries Cairn links
#   scripts/deps.sh test    build + cmocka, Node.js, curl, sqlite3, Chromium (the pages
#                           at mail links are tested in a real browser)
#   scripts/deps.sh bench   build + wrk, nginx, openssl (the command)
#   scripts/deps.sh fuzz    build + clang with libFuzzer
set -euo pipefail
what=${1:-build}
need=()

have_pc() { pkg-config --exists "$1" 2>/dev/null; }
have_cmd() { command -v "$1" >/dev/null 2>&1; }

have_cmd cc || need+=(gcc)
have_cmd make || need+=(make)
have_cmd pkg-config || need+=(pkg-config)
have_pc libmicrohttpd || need+=(libmicrohttpd-dev)
have_pc json-c || need+=(libjson-c-dev)
have_pc sqlite3 || need+=(libsqlite3-dev)
have_pc libsodium || need+=(libsodium-dev)
have_pc libcrypto || need+=(libssl-dev)
have_pc libcurl || need+=(libcurl4-openssl-dev)
have_pc inih || need+=(libinih-dev)
have_pc zlib || need+=(zlib1g-dev)
have_pc libxcrypt || need+=(libcrypt-dev)
# libunistring ships no pkg-config file: its header tells
[ -f /usr/include/uninorm.h ] || need+=(libunistring-dev)

if [ "$what" = test ] || [ "$what" = bench ]; then
  have_pc cmocka || need+=(libcmocka-dev)
  have_cmd node || need+=(nodejs)
  have_cmd curl || need+=(curl)
  have_cmd sqlite3 || need+=(sqlite3)
  have_cmd npm || need+=(npm)
fi
browser=""
if [ "$what" = test ]; then
  have_cmd chromium || have_cmd chromium-browser || [ -x /snap/bin/chromium ] || browser=yes
fi
if [ "$what" = fuzz ]; then
  have_cmd clang || need+=(clang)
  ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 ||
    ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1 ||
    need+=(libclang-rt-dev)
fi
if [ "$what" = bench ]; then
  have_cmd wrk || need+=(wrk)
  have_cmd nginx || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
  have_cmd openssl || need+=(openssl)
fi

if [ ${#need[@]} -gt 0 ] || [ -n "$browser" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  if [ -n "$browser" ]; then
    # Debian packages Chromium as "chromium"; Ubuntu only as "chromium-browser", which
    # installs the snap (/snap/bin/chromium)
    if apt-cache policy chromium 2>/dev/null | grep -q 'Candidate: [0-9]'; then
      need+=(chromium)
    else
      need+=(chromium-browser)
    fi
  fi
  echo "deps: installing ${need[*]}"
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# The API tests' npm packages (a real SMTP server, puppeteer-core to drive Chromium),
# pinned by the lock file.
if [ "$what" = test ]; then
  root=$(cd "$(dirname "$0")/.." && pwd)
  lock="$root/tests/api/package-lock.json"
  stamp="$root/tests/api/node_modules/.installed-lock"
  if [ ! -f "$stamp" ] || ! cmp -s "$lock" "$stamp"; then
    echo "deps: npm ci in tests/api"
    (cd "$root/tests/api" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$lock" "$stamp"
  fi
fi
