#!/usr/bin/env bash
# Instructions per parse, ours and serde_json's, counted by callgrind: repeatable whatever
# else the machine is doing (unlike nanoseconds). Needs valgrind (apt-get install valgrind).
# Usage: scripts/bench-instructions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 1; }
bin=$(cargo bench -p tonearm-core --bench parse --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import sys,json
for l in sys.stdin:
    m=json.loads(l)
    if m.get("reason")=="compiler-artifact" and m["target"]["name"]=="parse" and m.get("executable"): print(m["executable"])' | tail -1)
count() { # who body n -> total instructions
  local out; out=$(mktemp)
  BENCH_COUNT="$1:$2:$3" valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" >/dev/null 2>&1
  awk '/^summary:/ {print $2}' "$out"; rm -f "$out"
}
printf '%-10s %16s %16s %8s\n' body "ours Ir/parse" "serde_json Ir/parse" ratio
for body in seed episode real multi plain; do
  n=20; [ "$body" = multi ] && n=2
  o1=$(count ours "$body" 1); on=$(count ours "$body" $((n + 1)))
  t1=$(count serde_json "$body" 1); tn=$(count serde_json "$body" $((n + 1)))
  # The difference of two runs cancels start-up and the first, cold parse.
  python3 -c "o=($on-$o1)/$n; t=($tn-$t1)/$n; print(f'{\"$body\":<10} {o:16.0f} {t:16.0f} {o/t:7.2f}x')"
done
