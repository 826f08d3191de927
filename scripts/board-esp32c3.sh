#!/usr/bin/env bash
# The ESP32-C3 + ST7789 board (firmware/boards/esp32c3-st7789): host tests of its
# hardware-free logic (storage records, TLS name checks, SNTP, debouncing) and the TLS
# verification spike, then the firmware's release build for riscv32imc-unknown-none-elf
# (installs the target if missing), then the image size (from the ELF sections) and
# the static RAM. Nothing here runs on hardware.
#   scripts/board-esp32c3.sh            everything
#   SKIP_SPIKE=1 scripts/board-esp32c3.sh   without the spike (its build is the slowest part)
set -euo pipefail
cd "$(dirname "$0")/../firmware/boards/esp32c3-st7789"
target=riscv32imc-unknown-none-elf
host=$(rustc -vV | sed -n 's/^host: //p')

if ! rustup target list --installed | grep -qx "$target"; then
  rustup target add "$target"
fi

echo "==> esp32c3: fmt" >&2
cargo fmt --all -- --check
(cd tls-spike && cargo fmt -- --check)

echo "==> esp32c3: host tests (tonearm-c3-shell)" >&2
cargo test --locked -p tonearm-c3-shell --features rsa --target "$host"

if [ "${SKIP_SPIKE:-0}" != 1 ]; then
  echo "==> esp32c3: TLS verification spike (loopback server)" >&2
  (cd tls-spike && cargo test --locked --target "$host" -- --nocapture)
fi

echo "==> esp32c3: firmware release build" >&2
t0=$(date +%s)
cargo build --release --locked
echo "build took $(( $(date +%s) - t0 ))s" >&2

elf="${CARGO_TARGET_DIR:-target}/$target/release/tonearm-board-esp32c3-st7789"
python3 - "$elf" <<'PY'
import struct, sys
path = sys.argv[1]
data = open(path, 'rb').read()
assert data[:4] == b'\x7fELF' and data[4] == 1, 'not an ELF32 file'
shoff, = struct.unpack_from('<I', data, 0x20)
shentsize, shnum, shstrndx = struct.unpack_from('<HHH', data, 0x2e)
secs = [struct.unpack_from('<IIIIIIIIII', data, shoff + i * shentsize) for i in range(shnum)]
stroff = secs[shstrndx][4]
def name(off):
    end = data.index(b'\0', stroff + off)
    return data[stroff + off:end].decode()
SHF_ALLOC, SHT_NOBITS = 2, 8
flash_code = flash_rodata = ram_init = ram_bss = iram = stack = dram2 = 0
for (nm, typ, flags, addr, off, size, *_ ) in secs:
    if not flags & SHF_ALLOC or size == 0:
        continue
    n = name(nm)
    if n.endswith('_dummy'):
        continue                      # address placeholders: no bytes of their own
    if n == '.stack':
        stack += size                 # the rest of DRAM, left to the stack
        continue
    if n == '.dram2_uninit':
        dram2 += size                 # RAM the bootloader gives back: the 64 KiB heap
        continue
    if 0x42000000 <= addr < 0x44000000:
        flash_code += size            # IROM: code executed from flash
    elif 0x3C000000 <= addr < 0x3E000000:
        flash_rodata += size          # DROM: constants in flash
    elif 0x40370000 <= addr < 0x40400000:
        iram += size                  # code copied to RAM (also in the image)
    elif 0x3FC80000 <= addr < 0x3FD00000:
        if typ == SHT_NOBITS:
            ram_bss += size
        else:
            ram_init += size          # .data: in RAM, its initial values in the image
image = flash_code + flash_rodata + iram + ram_init
static_ram = iram + ram_init + ram_bss
print(f"esp32c3 image: {image} B (flash code {flash_code} B, flash rodata {flash_rodata} B, "
      f"IRAM code {iram} B, .data {ram_init} B) of a 3 968 KiB app partition")
print(f"esp32c3 static RAM: {static_ram} B (IRAM {iram} B, .data {ram_init} B, .bss {ram_bss} B, "
      f"of which the 48 KiB heap); left for the stack {stack} B; reclaimed RAM {dram2} B (the 64 KiB heap)")
PY
