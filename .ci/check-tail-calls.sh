#!/usr/bin/env bash
# Every handler of the threaded dispatcher must continue with a jump, not a call: a call
# would grow the host stack with every wasm instruction. Checks the release binary's
# x86-64 code (the threaded backend is compiled for release builds on x86-64/aarch64):
# no handler (`run`, or its accumulator variant `run_acc`) may contain an indirect call
# other than through the GOT (libm calls such as `ceilf`).
set -euo pipefail
bin=${1:-target/release/gloam}
[ "$(uname -m)" = x86_64 ] || { echo "check-tail-calls: not x86-64, skipped"; exit 0; }
command -v objdump >/dev/null || { echo "check-tail-calls: objdump missing" >&2; exit 1; }
handlers=$(objdump -d --no-show-raw-insn "$bin" | grep -Ec 'threaded2op.*(3run|7run_acc).*>:$' || true)
bad=$(objdump -d --no-show-raw-insn "$bin" | awk '
/^[0-9a-f]+ <_ZN12gloam_interp4exec8threaded2op.*(3run|7run_acc)/ { fn=$2; next }
/^[0-9a-f]+ </ { fn="" }
fn != "" && /call +\*/ && !/\(%rip\)/ { print fn }' | sort -u)
if [ "$handlers" -lt 100 ]; then
  echo "check-tail-calls: only $handlers threaded handlers found in $bin" >&2
  exit 1
fi
if [ -n "$bad" ]; then
  echo "check-tail-calls: handlers that call the next handler instead of jumping:" >&2
  echo "$bad" >&2
  exit 1
fi
echo "check-tail-calls: all $handlers threaded handlers end in a jump"
