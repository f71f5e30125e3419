#!/usr/bin/env bash
# Rebuilds wasm/*.wasm from c/*.c: WASI preview 1 command programs, built with the
# clang and wasi-libc that the `ziglang` package from PyPI bundles. The .wasm files are
# checked in, so the tests need no compiler; run this after changing a program.
# Usage: tests/wasi/build.sh
set -euo pipefail
cd "$(dirname "$0")"

ZIGLANG_VERSION="${ZIGLANG_VERSION:-0.17.1}"   # the version the checked-in wasm/ was built with
PYTHON="${PYTHON:-python3}"

if ! "$PYTHON" -c 'import ziglang' 2>/dev/null; then
    echo "build.sh: installing ziglang==$ZIGLANG_VERSION from PyPI" >&2
    "$PYTHON" -m pip install --quiet "ziglang==$ZIGLANG_VERSION"
fi
have="$("$PYTHON" -m ziglang version)"
if [ "$have" != "$ZIGLANG_VERSION" ]; then
    echo "build.sh: note: zig $have, wasm/ was built with $ZIGLANG_VERSION" >&2
fi

# -mcpu=generic: LLVM's default wasm feature set (sign-ext, mutable globals, bulk
#   memory, non-trapping float-to-int, multi-value, reference types; no SIMD)
# -g0 -s: no DWARF or name section (keeps the files small and free of local paths)
CFLAGS=(--target=wasm32-wasi -mcpu=generic -O2 -g0 -s)

mkdir -p wasm
for src in c/*.c; do
    name="$(basename "$src" .c)"
    "$PYTHON" -m ziglang cc "${CFLAGS[@]}" -o "wasm/$name.wasm" "$src"
    echo "built wasm/$name.wasm ($(wc -c < "wasm/$name.wasm") bytes)"
done
