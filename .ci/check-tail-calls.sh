#!/usr/bin/env bash
# Every handler of the threaded dispatcher must continue with a jump, not a call: a call
# would grow the host stack with every wasm instruction. Checks the release binary's
# x86-64 code (the threaded backend is compiled for release builds on x86-64/aarch64):
# no handler (`run`, its accumulator variants `run_acc` and `run_acc_b`, the fused
# `after_*`, the `acc_op`, `global_op` and `call_op` handlers) may
# contain an indirect call
# other than through the GOT (libm calls such as `ceilf`).
set -euo pipefail
bin=${1:-target/release/gloam}
[ "$(uname -m)" = x86_64 ] || { echo "check-tail-calls: not x86-64, skipped"; exit 0; }
command -v objdump >/dev/null || { echo "check-tail-calls: objdump missing" >&2; exit 1; }
handlers=$(objdump -d --no-show-raw-insn "$bin" | grep -Ec 'threaded(2op|6acc_op|9global_op|7call_op).*(3run|7run_acc|9run_acc_b|9after_add|13after_add_imm|13after_shl_imm|3get|3set|7set_acc|4call|13call_indirect|3ret|4ret1)17h.*>:$' || true)
bad=$(objdump -d --no-show-raw-insn "$bin" | awk '
/^[0-9a-f]+ <_ZN12gloam_interp4exec8threaded(2op|6acc_op|9global_op|7call_op).*(3run|7run_acc|9run_acc_b|9after_add|13after_add_imm|13after_shl_imm|3get|3set|7set_acc|4call|13call_indirect|3ret|4ret1)17h/ { fn=$2; next }
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
