#!/usr/bin/env bash
# The `tonearm` binary for 64-bit Raspberry Pi OS (aarch64-unknown-linux-gnu): cross-built with
# Debian's cross linker against Debian's arm64 SDL (multiarch), with the default `window`
# feature as a Pi builds it, then run under qemu-user and compared with the host's build:
#   - `tonearm render BODY --checksum` for seed_track.json, episode_long_escaped.json and an
#     empty body (idle), at every layout (320x240, 240x240, 128x64, 480x320, 800x480), at several --elapsed-ms: the same
#     frame checksums;
#   - `tonearm demo --headless --events --speed 10 --duration 9`: the same screens (the
#     sequence of screen/title in the event lines; their times may differ).
# Prints each stage's time, the binary's size and a table of checksums host vs aarch64; exits
# non-zero on any difference. Installs what it needs (gcc-aarch64-linux-gnu, qemu-user,
# libsdl2-dev:arm64 after `dpkg --add-architecture arm64`, the Rust target). The cross
# configuration lives in this script's environment only (target-scoped variables), so host
# builds are not touched. Nothing here runs on a real Pi.
#   scripts/arm-aarch64.sh
#   CARGO_TARGET_DIR=... scripts/arm-aarch64.sh   (default: the workspace's target/)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=setup.sh
source scripts/setup.sh

target=aarch64-unknown-linux-gnu
multiarch_lib=/usr/lib/aarch64-linux-gnu # libsdl2-dev:arm64, its dependencies, libc6:arm64
timeout_s=${ARM_TIMEOUT:-120}            # seconds per emulated run: a hang fails, not blocks
target_dir=${CARGO_TARGET_DIR:-target}

declare -a timings=()
timed() { # timed NAME COMMAND...
  local name=$1; shift
  local t0; t0=$(date +%s)
  echo "==> aarch64: $name" >&2
  "$@"
  local dt=$(( $(date +%s) - t0 ))
  timings+=("$(printf '%-40s %4ds' "$name" "$dt")")
  echo "<== aarch64: $name: ${dt}s" >&2
}

install() {
  rust_need
  rust_target_need "$target"
  foreign_arch_need arm64
  # The host build (window feature) needs the host's SDL too.
  apt_need pkg-config libsdl2-dev \
    gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu \
    qemu-user libsdl2-dev:arm64
}

# The cross toolchain, for this target only: cargo's linker and runner, the C compiler that
# ring's build script uses, and pkg-config pointed at the arm64 multiarch .pc files (the
# `_aarch64_unknown_linux_gnu` forms are read only when building for that target).
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
# The runner: qemu-user with Debian's own arm64 loader and libraries (libc6:arm64 and SDL's
# dependencies, installed with libsdl2-dev:arm64), the runtime a Pi has. Not `-L
# /usr/aarch64-linux-gnu`: that sysroot's loader (libc6-arm64-cross, 2.36-8cross1 on
# bookworm) has no /lib/aarch64-linux-gnu of its own, so it loads the multiarch libc.so.6
# (2.36-9+deb12uN) beside SDL, and that mismatched loader/libc pair spins forever at the
# first thread start (ctrlc's), at 100 % CPU, in every command.
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /"
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar
export PKG_CONFIG_ALLOW_CROSS_aarch64_unknown_linux_gnu=1
export PKG_CONFIG_PATH_aarch64_unknown_linux_gnu=$multiarch_lib/pkgconfig
export PKG_CONFIG_LIBDIR_aarch64_unknown_linux_gnu=$multiarch_lib/pkgconfig:/usr/share/pkgconfig
export PKG_CONFIG_SYSROOT_DIR_aarch64_unknown_linux_gnu=/

build_host() { cargo build --release --locked -p tonearm-sim --bin tonearm; }
build_arm() { cargo build --release --locked -p tonearm-sim --bin tonearm --target "$target"; }

timed "install" install
timed "host build (release)" build_host
timed "aarch64 cross-build (release, window)" build_arm

host_bin=$target_dir/release/tonearm
arm_bin=$target_dir/$target/release/tonearm
# shellcheck disable=SC2206
runner=($CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER)

# What was built: an aarch64 ELF that links the arm64 SDL (the window feature is in).
file -b "$arm_bin" | grep -q 'ARM aarch64' || { echo "aarch64: $arm_bin is not an aarch64 ELF" >&2; exit 1; }
needed=$(aarch64-linux-gnu-readelf -d "$arm_bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
case " $needed" in
  *" libSDL2"*) window="window feature on (links ${needed%% *}...: SDL2 from libsdl2-dev:arm64)" ;;
  *) echo "aarch64: the binary does not link SDL2 (NEEDED: $needed)" >&2; exit 1 ;;
