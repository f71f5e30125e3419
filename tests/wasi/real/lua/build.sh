#!/usr/bin/env bash
# Builds a standalone Lua 5.4 interpreter for WASI (lua.wasm, not checked in) from the
# Lua sources that the `lua-src` crate on crates.io ships, with zig's clang from PyPI
# (`ziglang`). main.c is our own minimal `lua` front end.
#
# The engine has no exception-handling proposal, which wasi-libc's setjmp/longjmp
# needs; Lua raises errors with longjmp, so wasi_throw.h replaces that with "print the
# error and exit(1)". Consequences: `error()` ends the program even under `pcall`, and
# coroutines cannot yield from Lua code (yield uses the same mechanism).
#
# Usage: tests/wasi/real/lua/build.sh   (then see bench.sh)
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
LUA_SRC_VERSION="${LUA_SRC_VERSION:-548.1.2}"

"$PYTHON" -c 'import ziglang' 2>/dev/null || "$PYTHON" -m pip install --quiet ziglang==0.17.1

# Fetch the crate through cargo (a throwaway manifest; nothing is built with cargo).
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
printf '[package]\nname = "fetch-lua"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\nlua-src = "=%s"\n' \
    "$LUA_SRC_VERSION" > "$work/Cargo.toml"
echo 'fn main() {}' > "$work/src/main.rs"
(cd "$work" && cargo fetch --quiet)
src="$(cargo metadata --quiet --format-version 1 --manifest-path "$work/Cargo.toml" |
    "$PYTHON" -c 'import json,sys; print(next(p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"]=="lua-src"))')"
lua="$(dirname "$src")/lua-5.4.8"

mkdir -p "$work/fake" && echo '/* no setjmp: see wasi_throw.h */' > "$work/fake/setjmp.h"
srcs=$(ls "$lua"/*.c | grep -v -E '/(lua|luac)\.c$')
"$PYTHON" -m ziglang cc --target=wasm32-wasi -mcpu=generic -O2 -g0 -s \
    -I"$work/fake" -I"$lua" -include wasi_throw.h \
    -D_WASI_EMULATED_PROCESS_CLOCKS -D_WASI_EMULATED_SIGNAL -Wno-return-type \
    $srcs main.c -lwasi-emulated-process-clocks -lwasi-emulated-signal -o lua.wasm
echo "built lua.wasm ($(wc -c < lua.wasm) bytes)"
