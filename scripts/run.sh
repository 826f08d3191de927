#!/usr/bin/env bash
# The README's run command: opens the Tonearm window. Without a Spotify account configured
# it runs the demo. Installs what it needs (libsdl2-dev) on Debian/Ubuntu first.
#   scripts/run.sh                 the display (your account, or the demo)
#   scripts/run.sh demo --speed 4  any tonearm command and options
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=setup.sh
source scripts/setup.sh
apt_need libsdl2-dev pkg-config
command -v cargo >/dev/null || { echo "tonearm: install Rust first: https://rustup.rs" >&2; exit 1; }
target_dir=${CARGO_TARGET_DIR:-target}
if [ ! -x "$target_dir/release/tonearm" ]; then
  echo "tonearm: building (the first time takes a few minutes)..." >&2
fi
cargo build --release --quiet -p tonearm-sim
exec "$target_dir/release/tonearm" "$@"
