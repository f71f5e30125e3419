//! The threaded dispatcher: one function per opcode, each ending in a tail call to the
//! next instruction's handler.
//!
//! Every handler has the same signature, with the hot state (instruction pointer, frame
//! registers, memory base and length, code base, executor) in argument registers, and ends
//! by calling the next instruction's handler (stored beside it, see [`Slot`]) in tail position.
//! With optimizations on, LLVM turns those calls into jumps (sibling calls): each handler
//! has its own indirect branch, which predicts far better than one shared `match`.
//!
//! Stable Rust cannot *guarantee* the tail call, so this backend is compiled only for
//! release builds (`debug_assertions` off) on x86-64 and aarch64, where the sibling-call
//! optimization applies to this signature; elsewhere, and with the `portable-dispatch`
//! feature, `Executor::run`'s `loop { match }` runs the same table. A release-mode test runs
//! a loop of hundreds of millions of instructions: without the jumps it would overflow
//! the host stack.

#![allow(non_snake_case, non_camel_case_types)]

use super::{Executor, Exit, Hot};
use crate::ops::{Cell, Dst, Imm, Instr, MAX_FIELDS, Reg, field_offsets};
use crate::prelude::*;
use crate::trap::Trap;

/// A handler: runs the instruction at `ip` and continues with the next one.
///
/// The fifth argument is the accumulator: the value the previous instruction produced
/// (see [`thread`]). Handlers return nothing, so no return slot is passed on the stack
/// (which would push an argument to the stack and stop the sibling call); the exit goes
/// in `ex.pending`.
type Handler = unsafe fn(*const Slot, *mut u64, *mut u8, usize, u64, &mut Executor<'_>);

/// One instruction of threaded code: the instruction with its handler next to it (direct
/// threading), so dispatch is one load and one indirect jump, with no table lookup on the
/// critical path.
#[derive(Copy, Clone)]
pub(crate) struct Slot {
    handler: Handler,
    instr: Instr,
}

impl core::fmt::Debug for Slot {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.instr.fmt(f)
    }
}

impl super::CodeUnit for Slot {
    #[inline(always)]
    fn instr(&self) -> Instr {
        self.instr
    }
}

/// Threads a function's code: pairs every instruction with its handler.
///
/// - Branch targets become offsets from the instruction after the branch (`Hot::jump`),
///   so the dispatcher needs no register for the code base.
/// - The accumulator: every handler of the `unary`, `unary_trap`, `binary`, `binary_imm`,
///   `binary_trap` and `load` families passes the value it wrote to its `dst` cell on to
///   the next handler in a machine register. An instruction whose first operand is the
///   previous instruction's `dst` gets the handler variant that reads that register
///   instead of the cell, which takes the store-to-load round trip through the frame off
///   the dependency chain. The cell is written either way, so everything else (other
///   operands, stack maps, traps, the `match` dispatcher) sees the same frame. Only the
///   straight-line successor qualifies: never an instruction a branch can reach, nor the
///   first one of a function. Binary operations, compare-and-branch rows and stores also
///   have a variant that takes their *second* operand (`b`, or the stored value) from the
///   register.
/// - An `i32.add`/`i32.add_imm` that does not read the accumulator and whose result the
///   next instruction tests with a compare-and-branch, or (with `i32.shl_imm`) loads
///   from, runs fused with it in one slot (see [`fuse_pair`]): loop counters and
///   indexed loads cost one dispatch, not two.
///
/// `landings` are the code indices execution can reach other than by a branch of the
/// code (the targets of exception handlers): they read no accumulator either.
pub(crate) fn thread(code: &[Instr], landings: &[u32]) -> Box<[Slot]> {
    let mut is_target = vec![false; code.len() + 1];
    for instr in code {
        let at = OP_INFO[instr.opcode() as usize].target;
        if at != NONE
            && let Some(flag) = is_target.get_mut(u32_at(instr, at) as usize)
        {
            *flag = true;
        }
    }
    for &t in landings {
        if let Some(flag) = is_target.get_mut(t as usize) {
            *flag = true;
        }
    }
    // The cell the previous instruction left in the accumulator, if any.
    let mut produced: Option<u16> = None;
    code.iter()
        .enumerate()
        .map(|(i, instr)| {
            let info = &OP_INFO[instr.opcode() as usize];
            let mut handler = None;
            if let Some(d) = produced
                && !is_target[i]
            {
                if info.first != NONE && cell_at(instr, info.first) == d {
                    handler = info.run_acc;
                } else if info.second != NONE && cell_at(instr, info.second) == d {
                    handler = info.run_acc_b;
                }
            }
            if handler.is_none() && info.prefix != 0 {
                handler = fuse_pair(code, &is_target, i, info);
            }
            produced = (info.produces != NONE).then(|| cell_at(instr, info.produces));
            let mut instr = *instr;
            if info.target != NONE {
                let rel = u32_at(&instr, info.target) as i64 - (i as i64 + 1);
                set_u32_at(&mut instr, info.target, rel as i32 as u32);
            }
            Slot {
                handler: handler.unwrap_or(info.run),
                instr,
            }
        })
        .collect()
}

/// The fused handler for instruction `i` (an `i32.add`, `i32.add_imm` or `i32.shl_imm`,
/// whose facts are `info`) when the next instruction, which no branch targets, uses its
/// result as first operand: a compare-and-branch testing an `i32.add` or `i32.add_imm`,
/// or a load addressed by any of the three. The fused slot runs both and skips the
/// second one's slot (which keeps its handler: the frame, traps and the `match`
/// dispatcher see the same code).
#[inline]
fn fuse_pair(code: &[Instr], is_target: &[bool], i: usize, info: &OpInfo) -> Option<Handler> {
    let next = code.get(i + 1)?;
    let next_info = &OP_INFO[next.opcode() as usize];
    let fused = next_info.after[info.prefix as usize - 1]?;
    let dst = cell_at(&code[i], info.produces);
    (!is_target[i + 1] && cell_at(next, next_info.first) == dst).then_some(fused)
}

/// "No such operand" in [`OpInfo`]'s byte offsets (offset 0 is the opcode).
const NONE: u8 = 0;

/// How an opcode takes part in threading (see [`thread`]), from [`OP_INFO`]. Operands
/// are byte offsets into the instruction: `Instr` is `repr(u16)`, so each variant is
/// laid out as a `repr(C)` struct of the `u16` opcode followed by its fields in order
/// (see [`field_offsets`]).
#[derive(Copy, Clone)]
struct OpInfo {
    /// The handler reading every operand from its cell.
    run: Handler,
    /// The handler taking the `first` operand from the accumulator.
    run_acc: Option<Handler>,
    /// The handler taking the `second` operand from the accumulator.
    run_acc_b: Option<Handler>,
    /// For a compare-and-branch or a load: its fused handlers after an `i32.add`,
    /// `i32.add_imm` and `i32.shl_imm` (by `prefix - 1`) that computes its first operand.
    after: [Option<Handler>; 3],
    /// The cell (a `Dst`) whose value the handler leaves in the accumulator.
    produces: u8,
    /// The operand (a `Reg`) `run_acc` reads from the accumulator.
    first: u8,
    /// The operand (a `Reg`) `run_acc_b` reads from the accumulator.
    second: u8,
    /// The branch target (a `Target`).
    target: u8,
    /// 1, 2, 3 for `i32.add`, `i32.add_imm`, `i32.shl_imm` (prefixes of a fused pair),
    /// else 0.
    prefix: u8,
}

