#!/usr/bin/env bash
# Rebuilds the SIMD workload and its scalar twin from c/kernels.c with zig's bundled
# clang (freestanding wasm32, no libc, no imports):
#   wasm/simd.wasm         -mcpu=mvp -msimd128   (MVP + fixed-width SIMD)
#   wasm/simd_scalar.wasm  -mcpu=mvp             (the same kernels without SIMD)
# Flags follow shared/bench/build.sh. Usage: ./build.sh
set -euo pipefail
cd "$(dirname "$0")"

ZIGLANG_VERSION="${ZIGLANG_VERSION:-0.17.1}"   # the version the checked-in wasm/ was built with
PYTHON="${PYTHON:-python3}"

if ! "$PYTHON" -c 'import ziglang' 2>/dev/null; then
    echo "build.sh: installing ziglang==$ZIGLANG_VERSION from PyPI" >&2
    "$PYTHON" -m pip install --quiet "ziglang==$ZIGLANG_VERSION"
fi

# -fno-builtin: no calls to memcpy/memset; -ffp-contract=off: no a*b+c fusion, so the
# two builds do the same float operations; -g0: no DWARF (no absolute paths).
CFLAGS=(--target=wasm32-freestanding -O2 -nostdlib -ffreestanding -fno-builtin
        -fno-math-errno -ffp-contract=off -g0)
LDFLAGS=(-Wl,--no-entry -Wl,--export=run)

mkdir -p wasm
"$PYTHON" -m ziglang cc "${CFLAGS[@]}" -mcpu=mvp -msimd128 "${LDFLAGS[@]}" -o wasm/simd.wasm c/kernels.c
"$PYTHON" -m ziglang cc "${CFLAGS[@]}" -mcpu=mvp "${LDFLAGS[@]}" -o wasm/simd_scalar.wasm c/kernels.c
for f in wasm/simd.wasm wasm/simd_scalar.wasm; do
    echo "built $f ($(wc -c < "$f") bytes)"
done
