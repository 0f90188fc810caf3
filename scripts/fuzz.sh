#!/usr/bin/env bash
# Runs each libFuzzer target for a time: scripts/fuzz.sh SECONDS NAME...
# Starts from the saved corpus (fuzz/corpus/NAME) and a working copy that grows in
# build/fuzzer/corpus/NAME; a crash is saved to build/fuzzer/crashes/NAME/ and fails the
# run. The targets are built by make FUZZ=1 (clang, libFuzzer, ASan, UBSan).
# Prints one line per target: runs, corpus size, the end of libFuzzer's stats.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=$1
shift
status=0
for name in "$@"; do
  bin="$root/build/fuzzer/fuzz/$name-fuzzer"
  work="$root/build/fuzzer/corpus/$name"
  crashes="$root/build/fuzzer/crashes/$name"
  mkdir -p "$work" "$crashes"
  log="$root/build/fuzzer/$name.log"
  dict=()
  [ -f "$root/fuzz/$name.dict" ] && dict=(-dict="$root/fuzz/$name.dict")
  "$bin" "$work" "$root/fuzz/corpus/$name" -max_total_time="$secs" -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="$crashes/" -print_final_stats=1 "${dict[@]}" \
    >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  found=$(ls "$crashes" | wc -l)
  echo "fuzz $name: ${secs}s, ${runs:-?} runs, $cov, working corpus $(ls "$work" | wc -l) (seeds $(ls "$root/fuzz/corpus/$name" | wc -l)), crashes $found (exit $rc)"
  if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
    status=1
    grep -m5 -E 'ERROR|invariant|SUMMARY' "$log"
  fi
done
exit $status