impl OpInfo {
    /// A row outside the accumulator.
    const fn plain(run: Handler, target: u8) -> OpInfo {
        OpInfo {
            run,
            run_acc: None,
            run_acc_b: None,
            after: [None; 3],
            produces: NONE,
            first: NONE,
            second: NONE,
            target,
            prefix: 0,
        }
    }
}

/// The register number at byte offset `at` of `instr`.
#[inline(always)]
fn cell_at(instr: &Instr, at: u8) -> u16 {
    debug_assert!(at != NONE && at as usize + 2 <= size_of::<Instr>());
    // SAFETY: `at` comes from `OP_INFO[instr.opcode()]`, computed from the `repr(C)`
    // layout of that very variant (see `field_offsets`): it is the offset of one of its `Reg`
    // or `Dst` fields, two initialized bytes inside the instruction.
    unsafe {
        (instr as *const Instr)
            .cast::<u8>()
            .add(at as usize)
            .cast::<u16>()
            .read_unaligned()
    }
}

/// Writes `v` to the `u32` (a branch target) at byte offset `at` of `instr`.
#[inline(always)]
fn set_u32_at(instr: &mut Instr, at: u8, v: u32) {
    debug_assert!(at != NONE && at as usize + 4 <= size_of::<Instr>());
    // SAFETY: as in `u32_at`; the instruction is borrowed mutably, and any `u32` is a
    // valid `Target`.
    unsafe {
        (instr as *mut Instr)
            .cast::<u8>()
            .add(at as usize)
            .cast::<u32>()
            .write_unaligned(v)
    }
}

/// The `u32` (a branch target) at byte offset `at` of `instr`.
#[inline(always)]
fn u32_at(instr: &Instr, at: u8) -> u32 {
    debug_assert!(at != NONE && at as usize + 4 <= size_of::<Instr>());
    // SAFETY: as in `cell_at`: `at` is the offset of a `Target` field (a `u32`) of the
    // instruction's variant.
    unsafe {
        (instr as *const Instr)
            .cast::<u8>()
            .add(at as usize)
            .cast::<u32>()
            .read_unaligned()
    }
}

/// The offsets of a field list's types (see [`field_offsets`]).
macro_rules! layout {
    ($($t:ty),* $(,)?) => {
        field_offsets(&[$((size_of::<$t>(), align_of::<$t>())),*])
    };
}

/// The offset of the last field flagged in `is_target`, or [`NONE`].
const fn target_offset(offsets: &[u8; MAX_FIELDS], is_target: &[bool]) -> u8 {
    let mut found = NONE;
    let mut k = 0;
    while k < is_target.len() {
        if is_target[k] {
            found = offsets[k];
        }
        k += 1;
    }
    found
}

/// The offset of the field called `name` (which must exist).
const fn field_offset(names: &[&str], offsets: &[u8; MAX_FIELDS], name: &str) -> u8 {
    let mut k = 0;
    while k < names.len() {
        if names[k].len() == name.len() {
            let (a, b) = (names[k].as_bytes(), name.as_bytes());
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return offsets[k];
            }
        }
        k += 1;
    }
    panic!("no such field")
}

/// The facts of every opcode: [`BASE_INFO`] (the families, and every `other` row outside
/// the accumulator) with the `other` rows that take part in it patched in.
static OP_INFO: [OpInfo; BASE_INFO.len()] = {
    let mut t = [BASE_INFO[0]; BASE_INFO.len()];
    let mut i = 0;
    while i < t.len() {
        t[i] = BASE_INFO[i];
        i += 1;
    }
    t[Opc::I32Add as usize].prefix = 1;
    t[Opc::I32AddImm as usize].prefix = 2;
    t[Opc::I32ShlImm as usize].prefix = 3;
    t[Opc::GlobalGet as usize].run = global_op::get;
    t[Opc::GlobalGet as usize].produces = fields::GlobalGet::at("dst");
    t[Opc::GlobalSet as usize].run = global_op::set;
    t[Opc::GlobalSet as usize].run_acc = Some(global_op::set_acc);
    t[Opc::GlobalSet as usize].first = fields::GlobalSet::at("src");
    // Calls and returns: their `call_op` handlers, outside the accumulator.
    t[Opc::Call as usize].run = call_op::call;
    t[Opc::CallIndirect as usize].run = call_op::call_indirect;
    t[Opc::Return as usize].run = call_op::ret;
    t[Opc::Return1 as usize].run = call_op::ret1;
    patch_acc_others(&mut t);
    t
};

/// Handlers of `hot` rows of the `other` family that take part in the accumulator: `run`
/// leaves the row's `dst` in it (when it has one), `run_acc` takes the row's first
/// operand from it. `run_acc` writes the accumulator to that operand's cell, which holds
/// the same value already, and then runs the row's `Hot` method, whose read of the cell
/// the compiler forwards from that write: the value stays in a register.
macro_rules! acc_others {
    ($($name:ident { $($f:ident),* } produces $prod:tt first $first:tt;)*) => {
        mod acc_op {
            use super::*;
            $(
                #[allow(non_snake_case)]
                pub(super) mod $name {
                    use super::*;
                    handler_fn!(run, |ip, regs, mem, mem_len, acc, ex| {
                        operands!(ip, $name { $($f),* });
                        let mut h = hot(ip, regs, mem, mem_len);
                        if let Err(exit) = Hot::$name(&mut h, $($f),*) {
                            return exit_with(h.ip, ex, exit);
                        }
                        let acc = acc_out!($prod, h, acc);
                        // SAFETY: continues with the next instruction of the same code.
                        unsafe { next(h, acc, ex) }
                    });
                    acc_in_handler!($first, $name { $($f),* } produces $prod);
                }
            )*
        }

        /// Patches the rows of [`acc_others!`] into the opcode facts.
        const fn patch_acc_others(t: &mut [OpInfo]) {
            $(
                let _ = stringify!($($f),*);
                t[Opc::$name as usize] = OpInfo {
                    run: acc_op::$name::run,
                    run_acc: acc_in_fn!($first, $name),
                    run_acc_b: None,
                    after: [None; 3],
                    produces: acc_field!($name, $prod),
                    first: acc_field!($name, $first),
                    second: NONE,
                    target: fields::$name::TARGET,
                    prefix: 0,
                };
            )*
        }
    };
}