esac
stripped=$(mktemp)
aarch64-linux-gnu-strip -o "$stripped" "$arm_bin"
arm_size=$(stat -c %s "$arm_bin") arm_stripped=$(stat -c %s "$stripped")
strip -o "$stripped" "$host_bin"
host_size=$(stat -c %s "$host_bin") host_stripped=$(stat -c %s "$stripped")
rm -f "$stripped"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A config path with no file: the runs do not depend on this machine's ~/.config/tonearm.
cfg=$work/config.toml
: > "$work/idle.json"
fixtures=core/tests/fixtures
bodies=("$fixtures/seed_track.json" "$fixtures/episode_long_escaped.json" "-")
displays=(320x240 240x240 128x64 480x320 800x480)
elapsed=(0 65000 600000)
diffs=0

# checksum HOST|ARM BODY DISPLAY ELAPSED: the frame checksum `tonearm render` prints.
checksum() {
  local which=$1 body=$2 display=$3 ms=$4 out
  local -a cmd
  if [ "$which" = host ]; then cmd=("$host_bin"); else cmd=("${runner[@]}" "$arm_bin"); fi
  out=$(timeout --kill-after=5 "$timeout_s" "${cmd[@]}" render "$body" --config "$cfg" --display "$display" --elapsed-ms "$ms" \
          --out "$work/$which.png" --checksum < "$work/idle.json")
  [[ $out =~ ^[0-9a-f]{8}$ ]] || { echo "aarch64: $which render printed '$out'" >&2; return 1; }
  echo "$out"
}

render_table() {
  table=$(printf '%-28s %-8s %7s  %-8s %-8s %s\n' body display elapsed host aarch64 same)
  for body in "${bodies[@]}"; do
    local name=${body##*/}; [ "$body" = - ] && name="(empty stdin: idle)"
    for display in "${displays[@]}"; do
      for ms in "${elapsed[@]}"; do
        local h a same=yes
        h=$(checksum host "$body" "$display" "$ms")
        a=$(checksum arm "$body" "$display" "$ms")
        [ "$h" = "$a" ] || { same=DIFFERENT; diffs=$((diffs + 1)); }
        table+=$'\n'$(printf '%-28s %-8s %7s  %-8s %-8s %s' "$name" "$display" "$ms" "$h" "$a" "$same")
      done
    done
  done
}

# screens FILE: the screen and title of each event line (times left out).
screens() {
  python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    print(e.get("screen"), json.dumps(e.get("title"), ensure_ascii=False), sep="\t")
' "$1"
}

demo_compare() {
  local -a demo=(demo --config "$cfg" --display 320x240 --headless --events --speed 10 --duration 9)
  timeout --kill-after=5 "$timeout_s" "$host_bin" "${demo[@]}" > "$work/host.events"
  timeout --kill-after=5 "$timeout_s" "${runner[@]}" "$arm_bin" "${demo[@]}" > "$work/arm.events"
  screens "$work/host.events" > "$work/host.screens"
  screens "$work/arm.events" > "$work/arm.screens"
  demo_screens=$(wc -l < "$work/host.screens")
  if [ "$demo_screens" -lt 10 ]; then
    echo "aarch64: the host demo showed only $demo_screens screens" >&2; diffs=$((diffs + 1))
  fi
  if ! diff -u --label host "$work/host.screens" --label aarch64 "$work/arm.screens" >&2; then
    diffs=$((diffs + 1)); demo_same=DIFFERENT
  else
    demo_same=yes
  fi
}

timed "render checksums (host, qemu-user)" render_table
timed "demo --speed 10 --duration 9 (both)" demo_compare

echo
echo "aarch64: $(file -b "$arm_bin" | cut -d, -f1-2); $window"
echo "aarch64: run under $(qemu-aarch64 --version | head -1) ($CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER: Debian's arm64 loader and libraries)"
printf 'binary size: aarch64 %d B (%d B stripped); host %s %d B (%d B stripped)\n' \
  "$arm_size" "$arm_stripped" "$(uname -m)" "$host_size" "$host_stripped"
echo
echo "render --checksum, host ($(uname -m)) vs aarch64 (qemu-user):"
echo "$table"
echo
echo "demo --headless --events --speed 10 --duration 9: $demo_screens screens on the host; aarch64 the same sequence: $demo_same"
cut -f1 "$work/arm.screens" | tr '\n' ' ' | fold -s -w 100 | sed 's/^/  /'
echo
echo
echo "aarch64 stage timings:"
printf '  %s\n' "${timings[@]}"
if [ "$diffs" != 0 ]; then
  echo "aarch64: $diffs difference(s) between the host and the aarch64 build" >&2
  exit 1
fi
echo "aarch64: ok: every checksum and the demo's screens equal the host's" >&2
