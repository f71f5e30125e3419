//! The aarch64 backend (AAPCS64, Linux and other unix hosts).
//!
//! Pinned registers while native code runs: `x19` = the `VmCtx`, `x20` = the frame base
//! (cell `n` is `[x20 + 8n]`), `x21` = memory 0's base, `x22` = its length. `x0`-`x2`,
//! `x8`-`x11`, `x16` and `v0`-`v7` are scratch (`x17` only addresses cells whose offset does not fit a
//! scaled 12-bit immediate; `x18`, the platform register, is never touched). The hottest
//! cells of a function with loops live in registers (see `regs`).
//!
//! The entry stub saves the callee-saved registers (`x19`-`x30`, `d8`-`d15`), loads the
//! pinned ones from its arguments and the `VmCtx`, records its stack pointer in
//! `VmCtx::entry_sp`, pushes the address of its own tail as a return slot and branches to
//! `VmCtx::resume`. A function body always runs as a callee whose return address sits in
//! a 16-byte slot at `[sp]` (so helper and direct calls may use `x30` freely, and `sp`
//! stays 16-byte aligned): it returns by popping the slot into `x30` and `ret`, to the
//! stub (which returns `STATUS_RETURN`) or to a direct caller (whose `blr` the callee's
//! direct entry answers by pushing `x30`). A step or trap exit writes its function and
//! frame to the `VmCtx`, drops the stack back to `entry_sp` (nested direct calls
//! included) and leaves through the stub's epilogue with the status in `w0`. Trap paths
//! are out of line, after the function body.
//!
//! Branch ranges: conditional branches (`b.cond`, `cbz`) reach ±1 MiB, so a function
//! whose code is larger than that fails to assemble; [`Aarch64::far_branches`] then
//! makes every conditional branch to a label a short inverted branch over an
//! unconditional `b` (±128 MiB), and `crate::assemble` retries with it. `tbz` (±32 KiB) is
//! not used.

// dynasm expands a dynamic register (`X(r)`) to an `.into()` of its number.
#![allow(clippy::useless_conversion)]

use crate::backend::{
    Addr, Assembled, Backend, Cond, DivOp, FloatCond, FloatOp, IntOp, IntUnOp, Load, Rhs, Width,
};
use crate::helpers::Helper;
use dynasmrt::aarch64::Aarch64Relocation;
use dynasmrt::{AssemblyOffset, DynamicLabel, DynasmApi, DynasmLabelApi, VecAssembler, dynasm};
use gloam_interp::Trap;
use gloam_interp::native::{STATUS_STEP, STATUS_TRAP, offsets, trap_code};
use gloam_interp::translate::CompiledFunc;

#[cfg(test)]
mod tests;

macro_rules! asm {
    ($ops:expr; $($t:tt)*) => {
        dynasm!($ops ; .arch aarch64 ; $($t)*)
    };
}

mod arith;
mod regs;
use regs::Pin;

/// Scratch integer registers (dynasm numbers). `X8` is where results are computed when
/// the destination has no register of its own; `X9` and `X10` take operands loaded from
/// the frame; `X16` takes materialized immediates and call targets.
const X8: u8 = 8;
const X9: u8 = 9;
const X10: u8 = 10;
const X11: u8 = 11;
const X16: u8 = 16;
/// Addresses cells past the scaled-immediate range (see `cell_at`).
const X17: u8 = 17;
/// The frame base.
const FP: u8 = 20;

/// An aarch64 condition code (the subset integer and float comparisons need).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Cc {
    Eq,
    Ne,
    Lt,
    Lo,
    Gt,
    Hi,
    Le,
    Ls,
    Ge,
    Hs,
    Mi,
    Pl,
}

impl Cc {
    fn of(c: Cond) -> Cc {
        match c {
            Cond::Eq => Cc::Eq,
            Cond::Ne => Cc::Ne,
            Cond::LtS => Cc::Lt,
            Cond::LtU => Cc::Lo,
            Cond::GtS => Cc::Gt,
            Cond::GtU => Cc::Hi,
            Cond::LeS => Cc::Le,
            Cond::LeU => Cc::Ls,
            Cond::GeS => Cc::Ge,
            Cond::GeU => Cc::Hs,
        }
    }

    fn invert(self) -> Cc {
        match self {
            Cc::Eq => Cc::Ne,
            Cc::Ne => Cc::Eq,
            Cc::Lt => Cc::Ge,
            Cc::Ge => Cc::Lt,
            Cc::Lo => Cc::Hs,
            Cc::Hs => Cc::Lo,
            Cc::Gt => Cc::Le,
            Cc::Le => Cc::Gt,
            Cc::Hi => Cc::Ls,
            Cc::Ls => Cc::Hi,
            Cc::Mi => Cc::Pl,
            Cc::Pl => Cc::Mi,
        }
    }
}