/// The accumulator a `run` of [`acc_others!`] passes on.
macro_rules! acc_out {
    (none, $h:ident, $acc:ident) => {
        $acc
    };
    ($dst:ident, $h:ident, $acc:ident) => {{
        let _ = $acc;
        $h.get(Reg($dst.0))
    }};
}

/// The offset of the cell an [`acc_others!`] row names (`none`: no such cell).
macro_rules! acc_field {
    ($name:ident, none) => {
        NONE
    };
    ($name:ident, $r:ident) => {
        fields::$name::at(stringify!($r))
    };
}

/// The `run_acc` of an [`acc_others!`] row, if it has a first operand.
macro_rules! acc_in_fn {
    (none, $name:ident) => {
        None
    };
    ($first:ident, $name:ident) => {
        Some(acc_op::$name::run_acc as Handler)
    };
}

macro_rules! acc_in_handler {
    (none, $($rest:tt)*) => {};
    ($first:ident, $name:ident { $($f:ident),* } produces $prod:tt) => {
        handler_fn!(run_acc, |ip, regs, mem, mem_len, acc, ex| {
            operands!(ip, $name { $($f),* });
            let mut h = hot(ip, regs, mem, mem_len);
            h.set(Dst($first.0), acc);
            if let Err(exit) = Hot::$name(&mut h, $($f),*) {
                return exit_with(h.ip, ex, exit);
            }
            let acc = acc_out!($prod, h, acc);
            // SAFETY: continues with the next instruction of the same code.
            unsafe { next(h, acc, ex) }
        });
    };
}

/// Continues with the instruction at `h.ip`, passing `acc` on.
#[inline(always)]
unsafe fn next(h: Hot, acc: u64, ex: &mut Executor<'_>) {
    // SAFETY: the translator keeps `ip` inside the current function's code (every path
    // ends in a jump, return or trap), and `thread` gave every slot a handler for its
    // opcode.
    unsafe { ((*h.ip).handler)(h.ip, h.regs, h.mem, h.mem_len, acc, ex) }
}

/// Rebuilds the hot state from handler arguments, advanced past the current instruction.
#[inline(always)]
fn hot(ip: *const Slot, regs: *mut u64, mem: *mut u8, mem_len: usize) -> Hot {
    // SAFETY: `ip` points at an instruction, so one past it is in bounds or the end.
    let ip = unsafe { ip.add(1) };
    Hot::new(core::ptr::null(), ip, regs, mem, mem_len)
}

impl Executor<'_> {
    /// Runs the current function with the threaded dispatcher.
    pub(super) fn run_threaded(&mut self) -> Exit {
        let h = Hot::from_executor(self);
        // SAFETY: `h` describes the current frame (see `Hot::from_executor`); the first
        // instruction run never reads the accumulator (see `thread`: a function's first
        // instruction, and every instruction a call returns to, follows no producer).
        unsafe { next(h, 0, self) };
        self.pending.take().unwrap_or(Exit::Done)
    }
}

/// Decodes the operands of the instruction at `ip`, whose opcode is `$name`.
macro_rules! operands {
    ($ip:ident, $name:ident { $($f:ident),* }) => {
        // SAFETY: `thread` gives each slot a handler of its own opcode, so the instruction
        // at `ip` is a `$name`.
        let Instr::$name { $($f),* } = (unsafe { (*$ip).instr }) else {
            // SAFETY: as above; no other variant can be here.
            unsafe { core::hint::unreachable_unchecked() }
        };
    };
}

/// Runs the `i32.add` (`add`), `i32.add_imm` (`add_imm`) or `i32.shl_imm` (`shl_imm`) at
/// `$ip` for a fused slot: writes its `dst` and yields the value (same semantics as the
/// rows in `ops.rs`).
macro_rules! fused_prefix {
    (add, $ip:ident, $h:ident) => {{
        operands!($ip, I32Add { dst, a, b });
        let v = <i32>::from_cell($h.get(a))
            .wrapping_add(<i32>::from_cell($h.get(b)))
            .to_cell();
        $h.set(dst, v);
        v
    }};
    (shl_imm, $ip:ident, $h:ident) => {{
        operands!($ip, I32ShlImm { dst, a, imm });
        let v = <i32>::from_cell($h.get(a))
            .wrapping_shl(imm as u32)
            .to_cell();
        $h.set(dst, v);
        v
    }};
    (add_imm, $ip:ident, $h:ident) => {{
        operands!($ip, I32AddImm { dst, a, imm });
        let v = <i32>::from_cell($h.get(a))
            .wrapping_add(<i32>::from_imm(imm))
            .to_cell();
        $h.set(dst, v);
        v
    }};
}

/// Reads an instruction's first operand: from its cell, or from the accumulator.
macro_rules! first {
    (cell, $h:ident, $r:ident, $acc:ident) => {{
        let _ = $acc;
        $h.get($r)
    }};
    (acc, $h:ident, $r:ident, $acc:ident) => {{
        let _ = $r;
        $acc
    }};
}

/// Leaves the dispatch loop with a trap, recording the pc for the backtrace.
///
/// The work is in a cold function called in tail position, so the handler's fast path
/// needs no callee-saved registers (no push/pop around every load and store).
macro_rules! leave {
    ($h:ident, $ex:ident, $trap:expr) => {{
        return trap_exit($h.ip, $ex, $trap);
    }};
}

/// The slow half of [`leave!`]: saves the pc of the instruction after the trapping one
/// (as `Hot::save` does) and parks the trap in `ex.pending`.
#[cold]
#[inline(never)]
fn trap_exit(ip: *const Slot, ex: &mut Executor<'_>, trap: Trap) {
    exit_with(ip, ex, Exit::Trap(trap))
}

/// Like [`trap_exit`], for any exit of a `hot` handler.
#[cold]
#[inline(never)]
fn exit_with(ip: *const Slot, ex: &mut Executor<'_>, exit: Exit) {
    // SAFETY: `ip` and `ex.code` point into the current function's threaded code.
    ex.pc = unsafe { ip.offset_from(ex.code) } as usize;
    ex.pending = Some(exit);
}

/// The handler signature, spelled out for the macros below.
macro_rules! handler_fn {
    ($fname:ident, |$ip:ident, $regs:ident, $mem:ident, $mem_len:ident, $acc:ident, $ex:ident| $body:block) => {
        pub(crate) unsafe fn $fname(
            $ip: *const Slot,
            $regs: *mut u64,
            $mem: *mut u8,
            $mem_len: usize,
            $acc: u64,
            $ex: &mut Executor<'_>,
        ) $body
    };
}

