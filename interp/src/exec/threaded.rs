//! The threaded dispatcher: one function per opcode, each ending in a tail call to the
//! next instruction's handler.
//!
//! Every handler has the same signature, with the hot state (instruction pointer, frame
//! registers, memory base and length, code base, executor) in argument registers, and ends
//! by looking up the next opcode's handler in [`HANDLERS`] and calling it in tail position.
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
use crate::ops::{Cell, Dst, Imm, Instr, Reg};

/// A handler: runs the instruction at `ip` and continues with the next one.
///
/// Handlers return nothing, so no return slot is passed on the stack (which would push the
/// sixth argument to the stack and stop the sibling call); the exit goes in `ex.pending`.
type Handler = unsafe fn(*const Instr, *mut u64, *mut u8, usize, *const Instr, &mut Executor<'_>);

/// Continues with the instruction at `h.ip`.
#[inline(always)]
unsafe fn next(h: Hot, ex: &mut Executor<'_>) {
    // SAFETY: the translator keeps `ip` inside the current function's code (every path
    // ends in a jump, return or trap), and `HANDLERS` has one entry per opcode.
    unsafe {
        let handler = *HANDLERS.get_unchecked((*h.ip).opcode() as usize);
        handler(h.ip, h.regs, h.mem, h.mem_len, h.code, ex)
    }
}

/// Rebuilds the hot state from handler arguments, advanced past the current instruction.
#[inline(always)]
fn hot(ip: *const Instr, regs: *mut u64, mem: *mut u8, mem_len: usize, code: *const Instr) -> Hot {
    // SAFETY: `ip` points at an instruction, so one past it is in bounds or the end.
    Hot {
        code,
        ip: unsafe { ip.add(1) },
        regs,
        mem,
        mem_len,
    }
}

impl Executor<'_> {
    /// Runs the current function with the threaded dispatcher.
    pub(super) fn run_threaded(&mut self) -> Exit {
        let h = Hot::from_executor(self);
        // SAFETY: `h` describes the current frame (see `Hot::from_executor`).
        unsafe { next(h, self) };
        self.pending.take().unwrap_or(Exit::Done)
    }
}

/// Decodes the operands of the instruction at `ip`, whose opcode is `$name`.
macro_rules! operands {
    ($ip:ident, $name:ident { $($f:ident),* }) => {
        // SAFETY: `HANDLERS` maps each opcode to its own handler, so the instruction at
        // `ip` is a `$name`.
        let Instr::$name { $($f),* } = (unsafe { *$ip }) else {
            // SAFETY: as above; no other variant can be here.
            unsafe { core::hint::unreachable_unchecked() }
        };
    };
}

