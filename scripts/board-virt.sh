#!/usr/bin/env bash
# The network board, end to end: the firmware of firmware/boards/qemu-virt (the kit on
# QEMU's riscv32 virt machine, the ESP32-C3's ISA and RAM) booted for each scenario of
# issue 14 against a test network this script makes itself, in a network namespace that
# has nothing but `lo` and a tap device on 192.0.2.0/24 (TEST-NET-1): dnsmasq (DHCP, and
# DNS answering Spotify's names and pool.ntp.org with 192.0.2.1), the test's SNTP
# responder, and the fake Spotify of tests/src/fake_spotify behind an HTTPS front with a
# chain from a root made at test time (the board trusts it through the settings record's
# extra trust anchor; verification stays on); for the `hub` scenario, mosquitto on
# 192.0.2.1 and `tonearm hub` polling the fake, the board fed by it (issue 15). Nothing is
# sent outside loopback or that
# namespace: the namespace has no other route (checked), QEMU has no other NIC
# (-nodefaults), dnsmasq forwards nothing (--no-resolv).
#
# Everything is built first (there is no crates.io inside the namespace). Prints the
# sizes and budgets, the stage times, one line per failing scenario
# (`board-virt: FAIL <name>: <why>`) and, last, `board-virt: P/T scenarios pass`; exits
# 0 only when every scenario passes.
#   scripts/board-virt.sh                    every scenario
#   BOARD_VIRT_ONLY=boot,setup_needed ...    some of them
#   BOARD_VIRT_TIMEOUT=600 ...               seconds per namespace (default 420)
#   BOARD_VIRT_DIR=/tmp/x ...                where the logs go (default: target/board-virt;
#                                            one folder per namespace, ns0, ns1, ...)
# Without root and without unprivileged user namespaces it says so in one line and skips
# (exit 0), unless CI is set (then it fails).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
board=firmware/boards/qemu-virt
host=$board/host
scenarios_total=12

# ---- Inside the namespace: the network, dnsmasq, the scenarios ----
if [ "${1:-}" = "--inside" ]; then
  dir=$2 elf=$3 driver=$4 tonearm=$5 only=${6:-}
  ip link set lo up
  ip tuntap add dev tap0 mode tap
  ip addr add 192.0.2.1/24 dev tap0
  ip link set tap0 up
  # Refuse to run with any route but the test network's (and loopback's).
  other=$( { ip -4 route show table all; ip -6 route show table all; } \
    | grep -v -E '(^| )dev (tap0|lo)( |$)' || true)
  if [ -n "$other" ] || ip route show | grep -q '^default'; then
    echo "board-virt: FAIL network: the namespace has other routes: $other"
    exit 1
  fi
  : >"$dir/dnsmasq.leases"
  dnsmasq --conf-file=/dev/null --keep-in-foreground --no-resolv --no-hosts --no-poll \
    --user=root --interface=tap0 --bind-interfaces --listen-address=192.0.2.1 \
    --dhcp-range=192.0.2.10,192.0.2.10,255.255.255.0,1h \
    --dhcp-host=52:54:00:12:34:56,192.0.2.10 \
    --dhcp-leasefile="$dir/dnsmasq.leases" --dhcp-authoritative \
    --address=/api.spotify.com/192.0.2.1 --address=/accounts.spotify.com/192.0.2.1 \
    --address=/i.scdn.co/192.0.2.1 --address=/pool.ntp.org/192.0.2.1 \
    --log-facility="$dir/dnsmasq.log" --log-dhcp --log-queries &
  dnsmasq_pid=$!
  trap 'kill $dnsmasq_pid 2>/dev/null || true' EXIT
  args=(--elf "$elf" --tonearm "$tonearm" --dir "$dir")
  if [ -n "$only" ]; then args+=(--only "$only"); fi
  # Every QEMU run has its own deadlines in the driver; this bounds the whole.
  timeout --kill-after=10 "${BOARD_VIRT_TIMEOUT:-420}" "$driver" "${args[@]}"
  exit $?
fi

# ---- Outside: install, build, then the namespace ----
# shellcheck source=setup.sh
source scripts/setup.sh
declare -a timings=()
stage() { # stage NAME COMMAND...
  local name=$1; shift
  local t0; t0=$(date +%s)
  echo "==> board-virt: $name" >&2
  "$@"
  local dt=$(( $(date +%s) - t0 ))
  timings+=("$(printf 'board-virt: stage %-22s %4ds' "$name" "$dt")")
}
finish() { # finish PASSED
  for t in "${timings[@]}"; do echo "$t"; done
  echo "board-virt: $1/$scenarios_total scenarios pass"
}