/// One handler of a family row, reading its first operand in `$mode` (`cell` or `acc`).
macro_rules! family_handler {
    (unary $fname:ident $mode:ident $name:ident $t:ty, $f:expr) => {
        handler_fn!($fname, |ip, regs, mem, mem_len, acc, ex| {
            operands!(ip, $name { dst, src });
            let mut h = hot(ip, regs, mem, mem_len);
            let v = ($f)(<$t>::from_cell(first!($mode, h, src, acc))).to_cell();
            h.set(dst, v);
            // SAFETY: continues with the next instruction of the same code.
            unsafe { next(h, v, ex) }
        });
    };
    (unary_trap $fname:ident $mode:ident $name:ident $t:ty, $f:expr) => {
        handler_fn!($fname, |ip, regs, mem, mem_len, acc, ex| {
            operands!(ip, $name { dst, src });
            let mut h = hot(ip, regs, mem, mem_len);
            let v = match ($f)(<$t>::from_cell(first!($mode, h, src, acc))) {
                Ok(v) => v.to_cell(),
                Err(t) => leave!(h, ex, t),
            };
            h.set(dst, v);
            // SAFETY: continues with the next instruction of the same code.
            unsafe { next(h, v, ex) }
        });
    };
    (binary $fname:ident $mode:ident $bmode:ident $name:ident $t:ty, $f:expr) => {
        handler_fn!($fname, |ip, regs, mem, mem_len, acc, ex| {
            operands!(ip, $name { dst, a, b });
            let mut h = hot(ip, regs, mem, mem_len);
            let x = <$t>::from_cell(first!($mode, h, a, acc));
            let y = <$t>::from_cell(first!($bmode, h, b, acc));
            let v = ($f)(x, y).to_cell();
            h.set(dst, v);
            // SAFETY: continues with the next instruction of the same code.
            unsafe { next(h, v, ex) }
        });
    };
    (binary_imm $fname:ident $mode:ident $name:ident $t:ty, $f:expr) => {
        handler_fn!($fname, |ip, regs, mem, mem_len, acc, ex| {
            operands!(ip, $name { dst, a, imm });
            let mut h = hot(ip, regs, mem, mem_len);
            let x = <$t>::from_cell(first!($mode, h, a, acc));
            let v = ($f)(x, <$t>::from_imm(imm)).to_cell();
            h.set(dst, v);
            // SAFETY: continues with the next instruction of the same code.
            unsafe { next(h, v, ex) }
        });
    };
    (binary_trap $fname:ident $mode:ident $bmode:ident $name:ident $t:ty, $f:expr) => {
        handler_fn!($fname, |ip, regs, mem, mem_len, acc, ex| {
            operands!(ip, $name { dst, a, b });
            let mut h = hot(ip, regs, mem, mem_len);
            let x = <$t>::from_cell(first!($mode, h, a, acc));
            let y = <$t>::from_cell(first!($bmode, h, b, acc));
            let v = match ($f)(x, y) {
                Ok(v) => v.to_cell(),
                Err(t) => leave!(h, ex, t),
            };
            h.set(dst, v);
            // SAFETY: continues with the next instruction of the same code.
            unsafe { next(h, v, ex) }
        });
    };
    (br_cmp $fname:ident $mode:ident $bmode:ident $name:ident $t:ty, $f:expr) => {
        handler_fn!($fname, |ip, regs, mem, mem_len, acc, ex| {
            operands!(ip, $name { a, b, target });
            let mut h = hot(ip, regs, mem, mem_len);
            let x = <$t>::from_cell(first!($mode, h, a, acc));
            let y = <$t>::from_cell(first!($bmode, h, b, acc));
            if ($f)(x, y) {
                h.jump(target);
            }
            // SAFETY: continues with the next instruction of the same code.
            unsafe { next(h, acc, ex) }
        });
    };
    (br_cmp_imm $fname:ident $mode:ident $name:ident $t:ty, $f:expr) => {
        handler_fn!($fname, |ip, regs, mem, mem_len, acc, ex| {
            operands!(ip, $name { a, imm, target });
            let mut h = hot(ip, regs, mem, mem_len);
            let x = <$t>::from_cell(first!($mode, h, a, acc));
            if ($f)(x, <$t>::from_imm(imm)) {
                h.jump(target);
            }
            // SAFETY: continues with the next instruction of the same code.
            unsafe { next(h, acc, ex) }
        });
    };
    (br_cmp_after $fname:ident $prefix:ident $name:ident $t:ty, $f:expr) => {
        handler_fn!($fname, |ip, regs, mem, mem_len, acc, ex| {
            let _ = acc;
            let mut h = hot(ip, regs, mem, mem_len);
            let v = fused_prefix!($prefix, ip, h);
            // The branch in the next slot, whose first operand is the prefix's `dst`.
            let br = h.ip;
            operands!(br, $name { a, b, target });
            let _ = a;
            // SAFETY: the branch is not the last instruction (every path ends in a jump,
            // return or trap after it).
            h.ip = unsafe { h.ip.add(1) };
            if ($f)(<$t>::from_cell(v), <$t>::from_cell(h.get(b))) {
                h.jump(target);
            }
            // SAFETY: continues with the next instruction of the same code.
            unsafe { next(h, v, ex) }
        });
    };
    (br_cmp_imm_after $fname:ident $prefix:ident $name:ident $t:ty, $f:expr) => {
        handler_fn!($fname, |ip, regs, mem, mem_len, acc, ex| {
            let _ = acc;
            let mut h = hot(ip, regs, mem, mem_len);
            let v = fused_prefix!($prefix, ip, h);
            let br = h.ip;
            operands!(br, $name { a, imm, target });
            let _ = a;
            // SAFETY: as in `br_cmp_after`.
            h.ip = unsafe { h.ip.add(1) };
            if ($f)(<$t>::from_cell(v), <$t>::from_imm(imm)) {
                h.jump(target);
            }
            // SAFETY: continues with the next instruction of the same code.
            unsafe { next(h, v, ex) }
        });
    };
    (load_after $fname:ident $prefix:ident $name:ident $n:literal, $f:expr) => {
        handler_fn!($fname, |ip, regs, mem, mem_len, acc, ex| {
            let _ = acc;
            let mut h = hot(ip, regs, mem, mem_len);
            let base = fused_prefix!($prefix, ip, h);
            // The load in the next slot, whose address is the prefix's `dst`.
            let ld = h.ip;
            operands!(ld, $name { dst, addr, offset });
            let _ = addr;
            // SAFETY: a load is never the last instruction of a function. Past it, a trap
            // records the load's pc like the load's own handler does.
            h.ip = unsafe { h.ip.add(1) };
            let ea = base as u32 as u64 + offset as u64;
            let v = match h.load_at::<$n>(ea) {
                Ok(bytes) => ($f)(bytes).to_cell(),
                Err(t) => leave!(h, ex, t),
            };
            h.set(dst, v);
            // SAFETY: continues with the next instruction of the same code.
            unsafe { next(h, v, ex) }
        });
    };
    (load $fname:ident $mode:ident $name:ident $n:literal, $f:expr) => {
        handler_fn!($fname, |ip, regs, mem, mem_len, acc, ex| {
            operands!(ip, $name { dst, addr, offset });
            let mut h = hot(ip, regs, mem, mem_len);
            let ea = first!($mode, h, addr, acc) as u32 as u64 + offset as u64;
            let v = match h.load_at::<$n>(ea) {
                Ok(bytes) => ($f)(bytes).to_cell(),
                Err(t) => leave!(h, ex, t),
            };
            h.set(dst, v);
            // SAFETY: continues with the next instruction of the same code.
            unsafe { next(h, v, ex) }
        });
    };
    (store $fname:ident $mode:ident $vmode:ident $name:ident $n:literal $t:ty, $f:expr) => {
        handler_fn!($fname, |ip, regs, mem, mem_len, acc, ex| {
            operands!(ip, $name { addr, val, offset });
            let mut h = hot(ip, regs, mem, mem_len);
            let ea = first!($mode, h, addr, acc) as u32 as u64 + offset as u64;
            let v = <$t>::from_cell(first!($vmode, h, val, acc));
            if let Err(t) = h.store_at::<$n>(ea, ($f)(v)) {
                leave!(h, ex, t);
            }
            // SAFETY: continues with the next instruction of the same code.
            unsafe { next(h, acc, ex) }
        });
    };
}

