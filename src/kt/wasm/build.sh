#!/bin/sh
# Builds kernel.wasm from kernel.c with Debian's clang + lld (apt-get install clang lld).
# Usage: build.sh [output file]   (default: kernel.wasm next to this script)
# The output is deterministic for a given toolchain: no debug info, no names, no build paths.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/kernel.wasm"}
cd "$here"
clang --target=wasm32 -msimd128 -mbulk-memory -O3 -ffreestanding -nostdlib -g0 \
  -Wall -Wextra -Werror \
  -Wl,--no-entry -Wl,--export=__heap_base -Wl,--strip-all \
  -o "$out" kernel.c
chmod 644 "$out"