/// Leaves the dispatch loop with `exit`, recording the pc for the backtrace.
macro_rules! leave {
    ($h:ident, $ex:ident, $exit:expr) => {{
        $h.save($ex);
        $ex.pending = Some($exit);
        return;
    }};
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
        /// One unit struct per opcode, holding its handler (macros cannot make new names).
        mod op {
            use super::*;

            $(pub struct $un;
            impl $un {
                pub(super) unsafe fn run(ip: *const Instr, regs: *mut u64, mem: *mut u8, mem_len: usize, code: *const Instr, ex: &mut Executor<'_>) {
                    operands!(ip, $un { dst, src });
                    let mut h = hot(ip, regs, mem, mem_len, code);
                    let x = <$unt>::from_cell(h.get(src));
                    h.set(dst, ($unf)(x).to_cell());
                    // SAFETY: continues with the next instruction of the same code.
                    unsafe { next(h, ex) }
                }
            })*
            $(pub struct $ut;
            impl $ut {
                pub(super) unsafe fn run(ip: *const Instr, regs: *mut u64, mem: *mut u8, mem_len: usize, code: *const Instr, ex: &mut Executor<'_>) {
                    operands!(ip, $ut { dst, src });
                    let mut h = hot(ip, regs, mem, mem_len, code);
                    let x = <$utt>::from_cell(h.get(src));
                    match ($utf)(x) {
                        Ok(v) => h.set(dst, v.to_cell()),
                        Err(t) => leave!(h, ex, Exit::Trap(t)),
                    }
                    // SAFETY: continues with the next instruction of the same code.
                    unsafe { next(h, ex) }
                }
            })*
            $(pub struct $bn;
            impl $bn {
                pub(super) unsafe fn run(ip: *const Instr, regs: *mut u64, mem: *mut u8, mem_len: usize, code: *const Instr, ex: &mut Executor<'_>) {
                    operands!(ip, $bn { dst, a, b });
                    let mut h = hot(ip, regs, mem, mem_len, code);
                    let (x, y) = (<$bnt>::from_cell(h.get(a)), <$bnt>::from_cell(h.get(b)));
                    h.set(dst, ($bnf)(x, y).to_cell());
                    // SAFETY: continues with the next instruction of the same code.
                    unsafe { next(h, ex) }
                }
            })*
            $(pub struct $bi;
            impl $bi {
                pub(super) unsafe fn run(ip: *const Instr, regs: *mut u64, mem: *mut u8, mem_len: usize, code: *const Instr, ex: &mut Executor<'_>) {
                    operands!(ip, $bi { dst, a, imm });
                    let mut h = hot(ip, regs, mem, mem_len, code);
                    let (x, y) = (<$bit>::from_cell(h.get(a)), <$bit>::from_imm(imm));
                    h.set(dst, ($bif)(x, y).to_cell());
                    // SAFETY: continues with the next instruction of the same code.
                    unsafe { next(h, ex) }
                }
            })*
            $(pub struct $bt;
            impl $bt {
                pub(super) unsafe fn run(ip: *const Instr, regs: *mut u64, mem: *mut u8, mem_len: usize, code: *const Instr, ex: &mut Executor<'_>) {
                    operands!(ip, $bt { dst, a, b });
                    let mut h = hot(ip, regs, mem, mem_len, code);
                    let (x, y) = (<$btt>::from_cell(h.get(a)), <$btt>::from_cell(h.get(b)));
                    match ($btf)(x, y) {
                        Ok(v) => h.set(dst, v.to_cell()),
                        Err(t) => leave!(h, ex, Exit::Trap(t)),
                    }
                    // SAFETY: continues with the next instruction of the same code.
                    unsafe { next(h, ex) }
                }
            })*
            $(pub struct $bc;
            impl $bc {
                pub(super) unsafe fn run(ip: *const Instr, regs: *mut u64, mem: *mut u8, mem_len: usize, code: *const Instr, ex: &mut Executor<'_>) {
                    operands!(ip, $bc { a, b, target });
                    let mut h = hot(ip, regs, mem, mem_len, code);
                    let (x, y) = (<$bct>::from_cell(h.get(a)), <$bct>::from_cell(h.get(b)));
                    if ($bcf)(x, y) { h.jump(target); }
                    // SAFETY: continues with the next instruction of the same code.
                    unsafe { next(h, ex) }
                }
            })*
            $(pub struct $bci;
            impl $bci {
                pub(super) unsafe fn run(ip: *const Instr, regs: *mut u64, mem: *mut u8, mem_len: usize, code: *const Instr, ex: &mut Executor<'_>) {
                    operands!(ip, $bci { a, imm, target });
                    let mut h = hot(ip, regs, mem, mem_len, code);
                    let (x, y) = (<$bcit>::from_cell(h.get(a)), <$bcit>::from_imm(imm));
                    if ($bcif)(x, y) { h.jump(target); }
                    // SAFETY: continues with the next instruction of the same code.
                    unsafe { next(h, ex) }
                }
            })*
            $(pub struct $ld;
            impl $ld {
                pub(super) unsafe fn run(ip: *const Instr, regs: *mut u64, mem: *mut u8, mem_len: usize, code: *const Instr, ex: &mut Executor<'_>) {
                    operands!(ip, $ld { dst, addr, offset });
                    let mut h = hot(ip, regs, mem, mem_len, code);
                    match h.load::<$ldn>(addr, offset) {
                        Ok(bytes) => h.set(dst, ($ldf)(bytes).to_cell()),
                        Err(t) => leave!(h, ex, Exit::Trap(t)),
                    }
                    // SAFETY: continues with the next instruction of the same code.
                    unsafe { next(h, ex) }
                }
            })*
            $(pub struct $st;
            impl $st {
                pub(super) unsafe fn run(ip: *const Instr, regs: *mut u64, mem: *mut u8, mem_len: usize, code: *const Instr, ex: &mut Executor<'_>) {
                    operands!(ip, $st { addr, val, offset });
                    let mut h = hot(ip, regs, mem, mem_len, code);
                    let v = <$stt>::from_cell(h.get(val));
                    if let Err(t) = h.store::<$stn>(addr, offset, ($stf)(v)) {
                        leave!(h, ex, Exit::Trap(t));
                    }
                    // SAFETY: continues with the next instruction of the same code.
                    unsafe { next(h, ex) }
                }
            })*
            $(pub struct $ot;
            impl $ot {
                slow_fn!($($hot)? ; $ot, $($of: $oft),*);

                #[allow(unused_mut)]
                pub(super) unsafe fn run(ip: *const Instr, regs: *mut u64, mem: *mut u8, mem_len: usize, code: *const Instr, ex: &mut Executor<'_>) {
                    operands!(ip, $ot { $($of),* });
                    let mut h = hot(ip, regs, mem, mem_len, code);
                    threaded_other!($($hot)? ; ex, h, $ot, $($of),*);
                    // SAFETY: continues with the next instruction (of the current code,
                    // which a call or return may have switched).
                    unsafe { next(h, ex) }
                }
            })*
        }

        /// Handlers indexed by opcode, in table order (the order of `Instr`'s variants).
        static HANDLERS: &[Handler] = &[
            $(op::$un::run,)*
            $(op::$ut::run,)*
            $(op::$bn::run,)*
            $(op::$bi::run,)*
            $(op::$bt::run,)*
            $(op::$bc::run,)*
            $(op::$bci::run,)*
            $(op::$ld::run,)*
            $(op::$st::run,)*
            $(op::$ot::run,)*
        ];
    };
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
    (hot ; $ex:ident, $h:ident, $name:ident, $($a:ident),*) => {
        if let Err(exit) = Hot::$name(&mut $h, $($a),*) {
            $h.save($ex);
            $ex.pending = Some(exit);
            return;
        }
    };
    (limit ; $ex:ident, $h:ident, $name:ident, $($a:ident),*) => {
        if !$name::fast($ex, $($a),*) {
            // SAFETY: `h` is the state after this instruction; the slow path continues
            // the dispatch from there (or leaves).
            return unsafe { $name::slow($h.ip, $h.regs, $h.mem, $h.mem_len, $h.code, $ex) };
        }
    };
    ( ; $ex:ident, $h:ident, $name:ident, $($a:ident),*) => {
        $h.save($ex);
        if !$name::slow($ex, $($a),*) {
            return;
        }
        $h = Hot::from_executor($ex);
    };
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
        ip: *const Instr,
        regs: *mut u64,
        mem: *mut u8,
        mem_len: usize,
        code: *const Instr,
        ex: &mut Executor<'_>,
    ) {
        let h = Hot {
            code,
            ip,
            regs,
            mem,
            mem_len,
        };
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
        ip: *const Instr,
        regs: *mut u64,
        mem: *mut u8,
        mem_len: usize,
        code: *const Instr,
        ex: &mut Executor<'_>,
    ) {
        let h = Hot {
            code,
            ip,
            regs,
            mem,
            mem_len,
        };
        h.save(ex);
        if !op::CheckEpoch::fast(ex)
            && let Err(exit) = ex.epoch_deadline_reached()
        {
            ex.pending = Some(exit);
            return;
        }
        // SAFETY: `ip - 1` is this instruction, a `FuelEpoch`.
        let Instr::FuelEpoch { amount } = (unsafe { *ip.sub(1) }) else {
            // SAFETY: as above; no other variant can be there.
            unsafe { core::hint::unreachable_unchecked() }
        };
        if !op::ConsumeFuel::fast(ex, amount) {
            ex.pending = Some(Exit::Trap(crate::Trap::OutOfFuel));
            return;
        }
        let h = Hot::from_executor(ex);
        // SAFETY: `h` describes the current frame, just reloaded.
        unsafe { next(h, ex) }
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
        ip: *const Instr,
        regs: *mut u64,
        mem: *mut u8,
        mem_len: usize,
        code: *const Instr,
        ex: &mut Executor<'_>,
    ) {
        let h = Hot {
            code,
            ip,
            regs,
            mem,
            mem_len,
        };
        h.save(ex);
        if let Err(exit) = ex.epoch_deadline_reached() {
            ex.pending = Some(exit);
            return;
        }
        // The callback may have grown memory or moved the stack: reload.
        let h = Hot::from_executor(ex);
        // SAFETY: `h` describes the current frame, just reloaded.
        unsafe { next(h, ex) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handler_table_matches_opcodes() {
        // The last opcode is `Data`; the table must have exactly one handler per opcode.
        let last = Instr::Data { a: 0, b: 0 }.opcode() as usize;
        assert_eq!(HANDLERS.len(), last + 1);
    }
}