install() {
  rust_need
  rust_target_need riscv32imc-unknown-none-elf
  command -v qemu-system-riscv32 >/dev/null || apt_need qemu-system-misc
  command -v dnsmasq >/dev/null || apt_need dnsmasq-base
  # The hub scenario's broker (and mosquitto_passwd for its users).
  command -v mosquitto >/dev/null && command -v mosquitto_passwd >/dev/null \
    || apt_need mosquitto mosquitto-clients
  command -v ip >/dev/null || apt_need iproute2
  # The desktop binary (for `tonearm render --checksum`) is built as scripts/test.sh
  # builds it, with its SDL window.
  apt_need libsdl2-dev pkg-config
}
build() {
  # Their own workspaces: the root's `cargo fmt --all` does not see them.
  (cd "$board" && cargo fmt --all -- --check) || return 1
  (cd "$host" && cargo fmt --all -- --check) || return 1
  (cd "$board" && cargo build --release --locked) || return 1
  (cd "$host" && cargo build --release --locked) || return 1
  # The desktop's renderer, for the checksums the board's frames must match.
  cargo build --locked -p tonearm-sim --bin tonearm || return 1
}
if ! stage install install || ! stage build build; then
  echo "board-virt: FAIL build: see above"
  finish 0
  exit 1
fi

# Where cargo put them: CARGO_TARGET_DIR (CI sets one for every workspace), else each
# workspace's own target folder.
elf=${CARGO_TARGET_DIR:-$root/$board/target}/riscv32imc-unknown-none-elf/release/tonearm-board-qemu-virt
driver=$(ls "${CARGO_TARGET_DIR:-$root/$host/target}"/*/release/tonearm-virt-host | head -n1)
tonearm=${CARGO_TARGET_DIR:-$root/target}/debug/tonearm
dir=${BOARD_VIRT_DIR:-$root/target/board-virt}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# Sizes from the ELF's sections: flash is what the image holds (code, constants, unwind
# tables, .data's initial values), static RAM is .data and .bss (the stack is the rest of
# the 320 KiB).
read -r flash ram < <(size -A "$elf" | awk '
  $1 ~ /^\.(text|init\.rust|rodata|eh_frame)$/ { f += $2 }
  $1 == ".data" { f += $2; r += $2 }
  $1 ~ /^\.(bss|uninit)$/ { r += $2 }
  END { print f + 0, r + 0 }')
echo "board-virt: size flash $flash B of 4 MiB, static RAM $ram B of 320 KiB (the stack: the other $((320 * 1024 - ram)) B)"

# A namespace in which a tap device can be made: as root, or as a user with unprivileged
# user namespaces (and /dev/net/tun open to them).
tap_probe=(ip tuntap add dev tap0 mode tap)
if [ "$(id -u)" = 0 ] && unshare -n -- "${tap_probe[@]}" 2>/dev/null; then
  ns=(unshare -n --)
elif unshare --user --map-root-user --net -- "${tap_probe[@]}" 2>/dev/null; then
  ns=(unshare --user --map-root-user --net --)
elif [ -z "${CI:-}" ]; then
  echo "board-virt: skipped: no network namespace with a tap device here (needs root, or unprivileged user namespaces and /dev/net/tun)"
  exit 0
else
  echo "board-virt: FAIL network: no network namespace with a tap device (needs root, or unprivileged user namespaces and /dev/net/tun)"
  finish 0
  exit 1
fi

# Three namespaces side by side (each its own tap0, dnsmasq, front and SNTP responder,
# on the same addresses: nothing is shared), the long scenarios spread over them.
groups=(
  "server_gone,hub"
  "hanging_response,rate_limited,link_down_up"
  "boot,setup_needed,track_change,token_rotation,quota_exceeded,mitm_unknown_root,mitm_no_certificate_verify"
)
if [ -n "${BOARD_VIRT_ONLY:-}" ]; then groups=("$BOARD_VIRT_ONLY"); fi
out=$dir/scenarios.out
t0=$(date +%s)
pids=()
for i in "${!groups[@]}"; do
  mkdir -p "$dir/ns$i"
  rm -f "$dir/ns$i"/*.uart.log
  "${ns[@]}" "$0" --inside "$dir/ns$i" "$elf" "$driver" "$tonearm" "${groups[$i]}" \
    >"$dir/ns$i/scenarios.out" 2>"$dir/ns$i/driver.err" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
cat "$dir"/ns*/scenarios.out >"$out"
grep -E '^board-virt: (PASS|FAIL) ' "$out" || true
timings+=("$(printf 'board-virt: stage %-22s %4ds' scenarios "$(( $(date +%s) - t0 ))")")
# The budgets: the board prints them every 30 s; the peaks over every run.
budgets=$(grep -h -E '^ *[0-9.]+ budget: flash.*heap peak [0-9]+ B$' "$dir"/ns*/*.uart.log 2>/dev/null || true)
if [ -n "$budgets" ]; then
  # The static figures of one run, the peaks over all of them.
  peak() { echo "$budgets" | sed -n "s/.*$1 \([0-9]*\) B.*/\1/p" | sort -n | tail -n1; }
  echo "$budgets" | tail -n1 \
    | sed -e 's/^ *[0-9.]* budget: /board-virt: budget: /' \
      -e "s/peak stack [0-9]* B/peak stack $(peak 'peak stack') B/" \
      -e "s/heap peak [0-9]* B/heap peak $(peak 'heap peak') B (peaks over every run)/"
fi
passed=$(grep -c '^board-virt: PASS' "$out" || true)
if [ -n "${BOARD_VIRT_ONLY:-}" ]; then
  scenarios_total=$(echo "$BOARD_VIRT_ONLY" | tr ',' '\n' | grep -c .)
fi
finish "$passed"
[ "$passed" = "$scenarios_total" ]
