#!/usr/bin/env bash
# CPU share of one core used by a 20-second demo in a real SDL window at scale 1 (under
# Xvfb), and the same run headless for reference. Target: under 3 % of one core.
#   scripts/bench-window-cpu.sh [SECONDS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
runs=${2:-3}
# shellcheck source=setup.sh
source scripts/setup.sh
apt_need libsdl2-dev pkg-config xvfb
cargo build --release --quiet -p tonearm-sim
bin=target/release/tonearm
n=$((300 + $$ % 200))
Xvfb ":$n" -screen 0 800x600x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null' EXIT
sleep 1
measure() { # prints the CPU share in % for one run of "$@"
  local t
  t=$( { TIMEFORMAT='%U %S %R'; time "$@" >/dev/null 2>&1; } 2>&1 )
  awk -v t="$t" 'BEGIN { split(t, a, " "); printf "%.2f\n", (a[1] + a[2]) / a[3] * 100 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
window=$(for _ in $(seq "$runs"); do DISPLAY=":$n" measure "$bin" demo --scale 1 --duration "$secs"; done | median)
headless=$(for _ in $(seq "$runs"); do measure "$bin" demo --headless --duration "$secs"; done | median)
echo "demo for ${secs}s, median of $runs runs (CPU time / wall time, one core = 100 %):"
echo "  window (scale 1, Xvfb): ${window} %   (target < 3 %)"
echo "  headless:               ${headless} %"