pub struct Aarch64 {
    /// Assembles into a plain vector: the code is position-independent (PC-relative
    /// branches and `adr` within the function, helper addresses materialized as
    /// immediates), and `crate::link` copies a whole batch into one executable mapping.
    ops: VecAssembler<Aarch64Relocation>,
    exit: DynamicLabel,
    /// The entry stub's epilogue, which every exit leaves through.
    leave: DynamicLabel,
    resume: Vec<(u32, AssemblyOffset)>,
    /// Out-of-line exits (traps, and the step exits of epoch checks and failed direct
    /// calls): `(label, status, pc)`; status 0: already in `w0`.
    traps: Vec<(DynamicLabel, u32, u32)>,
    /// The function being compiled (written to frame records and `VmCtx::exit_func`).
    func: *const CompiledFunc,
    direct: Option<AssemblyOffset>,
    /// Pinned cells (see `regs`): the register of each cell, and the list of them.
    pins: Vec<Option<Pin>>,
    pinned: Vec<(u16, Pin)>,
    /// Resume points whose entry reloads the pinned cells out of line: `(pc, label)` of
    /// the place in the body the reload branches back to.
    resume_stubs: Vec<(u32, DynamicLabel)>,
    /// Where each instruction's code starts, when a listing was asked for.
    marks: Option<Vec<(u32, AssemblyOffset)>>,
    /// The function's spill and reload routines, once code calls them (see `regs`).
    spill_fn: Option<DynamicLabel>,
    reload_fn: Option<DynamicLabel>,
    /// The function's frame-push routine, shared by its direct call sites when it has
    /// more than `INLINE_CALLS` of them (see `call_direct`).
    call_fn: Option<DynamicLabel>,
    /// Conditional branches to labels go through an unconditional `b` (see the module
    /// docs).
    far: bool,
}

/// Functions with at most this many direct call sites push frame records inline; more
/// sites share one routine.
const INLINE_CALLS: usize = 2;

/// Bytes the entry stub keeps on the stack: the frame record, `x19`-`x28` and `d8`-`d15`.
const STUB_FRAME: i32 = 160;

