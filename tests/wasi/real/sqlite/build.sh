#!/usr/bin/env bash
# Builds sql.wasm (not checked in): the SQLite library from the amalgamation that the
# `libsqlite3-sys` crate on crates.io bundles (SQLite supports WASI itself: no WAL, no
# threads, no extensions), with our own small front end sql.c, by zig's clang (PyPI).
# Usage: tests/wasi/real/sqlite/build.sh   (then bench.sh)
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
CRATE_VERSION="${CRATE_VERSION:-0.30.1}"

"$PYTHON" -c 'import ziglang' 2>/dev/null || "$PYTHON" -m pip install --quiet ziglang==0.17.1

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
printf '[package]\nname = "fetch-sqlite"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\nlibsqlite3-sys = { version = "=%s", features = ["bundled"] }\n' \
    "$CRATE_VERSION" > "$work/Cargo.toml"
echo 'fn main() {}' > "$work/src/main.rs"
(cd "$work" && cargo fetch --quiet)
manifest="$(cargo metadata --quiet --format-version 1 --manifest-path "$work/Cargo.toml" |
    "$PYTHON" -c 'import json,sys; print(next(p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"]=="libsqlite3-sys"))')"
src="$(dirname "$manifest")/sqlite3"

"$PYTHON" -m ziglang cc --target=wasm32-wasi -mcpu=generic -O2 -g0 -s -I"$src" \
    -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_DEFAULT_MEMSTATUS=0 \
    "$src/sqlite3.c" sql.c -o sql.wasm
echo "built sql.wasm ($(wc -c < sql.wasm) bytes)"
