#!/usr/bin/env bash
# The test command of the README: formatting, lints, every test, the no_std builds for a
# Cortex-M, the boards, the aarch64 (Raspberry Pi) cross-build run under qemu-user, and a
# bounded fuzz run. Installs what it needs. Prints how long each stage took.
#   scripts/test.sh            everything (CI runs this)
#   FUZZ_SECONDS=0 scripts/test.sh    skip fuzzing; longer runs: scripts/fuzz.sh
#   BOARD_VIRT=0 scripts/test.sh       skip the network board (not in CI)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=setup.sh
source scripts/setup.sh

total_start=$(date +%s)
declare -a timings=()
stage() { # stage NAME COMMAND...
  local name=$1; shift
  local t0; t0=$(date +%s)
  echo "==> $name" >&2
  "$@"
  local dt=$(( $(date +%s) - t0 ))
  timings+=("$(printf '%-28s %4ds' "$name" "$dt")")
  echo "<== $name: ${dt}s" >&2
}

install_all() {
  rust_need
  # SDL for the window feature; Xvfb, xdotool and ImageMagick's import for the window's
  # end-to-end tests.
  apt_need libsdl2-dev pkg-config xvfb xdotool imagemagick
  # systemd-analyze checks the unit `tonearm service` writes.
  apt_need systemd
  # Headless Chromium and its WebDriver for the login flow's end-to-end test.
  apt_need chromium chromium-driver
  # The MQTT broker the hub's tests start themselves (on a free loopback port, with a
  # config of their own), and its mosquitto_pub / mosquitto_passwd.
  apt_need mosquitto mosquitto-clients
}
stage "install" install_all
stage "fmt" cargo fmt --all -- --check
stage "clippy" cargo clippy --workspace --all-targets --locked -- -D warnings
# Property tests: a bounded number of cases in CI; PROPTEST_CASES=100000 for a long run.
export PROPTEST_CASES=${PROPTEST_CASES:-2000}
test_log=$(mktemp)
run_tests() { cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$test_log"; }
stage "test" run_tests
stage "no_std build (thumbv7em)" cargo build --locked -p tonearm-core -p tonearm-firmware --target thumbv7em-none-eabihf
# The firmware on an emulated Cortex-M4 (QEMU): checksums equal the desktop's, budgets hold,
# and injected failures (checksum, budget, panic, hard fault, hang) do fail.
stage "emulated board (qemu)" scripts/board-qemu.sh
# The ESP32-C3 board: host tests of its hardware-free parts, the TLS verification spike,
# and the release build for riscv32imc (sizes printed). Nothing runs on hardware.
stage "esp32c3 board (host tests, TLS spike, build)" scripts/board-esp32c3.sh
# The network board: the kit on QEMU's riscv32 virt machine (an ESP32-C3's ISA and RAM) in a
# network namespace this script makes (tap, dnsmasq, SNTP, the fake Spotify over HTTPS):
# DHCP to now playing, token rotation across a restart, 429s, outages, a man in the middle,
# no settings, a board fed by a hub. BOARD_VIRT=0 skips it outside CI.
virt_line=""
virt_log=$(mktemp)
run_virt() { scripts/board-virt.sh 2>&1 | tee "$virt_log"; }
if [ "${BOARD_VIRT:-1}" != 0 ] || [ -n "${CI:-}" ]; then
  stage "network board (qemu riscv32 virt)" run_virt
  virt_line=$(grep -Eo 'board-virt: [0-9]+/[0-9]+ scenarios pass' "$virt_log" | tail -1 || true)
fi
rm -f "$virt_log"
# 64-bit Raspberry Pi OS: the `tonearm` binary (with its SDL window) cross-built for
# aarch64-unknown-linux-gnu and run under qemu-user: its render checksums and the demo's
# screens equal the host build's. Not run on a Pi.
stage "aarch64 (cross-build, qemu-user)" scripts/arm-aarch64.sh
if [ "${FUZZ_SECONDS:-60}" != 0 ]; then
  stage "fuzz (bounded)" scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
fi

# One closing line for every test binary together.
passed=$(grep -Eo '^test result: .* ([0-9]+) passed' "$test_log" | grep -Eo '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed;' "$test_log" | awk '{s+=$1} END {print s+0}')
rm -f "$test_log"

echo
echo "stage timings:"
printf '  %s\n' "${timings[@]}"
echo "  total $(( $(date +%s) - total_start ))s"
echo "tests: $passed passed, $failed failed${virt_line:+; ${virt_line#board-virt: } on the network board}"
