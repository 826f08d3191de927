#!/usr/bin/env bash
# The emulated board: firmware/boards/qemu-m4 built for thumbv7em-none-eabihf and run
# under QEMU (netduinoplus2, an STM32F405: 1 MiB flash, 128 KiB RAM), with all the fonts
# and Latin only, each under a timeout (a hung emulator fails, it does not block CI).
# The board checks its checksums against expected.rs and its budgets itself, and exits
# non-zero on any miss. Then, unless BOARD_FAULTS=0, one build per injected failure
# (wrong checksum, budget overrun, panic, hard fault, hang) proves each one fails the run.
# Installs qemu-system-arm and the target if missing.
#   scripts/board-qemu.sh                  everything
#   BOARD_FAULTS=0 scripts/board-qemu.sh   only the two real runs
#   BOARD_TIMEOUT=120 ...                  seconds per emulator run (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=setup.sh
source scripts/setup.sh
rust_need
command -v qemu-system-arm >/dev/null || apt_need qemu-system-arm

cd firmware/boards/qemu-m4
timeout_s=${BOARD_TIMEOUT:-60}

cargo fmt -- --check
cargo clippy --release --locked -- -D warnings

# run_board LABEL WANT_CODE [cargo args...]: builds, runs under the timeout, checks the code.
run_board() {
  local label=$1 want=$2; shift 2
  cargo build --release --locked "$@"
  local code=0
  timeout --kill-after=5 "$timeout_s" cargo run --release --locked --quiet "$@" || code=$?
  if [ "$code" != "$want" ]; then
    echo "board-qemu: $label: exit $code, expected $want" >&2
    return 1
  fi
  echo "board-qemu: $label: exit $code as expected" >&2
}

echo "==> the board with every font (the default)" >&2
run_board "all fonts" 0
echo "==> the board with Latin fonts only" >&2
run_board "Latin only" 0 --no-default-features

if [ "${BOARD_FAULTS:-1}" != 0 ]; then
  # Injected failures build Latin-only (quick) into their own target dir.
  export CARGO_TARGET_DIR=target/faults
  for fault_code in checksum:3 budget:4 panic:1 hardfault:6 hang:124; do
    fault=${fault_code%%:*} code=${fault_code##*:}
    echo "==> injected failure: $fault (expect exit $code)" >&2
    if [ "$fault" = hang ]; then timeout_s=10; fi
    TONEARM_BOARD_FAULT=$fault run_board "fault $fault" "$code" --no-default-features \
      >/dev/null
  done
fi
echo "board-qemu: ok" >&2
