#!/bin/sh
# CI check: rebuilds kernel.wasm into a temporary directory and fails if it differs from the
# committed one (the source changed without rebuilding, or the build is not reproducible).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$here/build.sh" "$tmp/kernel.wasm"
if cmp -s "$tmp/kernel.wasm" "$here/kernel.wasm"; then
  echo "kernel.wasm matches kernel.c"
else
  echo "kernel.wasm differs from a rebuild of kernel.c ($(clang --version | head -n 1)); run src/kt/wasm/build.sh" >&2
  exit 1
fi