macro_rules! define_threaded {
    (
        unary: [$(($un:ident, $unm:literal, $unt:ty, $unf:expr)),* $(,)?],
        unary_trap: [$(($ut:ident, $utm:literal, $utt:ty, $utf:expr)),* $(,)?],
        binary: [$(($bn:ident, $bnm:literal, $bnt:ty, $bnf:expr)),* $(,)?],
        binary_imm: [$(($bi:ident, $bim:literal, $bit:ty, $bif:expr)),* $(,)?],
        binary_trap: [$(($bt:ident, $btm:literal, $btt:ty, $btf:expr)),* $(,)?],
        br_cmp: [$(($bc:ident, $bcm:literal, $bct:ty, $bcf:expr, $bcfrom:ident, $bcnot:ident)),* $(,)?],
        br_cmp_imm: [$(($bci:ident, $bcim:literal, $bcit:ty, $bcif:expr, $bcifrom:ident, $bcinot:ident)),* $(,)?],
        load: [$(($ld:ident, $ldm:literal, $ldn:literal, $ldf:expr)),* $(,)?],
        store: [$(($st:ident, $stm:literal, $stn:literal, $stt:ty, $stf:expr)),* $(,)?],
        other: [$($(#[doc = $doc:literal])* $($hot:ident)? ($ot:ident, $otm:literal, { $($of:ident : $oft:ty),* $(,)? })),* $(,)?],
    ) => {
        /// One unit struct per opcode, holding its handlers (macros cannot make new names):
        /// `run` reads every operand from its cell, `run_acc` (family rows) its first
        /// operand from the accumulator.
        mod op {
            use super::*;

            $(pub struct $un;
            impl $un {
                family_handler!(unary run cell $un $unt, $unf);
                family_handler!(unary run_acc acc $un $unt, $unf);
            })*
            $(pub struct $ut;
            impl $ut {
                family_handler!(unary_trap run cell $ut $utt, $utf);
                family_handler!(unary_trap run_acc acc $ut $utt, $utf);
            })*
            $(pub struct $bn;
            impl $bn {
                family_handler!(binary run cell cell $bn $bnt, $bnf);
                family_handler!(binary run_acc acc cell $bn $bnt, $bnf);
                family_handler!(binary run_acc_b cell acc $bn $bnt, $bnf);
            })*
            $(pub struct $bi;
            impl $bi {
                family_handler!(binary_imm run cell $bi $bit, $bif);
                family_handler!(binary_imm run_acc acc $bi $bit, $bif);
            })*
            $(pub struct $bt;
            impl $bt {
                family_handler!(binary_trap run cell cell $bt $btt, $btf);
                family_handler!(binary_trap run_acc acc cell $bt $btt, $btf);
                family_handler!(binary_trap run_acc_b cell acc $bt $btt, $btf);
            })*
            $(pub struct $bc;
            impl $bc {
                family_handler!(br_cmp run cell cell $bc $bct, $bcf);
                family_handler!(br_cmp run_acc acc cell $bc $bct, $bcf);
                family_handler!(br_cmp run_acc_b cell acc $bc $bct, $bcf);
                family_handler!(br_cmp_after after_add add $bc $bct, $bcf);
                family_handler!(br_cmp_after after_add_imm add_imm $bc $bct, $bcf);
            })*
            $(pub struct $bci;
            impl $bci {
                family_handler!(br_cmp_imm run cell $bci $bcit, $bcif);
                family_handler!(br_cmp_imm run_acc acc $bci $bcit, $bcif);
                family_handler!(br_cmp_imm_after after_add add $bci $bcit, $bcif);
                family_handler!(br_cmp_imm_after after_add_imm add_imm $bci $bcit, $bcif);
            })*
            $(pub struct $ld;
            impl $ld {
                family_handler!(load run cell $ld $ldn, $ldf);
                family_handler!(load run_acc acc $ld $ldn, $ldf);
                family_handler!(load_after after_add add $ld $ldn, $ldf);
                family_handler!(load_after after_add_imm add_imm $ld $ldn, $ldf);
                family_handler!(load_after after_shl_imm shl_imm $ld $ldn, $ldf);
            })*
            $(pub struct $st;
            impl $st {
                family_handler!(store run cell cell $st $stn $stt, $stf);
                family_handler!(store run_acc acc cell $st $stn $stt, $stf);
                family_handler!(store run_acc_b cell acc $st $stn $stt, $stf);
            })*
            $(pub struct $ot;
            impl $ot {
                slow_fn!($($hot)? ; $ot, $($of: $oft),*);

                #[allow(unused_mut)]
                pub(super) unsafe fn run(ip: *const Slot, regs: *mut u64, mem: *mut u8, mem_len: usize, acc: u64, ex: &mut Executor<'_>) {
                    operands!(ip, $ot { $($of),* });
                    let mut h = hot(ip, regs, mem, mem_len);
                    threaded_other!($($hot)? ; ex, h, acc, $ot, $($of),*);
                    // SAFETY: continues with the next instruction (of the current code,
                    // which a call or return may have switched). `other` rows produce no
                    // accumulator value: `acc` passes through unread.
                    unsafe { next(h, acc, ex) }
                }
            })*
        }

        /// Opcode numbers by name (the order of `Instr`'s variants), to patch rows of
        /// [`OP_INFO`].
        #[allow(dead_code)]
        #[repr(u16)]
        enum Opc {
            $($un,)* $($ut,)* $($bn,)* $($bi,)* $($bt,)* $($bc,)* $($bci,)* $($ld,)* $($st,)*
            $($ot,)*
        }

        /// The field offsets of every `other` row, in a module named after it: `at(name)`
        /// and `TARGET` (its branch target's offset, or [`NONE`]).
        #[allow(non_snake_case, dead_code)]
        mod fields {
            $(pub(super) mod $ot {
                #[allow(unused_imports)]
                use crate::ops::*;
                use super::super::{MAX_FIELDS, field_offset, field_offsets, target_offset};
                const NAMES: &[&str] = &[$(stringify!($of)),*];
                const OFFSETS: [u8; MAX_FIELDS] = layout!($($oft),*);
                pub(crate) const TARGET: u8 =
                    target_offset(&OFFSETS, &[$(<$oft as Operand>::IS_TARGET),*]);
                pub(crate) const fn at(name: &str) -> u8 {
                    field_offset(NAMES, &OFFSETS, name)
                }
            })*
        }

        /// Each opcode's facts, in table order, before [`OP_INFO`] patches the `other`
        /// rows that take part in the accumulator.
        const BASE_INFO: &[OpInfo] = &[
            $(family_info!(unary op::$un),)*
            $(family_info!(unary op::$ut),)*
            $(family_info!(binary op::$bn),)*
            $(family_info!(binary_imm op::$bi),)*
            $(family_info!(binary op::$bt),)*
            $(family_info!(br_cmp op::$bc),)*
            $(family_info!(br_cmp_imm op::$bci),)*
            $(family_info!(load op::$ld),)*
            $(family_info!(store op::$st),)*
            $(OpInfo::plain(op::$ot::run, fields::$ot::TARGET),)*
        ];
    };
}

/// The [`OpInfo`] of a family row (`$op`: its handler struct), from the family's fields.
macro_rules! family_info {
    (unary $($op:ident)::*) => {{
        let l = layout!(Dst, Reg);
        OpInfo {
            run_acc: Some($($op)::*::run_acc as Handler),
            produces: l[0],
            first: l[1],
            ..OpInfo::plain($($op)::*::run, NONE)
        }
    }};
    (binary $($op:ident)::*) => {{
        let l = layout!(Dst, Reg, Reg);
        OpInfo {
            run_acc: Some($($op)::*::run_acc as Handler),
            run_acc_b: Some($($op)::*::run_acc_b as Handler),
            produces: l[0],
            first: l[1],
            second: l[2],
            ..OpInfo::plain($($op)::*::run, NONE)
        }
    }};
    (binary_imm $($op:ident)::*) => {{
        let l = layout!(Dst, Reg, i32);
        OpInfo {
            run_acc: Some($($op)::*::run_acc as Handler),
            produces: l[0],
            first: l[1],
            ..OpInfo::plain($($op)::*::run, NONE)
        }
    }};
    (br_cmp $($op:ident)::*) => {{
        let l = layout!(Reg, Reg, crate::ops::Target);
        OpInfo {
            run_acc: Some($($op)::*::run_acc as Handler),
            run_acc_b: Some($($op)::*::run_acc_b as Handler),
            after: [
                Some($($op)::*::after_add as Handler),
                Some($($op)::*::after_add_imm as Handler),
                None,
            ],
            first: l[0],
            second: l[1],
            ..OpInfo::plain($($op)::*::run, l[2])
        }
    }};
    (br_cmp_imm $($op:ident)::*) => {{
        let l = layout!(Reg, i32, crate::ops::Target);
        OpInfo {
            run_acc: Some($($op)::*::run_acc as Handler),
            after: [
                Some($($op)::*::after_add as Handler),
                Some($($op)::*::after_add_imm as Handler),
                None,
            ],
            first: l[0],
            ..OpInfo::plain($($op)::*::run, l[2])
        }
    }};
    (load $($op:ident)::*) => {{
        let l = layout!(Dst, Reg, u32);
        OpInfo {
            run_acc: Some($($op)::*::run_acc as Handler),
            after: [
                Some($($op)::*::after_add as Handler),
                Some($($op)::*::after_add_imm as Handler),
                Some($($op)::*::after_shl_imm as Handler),
            ],
            produces: l[0],
            first: l[1],
            ..OpInfo::plain($($op)::*::run, NONE)
        }
    }};
    (store $($op:ident)::*) => {{
        let l = layout!(Reg, Reg, u32);
        OpInfo {
            run_acc: Some($($op)::*::run_acc as Handler),
            run_acc_b: Some($($op)::*::run_acc_b as Handler),
            first: l[0],
            second: l[1],
            ..OpInfo::plain($($op)::*::run, NONE)
        }
    }};
}

/// For `other` rows that need the executor: the handler body, kept out of line (allocas in
/// it would stop the tail call in `run`). Returns whether to continue; otherwise the exit
/// is in `ex.pending`.
macro_rules! slow_fn {
    (hot ; $($rest:tt)*) => {};
    (limit ; $($rest:tt)*) => {};
    ( ; $ot:ident, $($of:ident : $oft:ty),*) => {
        #[inline(never)]
        pub(super) fn slow(ex: &mut Executor<'_>, $($of: $oft),*) -> bool {
            match ex.$ot($($of),*) {
                Ok(()) => true,
                Err(exit) => {
                    ex.pending = Some(exit);
                    false
                }
            }
        }
    };
}

/// Runs an `other` handler in the threaded backend (see `other_op!` in `exec/mod.rs`).
macro_rules! threaded_other {
    (hot ; $ex:ident, $h:ident, $acc:ident, $name:ident, $($a:ident),*) => {
        let _ = $acc;
        if let Err(exit) = Hot::$name(&mut $h, $($a),*) {
            return exit_with($h.ip, $ex, exit);
        }
    };
    (limit ; $ex:ident, $h:ident, $acc:ident, $name:ident, $($a:ident),*) => {
        if !$name::fast($ex, $($a),*) {
            // SAFETY: `h` is the state after this instruction; the slow path continues
            // the dispatch from there (or leaves).
            return unsafe { $name::slow($h.ip, $h.regs, $h.mem, $h.mem_len, $acc, $ex) };
        }
    };
    ( ; $ex:ident, $h:ident, $acc:ident, $name:ident, $($a:ident),*) => {
        let _ = $acc;
        $h.save($ex);
        if !$name::slow($ex, $($a),*) {
            return;
        }
        $h = Hot::from_executor($ex);
    };
}

/// Calls and returns between functions of one instance without leaving the threaded
/// code: the executor switches frames (`Executor::enter_fast`, `Executor::ret_fast`) and
/// the handler continues straight in the callee's (or caller's) code. Everything else
/// (host and cross-instance calls, untranslated callees, stack growth, the depth limit,
/// GC stress, the native tier, the entry frame's return) takes the general row handler.
mod call_op {
    use super::*;

    /// The general handlers of these rows, each behind a cold out-of-line wrapper so that
    /// the fast paths, which tail-call it, need no stack frame for it.
    macro_rules! general {
        ($($wrapper:ident => $row:ident),* $(,)?) => {$(
            #[cold]
            #[inline(never)]
            unsafe fn $wrapper(
                ip: *const Slot,
                regs: *mut u64,
                mem: *mut u8,
                mem_len: usize,
                acc: u64,
                ex: &mut Executor<'_>,
            ) {
                // SAFETY: the caller is the fast handler of a `$row` at `ip`, with the
                // same arguments.
                unsafe { op::$row::run(ip, regs, mem, mem_len, acc, ex) }
            }
        )*};
    }
    general! {
        general_call => Call,
        general_call_indirect => CallIndirect,
        general_return => Return,
        general_return1 => Return1,
    }

    handler_fn!(call, |ip, regs, mem, mem_len, acc, ex| {
        operands!(ip, Call { func, base });
        // SAFETY: `ip` and `ex.code` point into the current function's threaded code; the
        // caller continues after the call.
        let ret_pc = unsafe { ip.offset_from(ex.code) } as usize + 1;
        if ex.enter_fast(func, base, ret_pc) {
            let h = Hot::new(core::ptr::null(), ex.code, ex.regs, mem, mem_len);
            // SAFETY: continues with the callee's first instruction, which reads no
            // accumulator (see `thread`).
            return unsafe { next(h, acc, ex) };
        }
        // SAFETY: the general handler of this instruction.
        unsafe { general_call(ip, regs, mem, mem_len, acc, ex) }
    });

    handler_fn!(call_indirect, |ip, regs, mem, mem_len, acc, ex| {
        operands!(
            ip,
            CallIndirect {
                index,
                base,
                table,
                ty
            }
        );
        // SAFETY: as in `call`.
        let ret_pc = unsafe { ip.offset_from(ex.code) } as usize + 1;
        if ex.enter_fast_indirect(index, base, table, ty, ret_pc) {
            let h = Hot::new(core::ptr::null(), ex.code, ex.regs, mem, mem_len);
            // SAFETY: as in `call`.
            return unsafe { next(h, acc, ex) };
        }
        // SAFETY: the general handler of this instruction.
        unsafe { general_call_indirect(ip, regs, mem, mem_len, acc, ex) }
    });

    /// Continues in the caller after a fast return; `$general` (the row's general
    /// handler, out of line) handles the rest.
    macro_rules! return_via {
        ($general:ident, $ip:ident, $regs:ident, $mem:ident, $mem_len:ident, $acc:ident, $ex:ident) => {
            match $ex.ret_fast() {
                Some(pc) => {
                    // SAFETY: `pc` is the caller's continuation inside its threaded code.
                    let at = unsafe { $ex.code.add(pc) };
                    let h = Hot::new(core::ptr::null(), at, $ex.regs, $mem, $mem_len);
                    // SAFETY: the instruction after a call reads no accumulator.
                    unsafe { next(h, $acc, $ex) }
                }
                // SAFETY: the general handler of this instruction.
                None => unsafe { $general($ip, $regs, $mem, $mem_len, $acc, $ex) },
            }
        };
    }

    handler_fn!(ret, |ip, regs, mem, mem_len, acc, ex| {
        return_via!(general_return, ip, regs, mem, mem_len, acc, ex)
    });

    handler_fn!(ret1, |ip, regs, mem, mem_len, acc, ex| {
        operands!(ip, Return1 { src });
        // SAFETY: `src` is a cell of the current frame, whose first cell takes the result
        // (the general handler repeats this copy harmlessly).
        unsafe { *regs = *regs.add(src.0 as usize) };
        return_via!(general_return1, ip, regs, mem, mem_len, acc, ex)
    });
}

/// `global.get` and `global.set` without leaving the threaded code: they touch neither
/// the frame layout nor the code, so the save/slow/reload round trip of other rows that
/// need the executor is not needed.
mod global_op {
    use super::*;

    /// The value cell of global `global` of the current instance.
    #[inline(always)]
    fn cell(ex: &mut Executor<'_>, global: u32) -> *mut u64 {
        let inst = ex.inst as usize;
        // SAFETY: `ex.inst` is an instance of the store; validation bounds `global` by the
        // module's globals, which instantiation gave store addresses in `globals`.
        unsafe {
            let addr = *ex
                .store
                .instances
                .get_unchecked(inst)
                .globals
                .get_unchecked(global as usize);
            &mut ex.store.globals.get_unchecked_mut(addr as usize).value
        }
    }

    handler_fn!(get, |ip, regs, mem, mem_len, acc, ex| {
        let _ = acc;
        operands!(ip, GlobalGet { dst, global });
        let mut h = hot(ip, regs, mem, mem_len);
        // SAFETY: `cell` points at a live global of the store.
        let v = unsafe { *cell(ex, global) };
        h.set(dst, v);
        // SAFETY: continues with the next instruction of the same code.
        unsafe { next(h, v, ex) }
    });

    #[inline(always)]
    fn store(ex: &mut Executor<'_>, global: u32, v: u64) {
        // SAFETY: `cell` points at a live global of the store; validation only lets
        // `global.set` name a mutable global of the value's type.
        unsafe { *cell(ex, global) = v };
    }

    handler_fn!(set, |ip, regs, mem, mem_len, acc, ex| {
        operands!(ip, GlobalSet { src, global });
        let h = hot(ip, regs, mem, mem_len);
        store(ex, global, h.get(src));
        // SAFETY: continues with the next instruction of the same code.
        unsafe { next(h, acc, ex) }
    });

    handler_fn!(set_acc, |ip, regs, mem, mem_len, acc, ex| {
        operands!(ip, GlobalSet { src, global });
        let _ = src;
        let h = hot(ip, regs, mem, mem_len);
        store(ex, global, acc);
        // SAFETY: continues with the next instruction of the same code.
        unsafe { next(h, acc, ex) }
    });
}

acc_others! {
    Copy { dst, src } produces dst first src;
    Const32 { dst, value } produces dst first none;
    Select { dst, cond, a, b } produces dst first cond;
    BrIfNez { cond, target } produces none first cond;
    BrIfEqz { cond, target } produces none first cond;
    BrTable { index, len } produces none first index;
    I32LoadAdd { dst, addr, imm } produces dst first addr;
    I64LoadAdd { dst, addr, imm } produces dst first addr;
    F32LoadAdd { dst, addr, imm } produces dst first addr;
    F64LoadAdd { dst, addr, imm } produces dst first addr;
    I32Load8SAdd { dst, addr, imm } produces dst first addr;
    I32Load8UAdd { dst, addr, imm } produces dst first addr;
    I32Load16SAdd { dst, addr, imm } produces dst first addr;
    I32Load16UAdd { dst, addr, imm } produces dst first addr;
    I64Load8SAdd { dst, addr, imm } produces dst first addr;
    I64Load8UAdd { dst, addr, imm } produces dst first addr;
    I64Load16SAdd { dst, addr, imm } produces dst first addr;
    I64Load16UAdd { dst, addr, imm } produces dst first addr;
    I64Load32SAdd { dst, addr, imm } produces dst first addr;
    I64Load32UAdd { dst, addr, imm } produces dst first addr;
    I32StoreAdd { addr, val, imm } produces none first addr;
    I64StoreAdd { addr, val, imm } produces none first addr;
    F32StoreAdd { addr, val, imm } produces none first addr;
    F64StoreAdd { addr, val, imm } produces none first addr;
    I32Store8Add { addr, val, imm } produces none first addr;
    I32Store16Add { addr, val, imm } produces none first addr;
    I64Store8Add { addr, val, imm } produces none first addr;
    I64Store16Add { addr, val, imm } produces none first addr;
    I64Store32Add { addr, val, imm } produces none first addr;
}

crate::for_each_op!(define_threaded);

// The `limit` rows (fuel and epoch checks, see `crate::limits`): an inlined fast check, and
// a cold slow path with the handler signature, entered and left by tail calls, so the
// fast path needs no stack frame. The portable dispatcher uses `exec/limits.rs`.

impl op::ConsumeFuel {
    #[inline(always)]
    fn fast(ex: &mut Executor<'_>, amount: u32) -> bool {
        let fuel = &mut ex.store.limits.vm.fuel;
        match fuel.checked_sub(amount as u64) {
            Some(left) => {
                *fuel = left;
                true
            }
            None => false,
        }
    }

    /// Out of fuel: leaves with the trap (nothing was charged).
    #[cold]
    #[inline(never)]
    unsafe fn slow(
        ip: *const Slot,
        regs: *mut u64,
        mem: *mut u8,
        mem_len: usize,
        _acc: u64,
        ex: &mut Executor<'_>,
    ) {
        let h = Hot::new(core::ptr::null(), ip, regs, mem, mem_len);
        h.save(ex);
        ex.pending = Some(Exit::Trap(crate::Trap::OutOfFuel));
    }
}

impl op::FuelEpoch {
    #[inline(always)]
    fn fast(ex: &mut Executor<'_>, amount: u32) -> bool {
        op::CheckEpoch::fast(ex) && op::ConsumeFuel::fast(ex, amount)
    }

    /// The epoch deadline is reached or fuel is short: the epoch action first, then the
    /// fuel charge (the fast path charged nothing).
    #[cold]
    #[inline(never)]
    unsafe fn slow(
        ip: *const Slot,
        regs: *mut u64,
        mem: *mut u8,
        mem_len: usize,
        acc: u64,
        ex: &mut Executor<'_>,
    ) {
        let h = Hot::new(core::ptr::null(), ip, regs, mem, mem_len);
        h.save(ex);
        if !op::CheckEpoch::fast(ex)
            && let Err(exit) = ex.epoch_deadline_reached()
        {
            ex.pending = Some(exit);
            return;
        }
        // SAFETY: `ip - 1` is this instruction, a `FuelEpoch`.
        let Instr::FuelEpoch { amount } = (unsafe { (*ip.sub(1)).instr }) else {
            // SAFETY: as above; no other variant can be there.
            unsafe { core::hint::unreachable_unchecked() }
        };
        if !op::ConsumeFuel::fast(ex, amount) {
            ex.pending = Some(Exit::Trap(crate::Trap::OutOfFuel));
            return;
        }
        let h = Hot::from_executor(ex);
        // SAFETY: `h` describes the current frame, just reloaded.
        unsafe { next(h, acc, ex) }
    }
}

impl op::CheckEpoch {
    #[inline(always)]
    fn fast(ex: &mut Executor<'_>) -> bool {
        ex.store.engine.epoch.get() < ex.store.limits.vm.epoch_deadline
    }

    /// At the deadline: runs the store's epoch action, then continues or leaves.
    #[cold]
    #[inline(never)]
    unsafe fn slow(
        ip: *const Slot,
        regs: *mut u64,
        mem: *mut u8,
        mem_len: usize,
        acc: u64,
        ex: &mut Executor<'_>,
    ) {
        let h = Hot::new(core::ptr::null(), ip, regs, mem, mem_len);
        h.save(ex);
        if let Err(exit) = ex.epoch_deadline_reached() {
            ex.pending = Some(exit);
            return;
        }
        // The callback may have grown memory or moved the stack: reload.
        let h = Hot::from_executor(ex);
        // SAFETY: `h` describes the current frame, just reloaded.
        unsafe { next(h, acc, ex) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What an operand walk finds: each register and target field's byte offset.
    struct Fields {
        base: usize,
        dsts: Vec<u8>,
        regs: Vec<u8>,
        targets: Vec<u8>,
    }

    impl crate::ops::OperandVisitor for Fields {
        fn visit<T: crate::ops::Operand>(&mut self, op: &mut T) {
            let at = (op as *mut T as usize - self.base) as u8;
            if T::IS_TARGET {
                self.targets.push(at);
            } else if op.dst_mut().is_some() {
                self.dsts.push(at);
            } else if op.cell_mut().is_some() {
                self.regs.push(at);
            }
        }
    }

    #[test]
    fn op_info_offsets_name_fields_of_the_right_kind() {
        let samples = crate::ops::samples::samples();
        assert_eq!(samples.len(), OP_INFO.len());
        for (op, mut instr) in samples.into_iter().enumerate() {
            assert_eq!(instr.opcode() as usize, op);
            let mut f = Fields {
                base: &instr as *const Instr as usize,
                dsts: Vec::new(),
                regs: Vec::new(),
                targets: Vec::new(),
            };
            instr.visit_operands(&mut f);
            let info = &OP_INFO[op];
            let name = instr.mnemonic();
            assert!(
                info.produces == NONE || f.dsts.contains(&info.produces),
                "{name}"
            );
            assert!(info.first == NONE || f.regs.contains(&info.first), "{name}");
            assert!(
                info.second == NONE || f.regs.contains(&info.second),
                "{name}"
            );
            assert_eq!(
                info.target,
                f.targets.last().copied().unwrap_or(NONE),
                "{name}"
            );
            assert_eq!(info.run_acc.is_some(), info.first != NONE, "{name}");
            assert_eq!(info.run_acc_b.is_some(), info.second != NONE, "{name}");
            // The values read there are the sampled ones.
            if info.produces != NONE {
                assert!(
                    (0x1101..0x1110).contains(&cell_at(&instr, info.produces)),
                    "{name}"
                );
            }
            for at in [info.first, info.second] {
                if at != NONE {
                    assert!((0x2201..0x2210).contains(&cell_at(&instr, at)), "{name}");
                }
            }
            if info.target != NONE {
                assert_eq!(u32_at(&instr, info.target) >> 24, 0x33, "{name}");
            }
        }
    }

    #[test]
    fn handler_table_matches_opcodes() {
        // The last opcode is `Data`; the table must have exactly one handler per opcode.
        let last = Instr::Data { a: 0, b: 0 }.opcode() as usize;
        assert_eq!(OP_INFO.len(), last + 1);
    }
}
