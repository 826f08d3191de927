#!/usr/bin/env bash
# The ESP32-C3 + ST7789 board (firmware/boards/esp32c3-st7789): the host tests of the
# kit it is wired to (firmware/kit, tonearm-kit: HTTPS framing, the strict verifier's DER
# checks, SNTP, settings, buttons; with every feature the board turns on) and the TLS
# verification spike (the kit's verifier against loopback servers), then the firmware's
# release build for riscv32imc-unknown-none-elf (installs the target if missing), then
# its sizes from the ELF: the image (flash), the static RAM, and the TLS buffers. Nothing
# here runs on hardware (the emulated twin, firmware/boards/qemu-virt, runs the kit).
#   scripts/board-esp32c3.sh            everything
#   SKIP_SPIKE=1 scripts/board-esp32c3.sh   without the spike (its build is the slowest part)
#   SKIP_KIT_TESTS=1 scripts/board-esp32c3.sh   without the kit's tests (CI's workspace run has them)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/firmware/boards/esp32c3-st7789"
target=riscv32imc-unknown-none-elf
host=$(rustc -vV | sed -n 's/^host: //p')

if ! rustup target list --installed | grep -qx "$target"; then
  rustup target add "$target"
fi

echo "==> esp32c3: fmt" >&2
# The board's own files (`--all` would also check its path dependencies, the host
# workspace's crates, which the workspace's own `cargo fmt --all` checks).
cargo fmt -- --check
(cd tls-spike && cargo fmt -- --check)

if [ "${SKIP_KIT_TESTS:-0}" != 1 ]; then
  echo "==> esp32c3: host tests of the kit (tonearm-kit, the board's features)" >&2
  (cd "$root" && cargo test --locked -p tonearm-kit --features embassy-net,rsa,p384)
fi

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
# Named statics (src/main.rs): the TLS/HTTP buffers and the TCP socket's; the main task's
# future (the loop's state, with the verifier's copy of the certificate list).
SHT_SYMTAB = 2
named = {'TLS_BUFFERS': 0, 'TCP_BUFFERS': 0, '__embassy_main4POOL': 0}
for (nm, typ, flags, addr, off, size, link, *_ ) in secs:
    if typ != SHT_SYMTAB:
        continue
    strs = secs[link][4]
    for i in range(size // 16):
        st_name, st_value, st_size, st_info, st_other, st_shndx = struct.unpack_from('<IIIBBH', data, off + i * 16)
        end = data.index(b'\0', strs + st_name)
        sym = data[strs + st_name:end].decode(errors='replace')
        for key in named:
            if key in sym:
                named[key] = max(named[key], st_size)
image = flash_code + flash_rodata + iram + ram_init
static_ram = iram + ram_init + ram_bss
print(f"esp32c3 image: {image} B (flash code {flash_code} B, flash rodata {flash_rodata} B, "
      f"IRAM code {iram} B, .data {ram_init} B) of a 3 968 KiB app partition")
print(f"esp32c3 static RAM: {static_ram} B (IRAM {iram} B, .data {ram_init} B, .bss {ram_bss} B, "
      f"of which the 48 KiB heap); left for the stack {stack} B; reclaimed RAM {dram2} B (the 64 KiB heap)")
print(f"esp32c3 TLS buffers: {named['TLS_BUFFERS']} B static (tonearm_kit::https::Buffers: TLS read 16 640 B, "
      f"write 4 096 B, response head 4 096 B, body pieces 512 B), TCP {named['TCP_BUFFERS']} B static; "
      f"the main task's future {named['__embassy_main4POOL']} B (with the verifier's 8 192 B certificate copy)")
PY
