#!/usr/bin/env bash
# Fuzzes the core parsers with cargo-fuzz (libFuzzer, nightly) for SECONDS per target.
#   scripts/fuzz.sh 60      bounded (what CI runs)
#   scripts/fuzz.sh 3600    a long run
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzz: a nightly toolchain is needed: rustup toolchain install nightly" >&2; exit 1
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cd core/fuzz
# Seed the corpus with the fixtures and the shared API corpus (a chunk-size byte first).
mkdir -p corpus/parse
for f in ../tests/fixtures/*.json ../../../shared/api-corpus/*.json; do
  [ -f "$f" ] || continue
  { printf '\x07'; cat "$f"; } > "corpus/parse/$(basename "$f")"
done
for target in parse bodies; do
  echo "fuzz: $target for ${seconds}s" >&2
  cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 2>&1 \
    | grep -E '^(#[0-9]+ *DONE|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==|SUMMARY|.*panicked)' || true
  # libFuzzer exits non-zero and leaves an artifact when it finds a crash.
  if ls artifacts/"$target"/crash-* >/dev/null 2>&1; then
    echo "fuzz: $target found a crash: core/fuzz/artifacts/$target/" >&2; exit 1
  fi
done
