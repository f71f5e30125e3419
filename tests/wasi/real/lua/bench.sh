#!/usr/bin/env bash
# Runs bench.lua under gloam and under wasmtime (PyPI `wasmtime`, through
# ../../wasmtime_ref.py), checks the outputs are the same, and prints wall and user times.
# Usage: tests/wasi/real/lua/bench.sh [SCALE]   (after build.sh and a release build of gloam)
set -euo pipefail
cd "$(dirname "$0")"
scale="${1:-1}"
gloam="${GLOAM:-${CARGO_TARGET_DIR:-../../../../target}/release/gloam}"
box="$(mktemp -d)"
trap 'rm -rf "$box"' EXIT
cp bench.lua "$box/"
args=(--dir "$box::/box" lua.wasm /box/bench.lua "$scale" /box/nums.txt)
/usr/bin/time -f "gloam:    %e s wall, %U s user" "$gloam" run "${args[@]}" > "$box/gloam.out"
/usr/bin/time -f "wasmtime: %e s wall, %U s user" python3 ../../wasmtime_ref.py "${args[@]}" > "$box/wasmtime.out"
if cmp -s "$box/gloam.out" "$box/wasmtime.out"; then
    echo "outputs identical ($(wc -l < "$box/gloam.out") lines)"
else
    diff "$box/gloam.out" "$box/wasmtime.out"
    exit 1
fi
