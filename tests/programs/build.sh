#!/usr/bin/env bash
# Rebuilds the exception-handling programs (WASI preview 1 commands using Wasm 3.0
# exceptions: try_table, throw, throw_ref, exnref), checked in under wasm/ so the tests
# (tests/tests/programs.rs) need no compiler:
#
#   wasm/cpp_exceptions.wasm  cpp/exceptions.cpp
#   wasm/lua.wasm             Lua 5.4.8 (from the `lua-src` crate on crates.io, MIT) compiled
#                             as C++, so its errors are C++ exceptions, + lua/main.cpp
#
# Compiler: clang, libc++ and wasi-libc from the PyPI `ziglang` package. zig's prebuilt
# libc++abi for wasm32-wasi has no exception support (it is built -fno-exceptions), so
# this script compiles the pieces C++ exceptions need from the LLVM sources zig ships
# (lib/libcxxabi: cxa_exception.cpp, cxa_personality.cpp; lib/libunwind:
# Unwind-wasm.c; Apache-2.0 WITH LLVM-exception) with -fwasm-exceptions, and defines
# the `__cpp_exception` tag itself (rt/cpp_exception_tag.S). `-wasm-use-legacy-eh=false`
# selects the standard (exnref) encoding over the legacy try/catch one.
#
# Usage: tests/programs/build.sh
set -euo pipefail
cd "$(dirname "$0")"

ZIGLANG_VERSION="${ZIGLANG_VERSION:-0.17.1}"   # the version the checked-in wasm/ was built with
LUA_SRC_VERSION="${LUA_SRC_VERSION:-548.1.2}"
PYTHON="${PYTHON:-python3}"

if ! "$PYTHON" -c 'import ziglang' 2>/dev/null; then
    echo "build.sh: installing ziglang==$ZIGLANG_VERSION from PyPI" >&2
    "$PYTHON" -m pip install --quiet "ziglang==$ZIGLANG_VERSION"
fi
have="$("$PYTHON" -m ziglang version)"
if [ "$have" != "$ZIGLANG_VERSION" ]; then
    echo "build.sh: note: zig $have, wasm/ was built with $ZIGLANG_VERSION" >&2
fi
zlib="$("$PYTHON" -c 'import ziglang, os; print(os.path.join(os.path.dirname(ziglang.__file__), "lib"))')"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# -mexception-handling -fwasm-exceptions: C++ exceptions as Wasm exceptions
# -g0 -s: no DWARF or name section (small files, no local paths)
EH=(-fwasm-exceptions -mexception-handling -mllvm -wasm-use-legacy-eh=false)
FLAGS=(--target=wasm32-wasi -mcpu=generic "${EH[@]}" -O2 -g0)

# The exception runtime: unwinder, the parts of libc++abi that throw and catch, the tag.
"$PYTHON" -m ziglang cc "${FLAGS[@]}" -D_LIBUNWIND_HIDE_SYMBOLS -I"$zlib/libunwind/include" \
    -Wno-c23-extensions -c "$zlib/libunwind/src/Unwind-wasm.c" -o "$work/unwind-wasm.o"
for s in cxa_exception cxa_personality; do
    "$PYTHON" -m ziglang c++ "${FLAGS[@]}" -std=c++20 -D_LIBCXXABI_BUILDING_LIBRARY \
        -DLIBCXXABI_USE_LLVM_UNWINDER -D_LIBCPP_BUILDING_LIBRARY -D_LIBCXXABI_HAS_NO_THREADS \
        -I"$zlib/libcxxabi/include" -I"$zlib/libunwind/include" -I"$zlib/libcxx/src" \
        -c "$zlib/libcxxabi/src/$s.cpp" -o "$work/$s.o"
done
"$PYTHON" -m ziglang cc --target=wasm32-wasi -mexception-handling \
    -c rt/cpp_exception_tag.S -o "$work/tag.o"
rt=("$work/unwind-wasm.o" "$work/cxa_exception.o" "$work/cxa_personality.o" "$work/tag.o")

mkdir -p wasm
"$PYTHON" -m ziglang c++ "${FLAGS[@]}" -s cpp/exceptions.cpp "${rt[@]}" -o wasm/cpp_exceptions.wasm
echo "built wasm/cpp_exceptions.wasm ($(wc -c < wasm/cpp_exceptions.wasm) bytes)"

# Lua: fetch the crate through cargo (a throwaway manifest; nothing is built with cargo).
mkdir -p "$work/fetch/src"
printf '[package]\nname = "fetch-lua"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\nlua-src = "=%s"\n' \
    "$LUA_SRC_VERSION" > "$work/fetch/Cargo.toml"
echo 'fn main() {}' > "$work/fetch/src/main.rs"
(cd "$work/fetch" && cargo fetch --quiet)
manifest="$(cargo metadata --quiet --format-version 1 --manifest-path "$work/fetch/Cargo.toml" |
    "$PYTHON" -c 'import json,sys; print(next(p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"]=="lua-src"))')"
lua="$(dirname "$manifest")/lua-5.4.8"
srcs=$(ls "$lua"/*.c | grep -v -E '/(lua|luac)\.c$')
# -x c++: Lua's ldo.c then raises errors with `throw` and catches them with try/catch.
"$PYTHON" -m ziglang c++ "${FLAGS[@]}" -s -I"$lua" \
    -D_WASI_EMULATED_PROCESS_CLOCKS -D_WASI_EMULATED_SIGNAL -Wno-deprecated -Wno-return-type \
    -x c++ $srcs -x none lua/main.cpp "${rt[@]}" \
    -lwasi-emulated-process-clocks -lwasi-emulated-signal -o wasm/lua.wasm
echo "built wasm/lua.wasm ($(wc -c < wasm/lua.wasm) bytes)"