impl Aarch64 {
    /// A backend for `func`, of about `code_len` bytecode instructions.
    pub fn new(code_len: usize, func: *const CompiledFunc) -> Aarch64 {
        let mut ops = VecAssembler::new_with_capacity(
            0,
            64 + code_len * 16,
            0,
            0,
            16 + code_len / 2,
            0,
            16 + code_len,
        );
        let exit = ops.new_dynamic_label();
        let leave = ops.new_dynamic_label();
        let back = ops.new_dynamic_label();
        let (mem, mem_len, resume, entry_sp) = (
            offsets::MEM as u32,
            offsets::MEM_LEN as u32,
            offsets::RESUME as u32,
            offsets::ENTRY_SP as u32,
        );
        // Entry: x0 = VmCtx, x1 = frame base.
        asm!(ops
            ; stp x29, x30, [sp, #-STUB_FRAME]!
            ; mov x29, sp
            ; stp x19, x20, [sp, #16]
            ; stp x21, x22, [sp, #32]
            ; stp x23, x24, [sp, #48]
            ; stp x25, x26, [sp, #64]
            ; stp x27, x28, [sp, #80]
            ; stp d8, d9, [sp, #96]
            ; stp d10, d11, [sp, #112]
            ; stp d12, d13, [sp, #128]
            ; stp d14, d15, [sp, #144]
            ; mov x19, x0
            ; mov x20, x1
            ; ldr x21, [x19, mem]
            ; ldr x22, [x19, mem_len]
            ; mov x16, sp
            ; str x16, [x19, entry_sp]
            // The body's return slot: it returns to `back`.
            ; adr x30, =>back
            ; str x30, [sp, #-16]!
            ; ldr x16, [x19, resume]
            ; br x16
            ; =>back
            // The body returned: STATUS_RETURN (0).
            ; mov w0, wzr
            // The one epilogue (exits come here with their status and `sp` reset).
            ; =>leave
            ; ldp d14, d15, [sp, #144]
            ; ldp d12, d13, [sp, #128]
            ; ldp d10, d11, [sp, #112]
            ; ldp d8, d9, [sp, #96]
            ; ldp x27, x28, [sp, #80]
            ; ldp x25, x26, [sp, #64]
            ; ldp x23, x24, [sp, #48]
            ; ldp x21, x22, [sp, #32]
            ; ldp x19, x20, [sp, #16]
            ; ldp x29, x30, [sp], #STUB_FRAME
            ; ret
        );
        Aarch64 {
            ops,
            exit,
            leave,
            resume: Vec::with_capacity(4 + code_len / 8),
            traps: Vec::with_capacity(4 + code_len / 4),
            func,
            direct: None,
            pins: Vec::new(),
            pinned: Vec::new(),
            resume_stubs: Vec::with_capacity(4 + code_len / 8),
            marks: None,
            spill_fn: None,
            reload_fn: None,
            call_fn: None,
            far: false,
        }
    }

    /// Asks for the start of every instruction's code in [`Assembled::marks`].
    pub fn with_listing(mut self) -> Aarch64 {
        self.marks = Some(Vec::new());
        self
    }

    /// Makes every conditional branch to a label reach ±128 MiB (for functions whose code
    /// is larger than a conditional branch reaches).
    pub fn far_branches(mut self) -> Aarch64 {
        self.far = true;
        self
    }

    /// A label for an out-of-line exit with `trap` at `pc`.
    fn trap_label(&mut self, trap: Trap, pc: u32) -> DynamicLabel {
        let l = self.ops.new_dynamic_label();
        self.traps.push((l, STATUS_TRAP + trap_code(trap), pc));
        l
    }

    /// `xr = v` (`movz`/`movn` and `movk`s: at most four instructions).
    pub(super) fn mov_imm(&mut self, r: u8, v: u64) {
        let chunks = [0u32, 16, 32, 48].map(|s| ((v >> s) & 0xffff) as u32);
        let ones = chunks.iter().filter(|&&c| c == 0xffff).count();
        let zeros = chunks.iter().filter(|&&c| c == 0).count();
        if ones > zeros {
            // Start from all ones.
            let mut first = true;
            for (i, &c) in chunks.iter().enumerate() {
                let s = 16 * i as u32;
                if c == 0xffff {
                    continue;
                }
                if first {
                    asm!(self.ops ; movn X(r), (!c) & 0xffff, lsl s);
                    first = false;
                } else {
                    asm!(self.ops ; movk X(r), c, lsl s);
                }
            }
            if first {
                asm!(self.ops ; movn X(r), 0, lsl 0);
            }
        } else {
            let mut first = true;
            for (i, &c) in chunks.iter().enumerate() {
                let s = 16 * i as u32;
                if c == 0 {
                    continue;
                }
                if first {
                    asm!(self.ops ; movz X(r), c, lsl s);
                    first = false;
                } else {
                    asm!(self.ops ; movk X(r), c, lsl s);
                }
            }
            if first {
                asm!(self.ops ; movz X(r), 0, lsl 0);
            }
        }
    }

    /// `xd = xn + imm` for `imm < 2^24` (`x16` beyond).
    pub(super) fn add_imm(&mut self, d: u8, n: u8, imm: u32) {
        let (lo, hi) = (imm & 0xfff, imm >> 12);
        if hi == 0 {
            asm!(self.ops ; add XSP(d), XSP(n), lo);
        } else if hi < 0x1000 {
            asm!(self.ops ; add XSP(d), XSP(n), hi, lsl 12);
            if lo != 0 {
                asm!(self.ops ; add XSP(d), XSP(d), lo);
            }
        } else {
            self.mov_imm(X16, imm as u64);
            asm!(self.ops ; add X(d), X(n), X(X16));
        }
    }

    /// `xd = xn - imm` for `imm < 2^24` (`x16` beyond).
    pub(super) fn sub_imm(&mut self, d: u8, n: u8, imm: u32) {
        let (lo, hi) = (imm & 0xfff, imm >> 12);
        if hi == 0 {
            asm!(self.ops ; sub XSP(d), XSP(n), lo);
        } else if hi < 0x1000 {
            asm!(self.ops ; sub XSP(d), XSP(n), hi, lsl 12);
            if lo != 0 {
                asm!(self.ops ; sub XSP(d), XSP(d), lo);
            }
        } else {
            self.mov_imm(X16, imm as u64);
            asm!(self.ops ; sub X(d), X(n), X(X16));
        }
    }

    /// The base register and byte offset that address frame cell `c` with a scaled 12-bit
    /// immediate for 4- and 8-byte accesses: the frame base itself for the first 2048
    /// cells, else `x17` set to the frame base plus the offset's high bits.
    pub(super) fn cell_at(&mut self, c: u16) -> (u8, u32) {
        let off = c as u32 * 8;
        if c < 2048 {
            (FP, off)
        } else {
            asm!(self.ops ; add XSP(X17), XSP(FP), off >> 12, lsl 12);
            (X17, off & 0xfff)
        }
    }

    /// `xr = cell c` (64 bits, from the frame).
    pub(super) fn ldr_cell(&mut self, r: u8, c: u16) {
        let (b, o) = self.cell_at(c);
        asm!(self.ops ; ldr X(r), [X(b), o]);
    }

    /// `cell c = xr`.
    pub(super) fn str_cell(&mut self, r: u8, c: u16) {
        let (b, o) = self.cell_at(c);
        asm!(self.ops ; str X(r), [X(b), o]);
    }

    /// `dv = cell c`.
    pub(super) fn ldr_cell_d(&mut self, v: u8, c: u16) {
        let (b, o) = self.cell_at(c);
        asm!(self.ops ; ldr D(v), [X(b), o]);
    }

    /// `cell c = dv`.
    pub(super) fn str_cell_d(&mut self, v: u8, c: u16) {
        let (b, o) = self.cell_at(c);
        asm!(self.ops ; str D(v), [X(b), o]);
    }

    /// A conditional branch to `l` (within ±1 MiB unless `far`).
    pub(super) fn b_cc(&mut self, cc: Cc, l: DynamicLabel) {
        if self.far {
            let skip = self.ops.new_dynamic_label();
            self.b_cc_near(cc.invert(), skip);
            asm!(self.ops ; b =>l ; =>skip);
        } else {
            self.b_cc_near(cc, l);
        }
    }

    fn b_cc_near(&mut self, cc: Cc, l: DynamicLabel) {
        match cc {
            Cc::Eq => asm!(self.ops ; b.eq =>l),
            Cc::Ne => asm!(self.ops ; b.ne =>l),
            Cc::Lt => asm!(self.ops ; b.lt =>l),
            Cc::Lo => asm!(self.ops ; b.lo =>l),
            Cc::Gt => asm!(self.ops ; b.gt =>l),
            Cc::Hi => asm!(self.ops ; b.hi =>l),
            Cc::Le => asm!(self.ops ; b.le =>l),
            Cc::Ls => asm!(self.ops ; b.ls =>l),
            Cc::Ge => asm!(self.ops ; b.ge =>l),
            Cc::Hs => asm!(self.ops ; b.hs =>l),
            Cc::Mi => asm!(self.ops ; b.mi =>l),
            Cc::Pl => asm!(self.ops ; b.pl =>l),
        }
    }

    /// Branches to `l` if `wr` (`x64`: `xr`) is zero (`zero`) or non-zero.
    pub(super) fn cbz(&mut self, x64: bool, r: u8, zero: bool, l: DynamicLabel) {
        let (target, zero) = if self.far {
            (self.ops.new_dynamic_label(), !zero)
        } else {
            (l, zero)
        };
        match (x64, zero) {
            (false, true) => asm!(self.ops ; cbz W(r), =>target),
            (false, false) => asm!(self.ops ; cbnz W(r), =>target),
            (true, true) => asm!(self.ops ; cbz X(r), =>target),
            (true, false) => asm!(self.ops ; cbnz X(r), =>target),
        }
        if self.far {
            asm!(self.ops ; b =>l ; =>target);
        }
    }

    /// `wr = cc ? 1 : 0`.
    pub(super) fn cset(&mut self, r: u8, cc: Cc) {
        match cc {
            Cc::Eq => asm!(self.ops ; cset W(r), eq),
            Cc::Ne => asm!(self.ops ; cset W(r), ne),
            Cc::Lt => asm!(self.ops ; cset W(r), lt),
            Cc::Lo => asm!(self.ops ; cset W(r), lo),
            Cc::Gt => asm!(self.ops ; cset W(r), gt),
            Cc::Hi => asm!(self.ops ; cset W(r), hi),
            Cc::Le => asm!(self.ops ; cset W(r), le),
            Cc::Ls => asm!(self.ops ; cset W(r), ls),
            Cc::Ge => asm!(self.ops ; cset W(r), ge),
            Cc::Hs => asm!(self.ops ; cset W(r), hs),
            Cc::Mi => asm!(self.ops ; cset W(r), mi),
            Cc::Pl => asm!(self.ops ; cset W(r), pl),
        }
    }

    /// `w16 = pc`, stored to `VmCtx::exit_pc`.
    fn set_exit_pc(&mut self, pc: u32) {
        self.mov_imm(X16, pc as u64);
        asm!(self.ops ; str w16, [x19, offsets::EXIT_PC as u32]);
    }

    /// With `x10` = `VmCtx::limits`: charges `amount` of fuel, or traps with `OutOfFuel`
    /// at `pc` (out of line) charging nothing when there is less. Uses `x9` and `x16`.
    fn charge_fuel(&mut self, amount: u32, pc: u32) {
        let out = self.trap_label(Trap::OutOfFuel, pc);
        asm!(self.ops ; ldr x9, [x10, offsets::FUEL as u32]);
        if amount < 0x1000 {
            asm!(self.ops ; subs x9, x9, amount);
        } else {
            self.mov_imm(X16, amount as u64);
            asm!(self.ops ; subs x9, x9, x16);
        }
        // A borrow (carry clear): less fuel than `amount`.
        self.b_cc(Cc::Lo, out);
        asm!(self.ops ; str x9, [x10, offsets::FUEL as u32]);
    }

    /// With `x10` = `VmCtx::limits`: if the engine's epoch is at or past the store's
    /// deadline, a step exit for the instruction at `pc` (out of line). A plain aligned
    /// 64-bit load of the counter is single-copy atomic on aarch64 (a relaxed load, as the
    /// interpreter's `Epoch::get`). Uses `x9` and `x11`; keeps `x10`.
    fn epoch_reached(&mut self, pc: u32) {
        let reached = self.ops.new_dynamic_label();
        self.traps.push((reached, STATUS_STEP, pc));
        asm!(self.ops
            ; ldr x9, [x19, offsets::EPOCH as u32]
            ; ldr x9, [x9]
            ; ldr x11, [x10, offsets::EPOCH_DEADLINE as u32]
            ; cmp x9, x11
        );
        self.b_cc(Cc::Hs, reached);
    }

    /// `x8 = effective address` (an offset from memory 0's base) of a `bytes`-wide
    /// access, or a branch to an out-of-bounds trap. Uses `x9` and `x16`.
    fn address(&mut self, bytes: u8, addr: Addr, pc: u32) {
        let oob = self.trap_label(Trap::MemoryOutOfBounds, pc);
        let r = self.int_src(addr.base, X8);
        if addr.add == 0 {
            asm!(self.ops ; mov W(X8), W(r));
        } else if addr.add < 0x1000 {
            // A 32-bit add wraps like the fused `i32.add` and zero-extends into `x8`.
            asm!(self.ops ; add WSP(X8), WSP(r), addr.add);
        } else {
            self.mov_imm(X16, addr.add as u64);
            asm!(self.ops ; add W(X8), W(r), w16);
        }
        // Offset and width: at most 2^32 + 8, no overflow in 64 bits.
        let end = addr.offset as u64 + bytes as u64;
        if end < 0x1000 {
            asm!(self.ops ; add x9, x8, end as u32);
        } else {
            self.mov_imm(X16, end);
            asm!(self.ops ; add x9, x8, x16);
        }
        asm!(self.ops ; cmp x9, x22);
        self.b_cc(Cc::Hi, oob);
        if addr.offset != 0 {
            if addr.offset < 0x1000 {
                asm!(self.ops ; add x8, x8, addr.offset);
            } else {
                self.mov_imm(X16, addr.offset as u64);
                asm!(self.ops ; add x8, x8, x16);
            }
        }
    }

    /// With `x8` = the callee's offset in the direct-entry table and `x9` = the byte offset
    /// of its frame from ours: checks that the callee has native code, that its frame fits
    /// in the value stack and that a frame record fits below `VmCtx::frames_limit`,
    /// branching to `fail` if not. Then pushes the record the executor would (this
    /// function, its frame base as a cell index into the value stack, the instance; the
    /// caller writes the continuation pc through `x8`), and leaves the callee's direct
    /// entry in `x11`. Uses `x9`, `x10` and `x16`; keeps the pinned registers.
    fn emit_push_frame(&mut self, fail: DynamicLabel) {
        asm!(self.ops
            ; ldr x10, [x19, offsets::DIRECT as u32]
            ; add x10, x10, x8
            // The entry first, 0 while the callee has no native code: its frame size is
            // published before it (with release ordering; this load acquires).
            ; add x10, x10, offsets::DIRECT_ADDR as u32
            ; ldar x11, [x10]
        );
        self.cbz(true, X11, true, fail);
        asm!(self.ops
            ; ldr x8, [x10, (offsets::DIRECT_FRAME_SIZE - offsets::DIRECT_ADDR) as u32]
            ; add x8, x20, x8, lsl 3
            ; add x8, x8, x9
            ; ldr x16, [x19, offsets::STACK_END as u32]
            ; cmp x8, x16
        );
        self.b_cc(Cc::Hi, fail);
        asm!(self.ops
            ; ldr x9, [x19, offsets::FRAMES_LEN as u32]
            ; ldr x16, [x19, offsets::FRAMES_LIMIT as u32]
            ; cmp x9, x16
        );
        self.b_cc(Cc::Hs, fail);
        self.mov_imm(X16, offsets::FRAME_SIZE as u64);
        asm!(self.ops
            ; ldr x8, [x19, offsets::FRAMES as u32]
            ; madd x8, x9, x16, x8
        );
        self.mov_imm(X16, self.func as u64);
        asm!(self.ops
            ; str x16, [x8, offsets::FRAME_FUNC as u32]
            ; ldr x16, [x19, offsets::STACK as u32]
            ; sub x16, x20, x16
            ; lsr x16, x16, 3
            ; str x16, [x8, offsets::FRAME_BASE as u32]
            ; ldr w16, [x19, offsets::INST as u32]
            ; str w16, [x8, offsets::FRAME_INST as u32]
            ; add x9, x9, 1
            ; str x9, [x19, offsets::FRAMES_LEN as u32]
        );
    }

    /// The shared frame-push routine of `call_direct`, if a call site used it: as
    /// `emit_push_frame`, returning `x11` = 0 instead of branching when a check fails.
    fn emit_call_routine(&mut self) {
        let Some(l) = self.call_fn else { return };
        let fail = self.ops.new_dynamic_label();
        asm!(self.ops ; =>l);
        self.emit_push_frame(fail);
        asm!(self.ops
            ; ret
            ; =>fail
            ; mov x11, xzr
            ; ret
        );
    }

    /// Stores the low `bytes` of `xr` at `[x21 + x8]`.
    fn narrow_store(&mut self, bytes: u8, r: u8) {
        match bytes {
            1 => asm!(self.ops ; strb W(r), [x21, x8]),
            2 => asm!(self.ops ; strh W(r), [x21, x8]),
            4 => asm!(self.ops ; str W(r), [x21, x8]),
            _ => asm!(self.ops ; str X(r), [x21, x8]),
        }
    }

    /// `x8 = &globals[inst_globals[global]]`. Uses `x16`.
    fn global_addr(&mut self, global: u32) {
        self.mov_imm(X16, global as u64);
        asm!(self.ops
            ; ldr x8, [x19, offsets::INST_GLOBALS as u32]
            ; ldr w8, [x8, x16, lsl 2]
        );
        self.mov_imm(X16, offsets::GLOBAL_SIZE as u64);
        asm!(self.ops
            ; ldr x9, [x19, offsets::GLOBALS as u32]
            ; madd x8, x8, x16, x9
        );
    }

    /// A step exit for the instruction at `pc`, inline.
    fn emit_step(&mut self, pc: u32) {
        self.spill_pins();
        self.set_exit_pc(pc);
        asm!(self.ops
            ; mov w0, STATUS_STEP
            ; b =>self.exit
        );
    }
}

impl Backend for Aarch64 {
    type Label = DynamicLabel;

    fn mark(&mut self, pc: u32) {
        if let Some(marks) = &mut self.marks {
            marks.push((pc, self.ops.offset()));
        }
    }

    fn new_label(&mut self) -> DynamicLabel {
        self.ops.new_dynamic_label()
    }

    fn bind(&mut self, label: DynamicLabel) {
        asm!(self.ops ; =>label);
    }

    fn resume_point(&mut self, pc: u32) {
        if self.pinned.is_empty() {
            let at = self.ops.offset();
            self.resume.push((pc, at));
        } else {
            // Entered from the executor through an out-of-line reload of the pinned cells
            // (code falling through here needs none).
            let back = self.ops.new_dynamic_label();
            asm!(self.ops ; =>back);
            self.resume_stubs.push((pc, back));
        }
    }

    fn pin_cells(&mut self, ranked: &[(u16, bool)]) {
        self.pin(ranked);
    }

    fn copy(&mut self, dst: u16, src: u16) {
        if dst == src {
            return;
        }
        match (self.pin_of(dst), self.pin_of(src)) {
            (Some(Pin::Fpr(d)), Some(Pin::Fpr(s))) => asm!(self.ops ; fmov D(d), D(s)),
            (Some(Pin::Fpr(d)), None) => self.ldr_cell_d(d, src),
            (None, Some(Pin::Fpr(s))) => self.str_cell_d(s, dst),
            _ => {
                let d = self.int_dst(dst);
                let r = self.int_src(src, d);
                self.int_done(r, dst);
            }
        }
    }

    fn constant(&mut self, dst: u16, bits: u64) {
        match self.pin_of(dst) {
            Some(Pin::Gpr(r)) => self.mov_imm(r, bits),
            Some(Pin::Fpr(v)) if bits == 0 => asm!(self.ops ; movi D(v), 0),
            Some(Pin::Fpr(v)) => {
                self.mov_imm(X8, bits);
                asm!(self.ops ; fmov D(v), X(X8));
            }
            None if bits == 0 => {
                let (b, o) = self.cell_at(dst);
                asm!(self.ops ; str xzr, [X(b), o]);
            }
            None => {
                self.mov_imm(X8, bits);
                self.str_cell(X8, dst);
            }
        }
    }

    fn int_op(&mut self, w: Width, op: IntOp, dst: u16, a: u16, b: Rhs) {
        self.emit_int_op(w, op, dst, a, b);
    }

    fn int_cmp(&mut self, w: Width, c: Cond, dst: u16, a: u16, b: Rhs) {
        let cc = self.emit_cmp(w, c, a, b);
        let d = self.int_dst(dst);
        self.cset(d, cc);
        self.int_done(d, dst);
    }

    fn int_unop(&mut self, w: Width, op: IntUnOp, dst: u16, src: u16) -> bool {
        self.emit_int_unop(w, op, dst, src)
    }

    fn int_div(&mut self, w: Width, op: DivOp, dst: u16, a: u16, b: u16, pc: u32) {
        self.emit_int_div(w, op, dst, a, b, pc);
    }

    fn select(&mut self, dst: u16, cond: u16, a: u16, b: u16) {
        let rc = self.int_src(cond, X8);
        asm!(self.ops ; cmp WSP(rc), 0);
        let ra = self.int_src(a, X9);
        let rb = self.int_src(b, X10);
        let d = self.int_dst(dst);
        asm!(self.ops ; csel X(d), X(ra), X(rb), ne);
        self.int_done(d, dst);
    }

    fn jump(&mut self, target: DynamicLabel) {
        asm!(self.ops ; b =>target);
    }

    fn br_if(&mut self, cond: u16, nonzero: bool, target: DynamicLabel) {
        let r = self.int_src(cond, X8);
        self.cbz(false, r, !nonzero, target);
    }

    fn br_cmp(&mut self, w: Width, c: Cond, a: u16, b: Rhs, target: DynamicLabel) {
        let cc = self.emit_cmp(w, c, a, b);
        self.b_cc(cc, target);
    }

    fn br_table(&mut self, index: u16, targets: &[DynamicLabel]) {
        let (default, cases) = targets.split_last().expect("br_table has a default");
        let r = self.int_src(index, X9);
        if cases.len() < 4 {
            // A short compare chain.
            for (i, &t) in cases.iter().enumerate() {
                asm!(self.ops ; cmp WSP(r), i as u32);
                self.b_cc(Cc::Eq, t);
            }
            asm!(self.ops ; b =>*default);
            return;
        }
        // A table of branches; the index is clamped (unsigned) to the default's slot.
        let table = self.ops.new_dynamic_label();
        self.mov_imm(X10, cases.len() as u64);
        asm!(self.ops
            ; cmp W(r), w10
            ; csel w9, W(r), w10, ls
            ; adr x10, =>table
            ; add x10, x10, x9, lsl 2
            ; br x10
            ; =>table
        );
        for &t in targets {
            asm!(self.ops ; b =>t);
        }
    }

    fn load(&mut self, l: Load, dst: u16, addr: Addr, pc: u32) {
        self.address(l.bytes, addr, pc);
        // Straight into the destination's pinned register when it has one of the right
        // kind (a 4-byte load into a float register zeroes the rest of it).
        match (self.pin_of(dst), l.bytes) {
            (Some(Pin::Fpr(v)), 8) => {
                asm!(self.ops ; ldr D(v), [x21, x8]);
                return;
            }
            (Some(Pin::Fpr(v)), 4) if !l.signed && l.width == Width::W32 => {
                asm!(self.ops ; ldr S(v), [x21, x8]);
                return;
            }
            _ => {}
        }
        let t = self.int_dst(dst);
        match (l.bytes, l.signed, l.width) {
            (1, false, _) => asm!(self.ops ; ldrb W(t), [x21, x8]),
            (1, true, Width::W32) => asm!(self.ops ; ldrsb W(t), [x21, x8]),
            (1, true, Width::W64) => asm!(self.ops ; ldrsb X(t), [x21, x8]),
            (2, false, _) => asm!(self.ops ; ldrh W(t), [x21, x8]),
            (2, true, Width::W32) => asm!(self.ops ; ldrsh W(t), [x21, x8]),
            (2, true, Width::W64) => asm!(self.ops ; ldrsh X(t), [x21, x8]),
            (4, true, Width::W64) => asm!(self.ops ; ldrsw X(t), [x21, x8]),
            (4, _, _) => asm!(self.ops ; ldr W(t), [x21, x8]),
            _ => asm!(self.ops ; ldr X(t), [x21, x8]),
        }
        self.int_done(t, dst);
    }

    fn store(&mut self, bytes: u8, addr: Addr, val: u16, pc: u32) {
        self.address(bytes, addr, pc);
        match (self.pin_of(val), bytes) {
            (Some(Pin::Fpr(v)), 8) => asm!(self.ops ; str D(v), [x21, x8]),
            (Some(Pin::Fpr(v)), 4) => asm!(self.ops ; str S(v), [x21, x8]),
            _ => {
                let r = self.int_src(val, X10);
                self.narrow_store(bytes, r);
            }
        }
    }

    fn global_get(&mut self, dst: u16, global: u32) {
        self.global_addr(global);
        let d = self.int_dst(dst);
        asm!(self.ops ; ldr X(d), [x8, offsets::GLOBAL_VALUE as u32]);
        self.int_done(d, dst);
    }

    fn global_set(&mut self, src: u16, global: u32) {
        self.global_addr(global);
        let r = self.int_src(src, X10);
        asm!(self.ops ; str X(r), [x8, offsets::GLOBAL_VALUE as u32]);
    }

    fn ret(&mut self, start: u16, len: u32) {
        // The results to the first cells (in memory, where the caller reads them).
        for i in 0..len {
            let from = (start as u32 + i) as u16;
            if start != 0 || self.pin_of(from).is_some() {
                let r = self.int_src(from, X8);
                self.str_cell(r, i as u16);
            }
        }
        // To the entry stub, or to a direct caller.
        asm!(self.ops
            ; ldr x30, [sp], 16
            ; ret
        );
    }

    fn direct_entry(&mut self, start: u32, locals: u32, consts: &[u64]) {
        self.direct = Some(self.ops.offset());
        // The return slot of a direct callee (see the module docs).
        asm!(self.ops ; str x30, [sp, #-16]!);
        let first = start * 8;
        if locals <= 16 {
            for i in 0..locals {
                let (b, o) = self.cell_at((start + i) as u16);
                asm!(self.ops ; str xzr, [X(b), o]);
            }
        } else {
            // `x8` and `x9` are scratch here: nothing is live at a function's start.
            let top = self.ops.new_dynamic_label();
            self.add_imm(X8, FP, first);
            self.mov_imm(X9, locals as u64);
            asm!(self.ops
                ; =>top
                ; str xzr, [x8], 8
                ; subs x9, x9, 1
                ; b.ne =>top
            );
        }
        let consts_at = start + locals;
        for (i, &c) in consts.iter().enumerate() {
            let cell = (consts_at + i as u32) as u16;
            if c == 0 {
                let (b, o) = self.cell_at(cell);
                asm!(self.ops ; str xzr, [X(b), o]);
            } else {
                self.mov_imm(X8, c);
                self.str_cell(X8, cell);
            }
        }
        self.reload_pins();
    }

    fn direct_call_sites(&mut self, sites: usize) {
        if sites > INLINE_CALLS {
            self.call_fn = Some(self.ops.new_dynamic_label());
        }
    }

    fn call_direct(&mut self, def: u32, base: u16, ret_pc: u32, pc: u32) {
        let slot = def as u64 * offsets::DIRECT_SIZE as u64;
        // Every check that fails hands the call to the executor.
        let slow = self.ops.new_dynamic_label();
        self.traps.push((slow, STATUS_STEP, pc));
        let b = base as u32 * 8;
        self.mov_imm(X8, slot);
        self.mov_imm(X9, b as u64);
        if let Some(push_frame) = self.call_fn {
            // The shared routine checks and pushes the record; this site adds its pc.
            asm!(self.ops ; bl =>push_frame);
            self.cbz(true, X11, true, slow);
        } else {
            self.emit_push_frame(slow);
        }
        self.mov_imm(X16, ret_pc as u64);
        asm!(self.ops ; str w16, [x8, offsets::FRAME_PC as u32]);
        // The callee reads its arguments from the frame.
        self.spill_pins();
        // Call with the callee's frame base, which its return leaves in x20.
        self.add_imm(FP, FP, b);
        asm!(self.ops ; blr x11);
        self.sub_imm(FP, FP, b);
        asm!(self.ops
            ; ldr x9, [x19, offsets::FRAMES_LEN as u32]
            ; sub x9, x9, 1
            ; str x9, [x19, offsets::FRAMES_LEN as u32]
        );
        // The callee used the registers and wrote its frame over our temporaries.
        self.reload_pins();
    }

    fn step(&mut self, pc: u32) {
        self.emit_step(pc);
    }

    fn trap(&mut self, trap: Trap, pc: u32) {
        let l = self.trap_label(trap, pc);
        asm!(self.ops ; b =>l);
    }

    fn float_op(&mut self, w: Width, op: FloatOp, dst: u16, a: u16, b: u16) {
        self.emit_float_op(w, op, dst, a, b);
    }

    fn float_cmp(&mut self, w: Width, c: FloatCond, dst: u16, a: u16, b: u16) {
        self.emit_float_cmp(w, c, dst, a, b);
    }

    fn float_sqrt(&mut self, w: Width, dst: u16, src: u16) {
        self.emit_float_sqrt(w, dst, src);
    }

    fn int_to_float(&mut self, from: Width, signed: bool, to: Width, dst: u16, src: u16) -> bool {
        self.emit_int_to_float(from, signed, to, dst, src)
    }

    fn float_convert(&mut self, to: Width, dst: u16, src: u16) {
        self.emit_float_convert(to, dst, src);
    }

    fn consume_fuel(&mut self, amount: u32, pc: u32) {
        asm!(self.ops ; ldr x10, [x19, offsets::LIMITS as u32]);
        self.charge_fuel(amount, pc);
    }

    fn check_epoch(&mut self, pc: u32) {
        asm!(self.ops ; ldr x10, [x19, offsets::LIMITS as u32]);
        self.epoch_reached(pc);
    }

    fn check_epoch_consume_fuel(&mut self, amount: u32, pc: u32) {
        // One load of the limits pointer for both checks.
        asm!(self.ops ; ldr x10, [x19, offsets::LIMITS as u32]);
        self.epoch_reached(pc);
        self.charge_fuel(amount, pc);
    }

    fn call_helper(&mut self, h: Helper, dst: u16, a: u16, b: u16, pc: u32) {
        // The helper's operands from the frame, which it may write too; the call clobbers
        // the caller-saved pinned registers.
        self.spill_pins();
        let (addr, traps) = match h {
            Helper::Unary(f) => {
                self.ldr_cell(0, a);
                (f as usize, false)
            }
            Helper::Binary(f) => {
                self.ldr_cell(0, a);
                self.ldr_cell(1, b);
                (f as usize, false)
            }
            Helper::UnaryTrap(f) => {
                self.ldr_cell(0, a);
                self.add_imm(1, FP, dst as u32 * 8);
                (f as usize, true)
            }
            Helper::BinaryTrap(f) => {
                self.ldr_cell(0, a);
                self.ldr_cell(1, b);
                self.add_imm(2, FP, dst as u32 * 8);
                (f as usize, true)
            }
        };
        // sp is 16-byte aligned in native code (see `new`), as the call needs.
        self.mov_imm(X16, addr as u64);
        asm!(self.ops ; blr x16);
        if traps {
            let l = self.ops.new_dynamic_label();
            self.traps.push((l, 0, pc));
            self.cbz(false, 0, false, l);
        } else {
            self.str_cell(0, dst);
        }
        // Every pinned cell from the frame (`dst` included) after the call.
        self.reload_pins();
    }

    fn finish(mut self) -> Result<Assembled, String> {
        // The out-of-line code starts here (`u32::MAX` in a listing).
        self.mark(u32::MAX);
        for (pc, back) in std::mem::take(&mut self.resume_stubs) {
            let at = self.ops.offset();
            self.resume.push((pc, at));
            self.reload_pins();
            asm!(self.ops ; b =>back);
        }
        for (l, status, pc) in std::mem::take(&mut self.traps) {
            asm!(self.ops ; =>l);
            if status == STATUS_STEP {
                // The executor runs the instruction over the frame.
                self.spill_pins();
            }
            if status != 0 {
                self.mov_imm(0, status as u64);
            }
            self.set_exit_pc(pc);
            asm!(self.ops ; b =>self.exit);
        }
        // A step or trap exit, from any depth of direct calls: say where, drop the stack
        // to the entry stub's, and leave through its epilogue.
        asm!(self.ops ; =>self.exit);
        self.mov_imm(X16, self.func as u64);
        asm!(self.ops
            ; str x16, [x19, offsets::EXIT_FUNC as u32]
            ; str x20, [x19, offsets::EXIT_REGS as u32]
            ; ldr x16, [x19, offsets::ENTRY_SP as u32]
            ; mov sp, x16
            ; b =>self.leave
        );
        self.emit_pin_routines();
        self.emit_call_routine();
        let Aarch64 {
            ops,
            resume,
            direct,
            marks,
            ..
        } = self;
        let code = ops.finalize().map_err(|e| match e {
            dynasmrt::DynasmError::ImpossibleRelocation(_) => BRANCH_RANGE.to_string(),
            _ => "failed to assemble native code".to_string(),
        })?;
        let resume = resume.into_iter().map(|(pc, off)| (pc, off.0)).collect();
        Ok(Assembled {
            code,
            direct: direct.map(|d| d.0),
            resume,
            marks: marks
                .unwrap_or_default()
                .into_iter()
                .map(|(pc, off)| (pc, off.0))
                .collect(),
        })
    }
}

/// The error of [`Aarch64::finish`] when a branch did not reach its target (the caller
/// retries with [`Aarch64::far_branches`]).
pub const BRANCH_RANGE: &str = "branch out of range";
