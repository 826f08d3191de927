#!/usr/bin/env bash
# Installs what Tonearm's build and tests need on Debian/Ubuntu, and only what is missing.
# Sourced by scripts/run.sh and scripts/test.sh; safe to run again.
set -euo pipefail

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "tonearm: need root (or sudo) to run: $*" >&2; return 1; fi
}

# apt_need PKG...: installs the packages that are not installed yet.
apt_need() {
  local missing=()
  # With a foreign architecture added (multiarch), a package installed for both is ambiguous
  # to `dpkg -s NAME`: then NAME means the native one, as it does to apt-get.
  local native; native=$(dpkg --print-architecture 2>/dev/null || true)
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || dpkg -s "$p:$native" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null; then
    echo "tonearm: please install: ${missing[*]} (no apt-get here)" >&2; return 1
  fi
  echo "tonearm: installing ${missing[*]}" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

rust_need() {
  command -v cargo >/dev/null || { echo "tonearm: install Rust first: https://rustup.rs" >&2; return 1; }
  if command -v rustup >/dev/null; then
    rustup target list --installed | grep -qx thumbv7em-none-eabihf || rustup target add thumbv7em-none-eabihf
    for c in rustfmt clippy; do
      rustup component list --installed | grep -q "^$c" || rustup component add "$c"
    done
  fi
}

# foreign_arch_need ARCH: lets dpkg install another architecture's packages (multiarch, e.g.
# libsdl2-dev:arm64 for a cross build). apt_need updates the package lists before it installs
# anything, so the new architecture's lists come with the first package that needs them.
foreign_arch_need() {
  [ "$(dpkg --print-architecture)" = "$1" ] && return 0
  dpkg --print-foreign-architectures | grep -qx "$1" && return 0
  echo "tonearm: adding the $1 architecture to dpkg (multiarch)" >&2
  as_root dpkg --add-architecture "$1"
}

# rust_target_need TRIPLE: the Rust standard library for another target.
rust_target_need() {
  rustup target list --installed | grep -qx "$1" || rustup target add "$1"
}
