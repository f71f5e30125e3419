#!/usr/bin/env bash
# Runs work.sql through sql.wasm under gloam and under wasmtime (PyPI `wasmtime`, through
# ../../wasmtime_ref.py), each on a fresh database file in a preopened directory; checks
# the outputs are the same and prints the times.
# Usage: tests/wasi/real/sqlite/bench.sh   (after build.sh and a release build of gloam)
set -euo pipefail
cd "$(dirname "$0")"
gloam="${GLOAM:-${CARGO_TARGET_DIR:-../../../../target}/release/gloam}"
box="$(mktemp -d)"
trap 'rm -rf "$box"' EXIT
cp work.sql "$box/"
args=(--dir "$box::/box" sql.wasm /box/test.db /box/work.sql)
/usr/bin/time -f "gloam:    %e s wall, %U s user" "$gloam" run "${args[@]}" > "$box/gloam.out"
rm -f "$box/test.db"
/usr/bin/time -f "wasmtime: %e s wall, %U s user" python3 ../../wasmtime_ref.py "${args[@]}" > "$box/wasmtime.out"
if cmp -s "$box/gloam.out" "$box/wasmtime.out"; then
    echo "outputs identical ($(wc -l < "$box/gloam.out") lines)"
else
    diff "$box/gloam.out" "$box/wasmtime.out"
    exit 1
fi
