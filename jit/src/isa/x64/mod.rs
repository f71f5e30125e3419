//! The x86-64 backend (System V calling convention).
//!
//! Pinned registers while native code runs: `r15` = the `VmCtx`, `r12` = the frame base
//! (cell `n` is `[r12 + 8n]`), `r13` = memory 0's base, `r14` = its length. `rax`, `rcx`,
//! `rdx` and `rdi` are scratch. The entry stub saves the callee-saved registers it pins,
//! loads them from its arguments and the `VmCtx`, records its stack pointer in
//! `VmCtx::entry_sp` and calls `VmCtx::resume`: a function body always runs as a callee
//! (with `rsp` 16-byte aligned), and returns with `ret`, to the stub (which returns
//! `STATUS_RETURN`) or to a native caller's direct call. A step or trap exit writes its
//! function and frame to the `VmCtx`, drops the host stack back to `entry_sp` (nested
//! direct calls included) and leaves through the stub's epilogue with the status in
//! `eax`. Trap paths are out of line, after the function body.

// dynasm expands a dynamic register (`Rq(r)`) to an `.into()` of its number.
#![allow(clippy::useless_conversion)]

use crate::backend::{
    Addr, Assembled, Backend, Cond, DivOp, FloatCond, FloatOp, IntOp, IntUnOp, Load, Rhs, Width,
};
use crate::helpers::Helper;
use dynasmrt::x64::X64Relocation;
use dynasmrt::{AssemblyOffset, DynamicLabel, DynasmApi, DynasmLabelApi, VecAssembler, dynasm};
use gloam_interp::Trap;
use gloam_interp::native::{STATUS_STEP, STATUS_TRAP, offsets, trap_code};
use gloam_interp::translate::CompiledFunc;

#[cfg(test)]
mod tests;

macro_rules! asm {
    ($ops:expr; $($t:tt)*) => {
        dynasm!($ops ; .arch x64 ; $($t)*)
    };
}

mod pins;
use pins::Pin;

/// The byte offset of frame cell `c` from the frame base.
fn cell(c: u16) -> i32 {
    c as i32 * 8
}

/// Host stack that nested direct calls may use below the entry stub's: past it, a call
/// takes a step exit, which starts the callee on a fresh native stack.
const DIRECT_STACK_BUDGET: i32 = 64 << 10;

pub struct X64 {
    /// Assembles into a plain vector: the code is position-independent (relative jumps
    /// and tables within the function, helper addresses as absolute immediates), and
    /// `crate::link` copies a whole batch into one executable mapping.
    ops: VecAssembler<X64Relocation>,
    exit: DynamicLabel,
    resume: Vec<(u32, AssemblyOffset)>,
    /// Out-of-line exits (traps, and the step exits of epoch checks): `(label, status,
    /// pc)`; status 0: already in `eax`.
    traps: Vec<(DynamicLabel, u32, u32)>,
    /// Out-of-line paths of fuel checks that found too little fuel: `(label, amount, pc)`
    /// (see `charge_fuel`).
    refunds: Vec<(DynamicLabel, u32, u32)>,
    popcnt: bool,
    /// The cell whose whole value `rax` holds, if any: a one-register cache over the
    /// frame that lets an instruction use the result of the one before it without
    /// reloading it (cells are still always written). Valid only in straight-line code:
    /// every label and resume point, and every method that does not maintain it, drops it.
    rax: Option<u16>,
    /// The function being compiled (written to frame records and `VmCtx::exit_func`).
    func: *const CompiledFunc,
    direct: Option<AssemblyOffset>,
    /// Pinned cells (see `pins`): the register of each cell, and the list of them.
    pins: Vec<Option<Pin>>,
    pinned: Vec<(u16, Pin)>,
    /// Resume points whose entry reloads the pinned cells out of line: `(pc, label)` of
    /// the place in the body the reload jumps back to.
    resume_stubs: Vec<(u32, DynamicLabel)>,
    /// Where each instruction's code starts, when a listing was asked for.
    marks: Option<Vec<(u32, AssemblyOffset)>>,
}

impl X64 {
    /// A backend for `func`, of about `code_len` bytecode instructions.
    pub fn new(code_len: usize, func: *const CompiledFunc) -> X64 {
        let mut ops = VecAssembler::new_with_capacity(0, 64 + code_len * 12, 0, 0, 0, 0, 0);
        let exit = ops.new_dynamic_label();
        let (mem, mem_len, resume) = (
            offsets::MEM as i32,
            offsets::MEM_LEN as i32,
            offsets::RESUME as i32,
        );
        // Entry: rdi = VmCtx, rsi = frame base. Six pushes after the return address, and
        // the call's, keep rsp 16-byte aligned in the body. `rbx` and `rbp` may hold
        // pinned cells there.
        asm!(ops
            ; push rbp
            ; mov rbp, rsp
            ; push r12
            ; push r13
            ; push r14
            ; push r15
            ; mov r15, rdi
            ; mov r12, rsi
            ; mov r13, QWORD [r15 + mem]
            ; mov r14, QWORD [r15 + mem_len]
            ; push rbx
            ; mov QWORD [r15 + offsets::ENTRY_SP as i32], rsp
            ; lea rax, [rsp - DIRECT_STACK_BUDGET]
            ; mov QWORD [r15 + offsets::SP_LIMIT as i32], rax
            ; call QWORD [r15 + resume]
            // The body returned: STATUS_RETURN (0).
            ; xor eax, eax
            ; pop rbx
            ; pop r15
            ; pop r14
            ; pop r13
            ; pop r12
            ; pop rbp
            ; ret
        );
        X64 {
            ops,
            exit,
            resume: Vec::new(),
            traps: Vec::new(),
            refunds: Vec::new(),
            popcnt: std::arch::is_x86_feature_detected!("popcnt"),
            rax: None,
            func,
            direct: None,
            pins: Vec::new(),
            pinned: Vec::new(),
            resume_stubs: Vec::new(),
            marks: None,
        }
    }

    /// Asks for the start of every instruction's code in [`Assembled::marks`].
    pub fn with_listing(mut self) -> X64 {
        self.marks = Some(Vec::new());
        self
    }

    /// A label for an out-of-line exit with `trap` at `pc`.
    fn trap_label(&mut self, trap: Trap, pc: u32) -> DynamicLabel {
        let l = self.ops.new_dynamic_label();
        self.traps.push((l, STATUS_TRAP + trap_code(trap), pc));
        l
    }

    /// `rax = cell a` at width `w` (zero-extended). Skipped when `rax` holds the cell already: its low 32 bits are the `W32` value,
    /// and `W32` users read only `eax`.
    fn load_a(&mut self, w: Width, a: u16) {
        if self.rax == Some(a) {
            return;
        }
        if let Some(r) = self.gpr(a) {
            match w {
                Width::W32 => {
                    asm!(self.ops ; mov eax, Rd(r));
                    self.rax = None;
                }
                Width::W64 => {
                    asm!(self.ops ; mov rax, Rq(r));
                    self.rax = Some(a);
                }
            }
            return;
        }
        let c = cell(a);
        match w {
            Width::W32 => {
                asm!(self.ops ; mov eax, DWORD [r12 + c]);
                self.rax = None;
            }
            Width::W64 => {
                asm!(self.ops ; mov rax, QWORD [r12 + c]);
                self.rax = Some(a);
            }
        }
    }

    /// Stores the float in `xmm0` to cell `dst` (an `f32` zero-extended, as the
    /// interpreter's cells hold it).
    fn store_xmm0(&mut self, w: Width, dst: u16) {
        let d = cell(dst);
        match w {
            Width::W32 => {
                asm!(self.ops ; movd eax, xmm0 ; mov QWORD [r12 + d], rax);
                match self.pin_of(dst) {
                    Some(Pin::Xmm(r)) => asm!(self.ops ; movd Rx(r), eax),
                    Some(Pin::Gpr(r)) => asm!(self.ops ; mov Rq(r), rax),
                    None => {}
                }
            }
            Width::W64 => {
                asm!(self.ops ; movq QWORD [r12 + d], xmm0);
                match self.pin_of(dst) {
                    Some(Pin::Xmm(r)) => asm!(self.ops ; movaps Rx(r), xmm0),
                    Some(Pin::Gpr(r)) => asm!(self.ops ; movq Rq(r), xmm0),
                    None => {}
                }
            }
        }
    }

    /// Writes `rax` to cell `dst`, which `rax` then caches.
    fn store_rax(&mut self, dst: u16) {
        let d = cell(dst);
        asm!(self.ops ; mov QWORD [r12 + d], rax);
        self.write_pin_from_rax(dst);
        self.rax = Some(dst);
    }

    /// `al = cond` from the flags, then `cell dst = al` (zero-extended).
    fn set_cond(&mut self, c: Cond, dst: u16) {
        match c {
            Cond::Eq => asm!(self.ops ; sete al),
            Cond::Ne => asm!(self.ops ; setne al),
            Cond::LtS => asm!(self.ops ; setl al),
            Cond::LtU => asm!(self.ops ; setb al),
            Cond::GtS => asm!(self.ops ; setg al),
            Cond::GtU => asm!(self.ops ; seta al),
            Cond::LeS => asm!(self.ops ; setle al),
            Cond::LeU => asm!(self.ops ; setbe al),
            Cond::GeS => asm!(self.ops ; setge al),
            Cond::GeU => asm!(self.ops ; setae al),
        }
        asm!(self.ops ; movzx eax, al);
        self.store_rax(dst);
    }

    fn jcc(&mut self, c: Cond, l: DynamicLabel) {
        match c {
            Cond::Eq => asm!(self.ops ; je =>l),
            Cond::Ne => asm!(self.ops ; jne =>l),
            Cond::LtS => asm!(self.ops ; jl =>l),
            Cond::LtU => asm!(self.ops ; jb =>l),
            Cond::GtS => asm!(self.ops ; jg =>l),
            Cond::GtU => asm!(self.ops ; ja =>l),
            Cond::LeS => asm!(self.ops ; jle =>l),
            Cond::LeU => asm!(self.ops ; jbe =>l),
            Cond::GeS => asm!(self.ops ; jge =>l),
            Cond::GeU => asm!(self.ops ; jae =>l),
        }
    }

    /// `cmp rax/eax, b` at width `w`.
    fn cmp_rhs(&mut self, w: Width, b: Rhs) {
        if let Rhs::Cell(c) = b
            && let Some(r) = self.gpr(c)
        {
            match w {
                Width::W32 => asm!(self.ops ; cmp eax, Rd(r)),
                Width::W64 => asm!(self.ops ; cmp rax, Rq(r)),
            }
            return;
        }
        match (w, b) {
            (Width::W32, Rhs::Cell(b)) => asm!(self.ops ; cmp eax, DWORD [r12 + cell(b)]),
            (Width::W64, Rhs::Cell(b)) => asm!(self.ops ; cmp rax, QWORD [r12 + cell(b)]),
            (Width::W32, Rhs::Imm(i)) => asm!(self.ops ; cmp eax, i),
            (Width::W64, Rhs::Imm(i)) => asm!(self.ops ; cmp rax, i),
        }
    }

    /// With `rdx` = `VmCtx::limits`: subtracts `amount` from the fuel counter; if that
    /// borrows (less fuel than `amount`), an out-of-line path adds it back and traps with
    /// `OutOfFuel` at `pc`, so the counter is as it was (nothing else can look at it in
    /// between: the store is the executor's while native code runs). Uses `rcx` (for an
    /// amount beyond an `i32` immediate) and `rdx`; the `rax` cache stays valid.
    fn charge_fuel(&mut self, amount: u32, pc: u32) {
        let refund = self.ops.new_dynamic_label();
        self.refunds.push((refund, amount, pc));
        let fuel = offsets::FUEL as i32;
        if amount <= i32::MAX as u32 {
            // The immediate sign-extends to the same (non-negative) 64-bit amount.
            asm!(self.ops ; sub QWORD [rdx + fuel], amount as i32 ; jb =>refund);
        } else {
            asm!(self.ops
                ; mov ecx, amount as i32
                ; sub QWORD [rdx + fuel], rcx
                ; jb =>refund
            );
        }
    }

    /// With `rdx` = `VmCtx::limits`: if the engine's epoch is at or past the store's
    /// deadline, a step exit for the instruction at `pc` (out of line). A plain aligned
    /// 64-bit load of the counter is atomic on x86-64 (a relaxed load, as the interpreter's
    /// `Epoch::get`). Uses `rcx`; keeps `rdx` and the `rax` cache.
    fn epoch_reached(&mut self, pc: u32) {
        let reached = self.ops.new_dynamic_label();
        self.traps.push((reached, STATUS_STEP, pc));
        asm!(self.ops
            ; mov rcx, QWORD [r15 + offsets::EPOCH as i32]
            ; mov rcx, QWORD [rcx]
            ; cmp rcx, QWORD [rdx + offsets::EPOCH_DEADLINE as i32]
            ; jae =>reached
        );
    }

    /// `rax = effective address` of a `bytes`-wide access, or a jump to an out-of-bounds
    /// trap. The address is the u32 in `addr` plus `offset`, checked against `r14`.
    /// `cached` is the cell `rax` held before (it is clobbered here).
    fn address(&mut self, bytes: u8, addr: Addr, pc: u32, cached: Option<u16>) {
        let oob = self.trap_label(Trap::MemoryOutOfBounds, pc);
        let offset = addr.offset;
        if cached == Some(addr.base) {
            asm!(self.ops ; mov eax, eax);
        } else if let Some(r) = self.gpr(addr.base) {
            asm!(self.ops ; mov eax, Rd(r));
        } else {
            asm!(self.ops ; mov eax, DWORD [r12 + cell(addr.base)]);
        }
        if addr.add != 0 {
            // A 32-bit add wraps like the fused `i32.add` and zero-extends into `rax`.
            asm!(self.ops ; add eax, addr.add as i32);
        }
        if offset != 0 {
            if offset <= i32::MAX as u32 {
                asm!(self.ops ; add rax, offset as i32);
            } else {
                asm!(self.ops ; mov ecx, offset as i32 ; add rax, rcx);
            }
        }
        let n = bytes as i32;
        asm!(self.ops
            ; lea rcx, [rax + n]
            ; cmp rcx, r14
            ; ja =>oob
        );
    }
}

impl Backend for X64 {
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
        self.rax = None;
        asm!(self.ops ; =>label);
    }

    fn resume_point(&mut self, pc: u32) {
        self.rax = None;
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
        if self.rax != Some(src) {
            self.read_rax(src);
        }
        self.store_rax(dst);
    }

    fn constant(&mut self, dst: u16, bits: u64) {
        self.rax = None;
        let d = cell(dst);
        let v = bits as i64;
        if v == v as i32 as i64 {
            asm!(self.ops ; mov QWORD [r12 + d], v as i32);
            match self.pin_of(dst) {
                Some(Pin::Gpr(r)) => asm!(self.ops ; mov Rq(r), v as i32),
                Some(Pin::Xmm(r)) => asm!(self.ops ; mov rax, v as i32 ; movq Rx(r), rax),
                None => {}
            }
        } else {
            asm!(self.ops ; mov rax, QWORD v ; mov QWORD [r12 + d], rax);
            self.write_pin_from_rax(dst);
        }
    }

    fn int_op(&mut self, w: Width, op: IntOp, dst: u16, a: u16, b: Rhs) {
        use IntOp::*;
        use Width::*;
        if let Some(b) = self.cached_rhs(a, b)
            && matches!(op, Add | Mul | And | Or | Xor)
        {
            // Commutative, and `rax` holds the right operand: compute `b op a`.
            return self.int_op(w, op, dst, b, Rhs::Cell(a));
        }
        self.load_a(w, a);
        if let Rhs::Cell(c) = b
            && let Some(r) = self.gpr(c)
        {
            match (w, op) {
                (W32, Add) => asm!(self.ops ; add eax, Rd(r)),
                (W32, Sub) => asm!(self.ops ; sub eax, Rd(r)),
                (W32, Mul) => asm!(self.ops ; imul eax, Rd(r)),
                (W32, And) => asm!(self.ops ; and eax, Rd(r)),
                (W32, Or) => asm!(self.ops ; or eax, Rd(r)),
                (W32, Xor) => asm!(self.ops ; xor eax, Rd(r)),
                (W64, Add) => asm!(self.ops ; add rax, Rq(r)),
                (W64, Sub) => asm!(self.ops ; sub rax, Rq(r)),
                (W64, Mul) => asm!(self.ops ; imul rax, Rq(r)),
                (W64, And) => asm!(self.ops ; and rax, Rq(r)),
                (W64, Or) => asm!(self.ops ; or rax, Rq(r)),
                (W64, Xor) => asm!(self.ops ; xor rax, Rq(r)),
                (_, Shl | ShrS | ShrU | Rotl | Rotr) => {
                    asm!(self.ops ; mov ecx, Rd(r));
                    self.shift_cl(w, op);
                }
            }
            return self.store_rax(dst);
        }
        match b {
            Rhs::Cell(b) => {
                let b = cell(b);
                match (w, op) {
                    (W32, Add) => asm!(self.ops ; add eax, DWORD [r12 + b]),
                    (W32, Sub) => asm!(self.ops ; sub eax, DWORD [r12 + b]),
                    (W32, Mul) => asm!(self.ops ; imul eax, DWORD [r12 + b]),
                    (W32, And) => asm!(self.ops ; and eax, DWORD [r12 + b]),
                    (W32, Or) => asm!(self.ops ; or eax, DWORD [r12 + b]),
                    (W32, Xor) => asm!(self.ops ; xor eax, DWORD [r12 + b]),
                    (W64, Add) => asm!(self.ops ; add rax, QWORD [r12 + b]),
                    (W64, Sub) => asm!(self.ops ; sub rax, QWORD [r12 + b]),
                    (W64, Mul) => asm!(self.ops ; imul rax, QWORD [r12 + b]),
                    (W64, And) => asm!(self.ops ; and rax, QWORD [r12 + b]),
                    (W64, Or) => asm!(self.ops ; or rax, QWORD [r12 + b]),
                    (W64, Xor) => asm!(self.ops ; xor rax, QWORD [r12 + b]),
                    // Shifts and rotates: the count in cl, masked by the CPU like wasm.
                    (_, Shl | ShrS | ShrU | Rotl | Rotr) => {
                        asm!(self.ops ; mov ecx, DWORD [r12 + b]);
                        self.shift_cl(w, op);
                    }
                }
            }
            Rhs::Imm(i) => {
                let s = match w {
                    W32 => (i & 31) as i8,
                    W64 => (i & 63) as i8,
                };
                match (w, op) {
                    (W32, Add) => asm!(self.ops ; add eax, i),
                    (W32, Sub) => asm!(self.ops ; sub eax, i),
                    (W32, Mul) => asm!(self.ops ; imul eax, eax, i),
                    (W32, And) => asm!(self.ops ; and eax, i),
                    (W32, Or) => asm!(self.ops ; or eax, i),
                    (W32, Xor) => asm!(self.ops ; xor eax, i),
                    (W32, Shl) => asm!(self.ops ; shl eax, s),
                    (W32, ShrS) => asm!(self.ops ; sar eax, s),
                    (W32, ShrU) => asm!(self.ops ; shr eax, s),
                    (W32, Rotl) => asm!(self.ops ; rol eax, s),
                    (W32, Rotr) => asm!(self.ops ; ror eax, s),
                    (W64, Add) => asm!(self.ops ; add rax, i),
                    (W64, Sub) => asm!(self.ops ; sub rax, i),
                    (W64, Mul) => asm!(self.ops ; imul rax, rax, i),
                    (W64, And) => asm!(self.ops ; and rax, i),
                    (W64, Or) => asm!(self.ops ; or rax, i),
                    (W64, Xor) => asm!(self.ops ; xor rax, i),
                    (W64, Shl) => asm!(self.ops ; shl rax, s),
                    (W64, ShrS) => asm!(self.ops ; sar rax, s),
                    (W64, ShrU) => asm!(self.ops ; shr rax, s),
                    (W64, Rotl) => asm!(self.ops ; rol rax, s),
                    (W64, Rotr) => asm!(self.ops ; ror rax, s),
                }
            }
        }
        self.store_rax(dst);
    }

    fn int_cmp(&mut self, w: Width, c: Cond, dst: u16, a: u16, b: Rhs) {
        if let Some(b) = self.cached_rhs(a, b) {
            return self.int_cmp(w, swapped(c), dst, b, Rhs::Cell(a));
        }
        self.load_a(w, a);
        self.cmp_rhs(w, b);
        self.set_cond(c, dst);
    }

    fn int_unop(&mut self, w: Width, op: IntUnOp, dst: u16, src: u16) -> bool {
        self.rax = None;
        let s = cell(src);
        use IntUnOp::*;
        use Width::*;
        match (w, op) {
            (W32, Eqz) => {
                asm!(self.ops ; cmp DWORD [r12 + s], 0);
                self.set_cond(Cond::Eq, dst);
                return true;
            }
            (W64, Eqz) => {
                asm!(self.ops ; cmp QWORD [r12 + s], 0);
                self.set_cond(Cond::Eq, dst);
                return true;
            }
            // clz(x) = 31 - bsr(x), and 32 for 0: bsr leaves ZF set on 0.
            (W32, Clz) => asm!(self.ops
                ; mov ecx, 63 ; bsr eax, DWORD [r12 + s] ; cmovz eax, ecx ; xor eax, 31),
            (W64, Clz) => asm!(self.ops
                ; mov ecx, 127 ; bsr rax, QWORD [r12 + s] ; cmovz rax, rcx ; xor rax, 63),
            (W32, Ctz) => asm!(self.ops
                ; mov ecx, 32 ; bsf eax, DWORD [r12 + s] ; cmovz eax, ecx),
            (W64, Ctz) => asm!(self.ops
                ; mov ecx, 64 ; bsf rax, QWORD [r12 + s] ; cmovz rax, rcx),
            (W32, Popcnt) if self.popcnt => asm!(self.ops ; popcnt eax, DWORD [r12 + s]),
            (W64, Popcnt) if self.popcnt => asm!(self.ops ; popcnt rax, QWORD [r12 + s]),
            (_, Popcnt) => return false,
            (W32, Extend8S) => asm!(self.ops ; movsx eax, BYTE [r12 + s]),
            (W32, Extend16S) => asm!(self.ops ; movsx eax, WORD [r12 + s]),
            (W64, Extend8S) => asm!(self.ops ; movsx rax, BYTE [r12 + s]),
            (W64, Extend16S) => asm!(self.ops ; movsx rax, WORD [r12 + s]),
            (W64, Extend32S) => asm!(self.ops ; movsxd rax, DWORD [r12 + s]),
            (W32, Extend32S) => return false,
            (_, Low32) => asm!(self.ops ; mov eax, DWORD [r12 + s]),
        }
        self.store_rax(dst);
        true
    }

    fn int_div(&mut self, w: Width, op: DivOp, dst: u16, a: u16, b: u16, pc: u32) {
        self.rax = None;
        let by_zero = self.trap_label(Trap::IntegerDivisionByZero, pc);
        let (a, b) = (cell(a), cell(b));
        let done = self.ops.new_dynamic_label();
        match w {
            Width::W32 => {
                asm!(self.ops
                    ; mov ecx, DWORD [r12 + b]
                    ; test ecx, ecx
                    ; jz =>by_zero
                    ; mov eax, DWORD [r12 + a]
                );
                match op {
                    DivOp::DivS => {
                        let overflow = self.trap_label(Trap::IntegerOverflow, pc);
                        let ok = self.ops.new_dynamic_label();
                        asm!(self.ops
                            ; cmp ecx, -1
                            ; jne =>ok
                            ; cmp eax, i32::MIN
                            ; je =>overflow
                            ; =>ok
                            ; cdq
                            ; idiv ecx
                        );
                    }
                    DivOp::RemS => {
                        // x rem -1 is 0 (and idiv would fault on MIN rem -1).
                        let ok = self.ops.new_dynamic_label();
                        asm!(self.ops
                            ; cmp ecx, -1
                            ; jne =>ok
                            ; xor eax, eax
                            ; jmp =>done
                            ; =>ok
                            ; cdq
                            ; idiv ecx
                            ; mov eax, edx
                        );
                    }
                    DivOp::DivU => asm!(self.ops ; xor edx, edx ; div ecx),
                    DivOp::RemU => asm!(self.ops ; xor edx, edx ; div ecx ; mov eax, edx),
                }
            }
            Width::W64 => {
                asm!(self.ops
                    ; mov rcx, QWORD [r12 + b]
                    ; test rcx, rcx
                    ; jz =>by_zero
                    ; mov rax, QWORD [r12 + a]
                );
                match op {
                    DivOp::DivS => {
                        let overflow = self.trap_label(Trap::IntegerOverflow, pc);
                        let ok = self.ops.new_dynamic_label();
                        asm!(self.ops
                            ; cmp rcx, -1
                            ; jne =>ok
                            ; mov rdx, QWORD i64::MIN
                            ; cmp rax, rdx
                            ; je =>overflow
                            ; =>ok
                            ; cqo
                            ; idiv rcx
                        );
                    }
                    DivOp::RemS => {
                        let ok = self.ops.new_dynamic_label();
                        asm!(self.ops
                            ; cmp rcx, -1
                            ; jne =>ok
                            ; xor eax, eax
                            ; jmp =>done
                            ; =>ok
                            ; cqo
                            ; idiv rcx
                            ; mov rax, rdx
                        );
                    }
                    DivOp::DivU => asm!(self.ops ; xor edx, edx ; div rcx),
                    DivOp::RemU => asm!(self.ops ; xor edx, edx ; div rcx ; mov rax, rdx),
                }
            }
        }
        asm!(self.ops ; =>done);
        self.store_rax(dst);
    }

    fn select(&mut self, dst: u16, cond: u16, a: u16, b: u16) {
        self.rax = None;
        asm!(self.ops
            ; mov rax, QWORD [r12 + cell(a)]
            ; cmp DWORD [r12 + cell(cond)], 0
            ; cmove rax, QWORD [r12 + cell(b)]
        );
        self.store_rax(dst);
    }

    fn jump(&mut self, target: DynamicLabel) {
        self.rax = None;
        asm!(self.ops ; jmp =>target);
    }

    fn br_if(&mut self, cond: u16, nonzero: bool, target: DynamicLabel) {
        // `rax` stays as it is (the target's label drops the cache there).
        if self.rax == Some(cond) {
            asm!(self.ops ; test eax, eax);
        } else if let Some(r) = self.gpr(cond) {
            asm!(self.ops ; test Rd(r), Rd(r));
        } else {
            asm!(self.ops ; cmp DWORD [r12 + cell(cond)], 0);
        }
        if nonzero {
            asm!(self.ops ; jne =>target);
        } else {
            asm!(self.ops ; je =>target);
        }
    }

    fn br_cmp(&mut self, w: Width, c: Cond, a: u16, b: Rhs, target: DynamicLabel) {
        if let Some(b) = self.cached_rhs(a, b) {
            return self.br_cmp(w, swapped(c), b, Rhs::Cell(a), target);
        }
        self.load_a(w, a);
        self.cmp_rhs(w, b);
        self.jcc(c, target);
    }

    fn br_table(&mut self, index: u16, targets: &[DynamicLabel]) {
        self.rax = None;
        let (default, cases) = targets.split_last().expect("br_table has a default");
        asm!(self.ops ; mov eax, DWORD [r12 + cell(index)]);
        if cases.len() < 4 {
            // A short compare chain.
            for (i, &t) in cases.iter().enumerate() {
                asm!(self.ops ; cmp eax, i as i32 ; je =>t);
            }
            asm!(self.ops ; jmp =>*default);
            return;
        }
        // A jump table of 32-bit offsets, each relative to its own entry; the index is
        // clamped (unsigned) to the default's slot.
        let table = self.ops.new_dynamic_label();
        let last = cases.len() as i32;
        asm!(self.ops
            ; mov ecx, last
            ; cmp eax, ecx
            ; cmova eax, ecx
            ; lea rcx, [=>table]
            ; lea rcx, [rcx + rax * 4]
            ; movsxd rdx, DWORD [rcx]
            ; add rcx, rdx
            ; jmp rcx
            ; .align 4
            ; =>table
        );
        for &t in targets {
            asm!(self.ops ; .rel32 =>t);
        }
    }

    fn load(&mut self, l: Load, dst: u16, addr: Addr, pc: u32) {
        let cached = self.rax.take();
        self.address(l.bytes, addr, pc, cached);
        match (l.bytes, l.signed, l.width) {
            (1, false, _) => asm!(self.ops ; movzx eax, BYTE [r13 + rax]),
            (1, true, Width::W32) => asm!(self.ops ; movsx eax, BYTE [r13 + rax]),
            (1, true, Width::W64) => asm!(self.ops ; movsx rax, BYTE [r13 + rax]),
            (2, false, _) => asm!(self.ops ; movzx eax, WORD [r13 + rax]),
            (2, true, Width::W32) => asm!(self.ops ; movsx eax, WORD [r13 + rax]),
            (2, true, Width::W64) => asm!(self.ops ; movsx rax, WORD [r13 + rax]),
            (4, true, Width::W64) => asm!(self.ops ; movsxd rax, DWORD [r13 + rax]),
            (4, _, _) => asm!(self.ops ; mov eax, DWORD [r13 + rax]),
            _ => asm!(self.ops ; mov rax, QWORD [r13 + rax]),
        }
        self.store_rax(dst);
    }

    fn store(&mut self, bytes: u8, addr: Addr, val: u16, pc: u32) {
        let cached = self.rax.take();
        // The value goes in rdx (`address` uses rax and rcx).
        if cached == Some(val) {
            asm!(self.ops ; mov rdx, rax);
        }
        self.address(bytes, addr, pc, cached);
        if cached != Some(val) {
            match self.pin_of(val) {
                Some(Pin::Gpr(r)) => asm!(self.ops ; mov rdx, Rq(r)),
                Some(Pin::Xmm(r)) => asm!(self.ops ; movq rdx, Rx(r)),
                None => asm!(self.ops ; mov rdx, QWORD [r12 + cell(val)]),
            }
        }
        match bytes {
            1 => asm!(self.ops ; mov BYTE [r13 + rax], dl),
            2 => asm!(self.ops ; mov WORD [r13 + rax], dx),
            4 => asm!(self.ops ; mov DWORD [r13 + rax], edx),
            _ => asm!(self.ops ; mov QWORD [r13 + rax], rdx),
        }
    }

    fn global_get(&mut self, dst: u16, global: u32) {
        self.rax = None;
        self.global_addr(global);
        asm!(self.ops ; mov rax, QWORD [rax + offsets::GLOBAL_VALUE as i32]);
        self.store_rax(dst);
    }

    fn global_set(&mut self, src: u16, global: u32) {
        self.rax = None;
        self.global_addr(global);
        asm!(self.ops
            ; mov rcx, QWORD [r12 + cell(src)]
            ; mov QWORD [rax + offsets::GLOBAL_VALUE as i32], rcx
        );
    }

    fn ret(&mut self, start: u16, len: u32) {
        self.rax = None;
        if start != 0 {
            for i in 0..len {
                let (from, to) = (cell(start) + 8 * i as i32, 8 * i as i32);
                asm!(self.ops
                    ; mov rax, QWORD [r12 + from]
                    ; mov QWORD [r12 + to], rax
                );
            }
        }
        // To the entry stub, or to a direct caller.
        asm!(self.ops ; ret);
    }

    fn direct_entry(&mut self, start: u32, locals: u32, consts: &[u64]) {
        self.rax = None;
        self.direct = Some(self.ops.offset());
        let first = start as i32 * 8;
        if locals <= 16 {
            for i in 0..locals as i32 {
                asm!(self.ops ; mov QWORD [r12 + first + 8 * i], 0);
            }
        } else {
            // `rdi` and `rcx` are scratch here: nothing is live at a function's start.
            asm!(self.ops
                ; xor eax, eax
                ; lea rdi, [r12 + first]
                ; mov ecx, locals as i32
                ; rep stosq
            );
        }
        let consts_at = first + 8 * locals as i32;
        for (i, &c) in consts.iter().enumerate() {
            let d = consts_at + 8 * i as i32;
            let v = c as i64;
            if v == v as i32 as i64 {
                asm!(self.ops ; mov QWORD [r12 + d], v as i32);
            } else {
                asm!(self.ops ; mov rax, QWORD v ; mov QWORD [r12 + d], rax);
            }
        }
        self.reload_pins();
    }

    fn call_direct(&mut self, def: u32, base: u16, ret_pc: u32, pc: u32) {
        self.rax = None;
        let slot = def as usize * offsets::DIRECT_SIZE;
        if slot > (i32::MAX as usize) - offsets::DIRECT_SIZE {
            return self.step(pc);
        }
        // Every check that fails hands the call to the executor.
        let slow = self.ops.new_dynamic_label();
        self.traps.push((slow, STATUS_STEP, pc));
        let (addr, size) = (
            (slot + offsets::DIRECT_ADDR) as i32,
            (slot + offsets::DIRECT_FRAME_SIZE) as i32,
        );
        let b = cell(base);
        asm!(self.ops
            // The callee's direct entry, 0 while it has no native code.
            ; mov rax, QWORD [r15 + offsets::DIRECT as i32]
            ; mov rcx, QWORD [rax + addr]
            ; test rcx, rcx
            ; jz =>slow
            // Its frame must fit in the value stack.
            ; mov rax, QWORD [rax + size]
            ; lea rax, [r12 + rax * 8 + b]
            ; cmp rax, QWORD [r15 + offsets::STACK_END as i32]
            ; ja =>slow
            // A frame record must fit in the frame vector (and the depth limit), and the
            // call on the host stack budget.
            ; mov rdx, QWORD [r15 + offsets::FRAMES_LEN as i32]
            ; cmp rdx, QWORD [r15 + offsets::FRAMES_LIMIT as i32]
            ; jae =>slow
            ; cmp rsp, QWORD [r15 + offsets::SP_LIMIT as i32]
            ; jb =>slow
            // Push the record the executor would: this function, its frame base (a cell
            // index into the value stack), the continuation and the instance.
            ; imul rax, rdx, offsets::FRAME_SIZE as i32
            ; add rax, QWORD [r15 + offsets::FRAMES as i32]
            ; mov rdi, QWORD self.func as i64
            ; mov QWORD [rax + offsets::FRAME_FUNC as i32], rdi
            ; mov rdi, r12
            ; sub rdi, QWORD [r15 + offsets::STACK as i32]
            ; shr rdi, 3
            ; mov QWORD [rax + offsets::FRAME_BASE as i32], rdi
            ; mov DWORD [rax + offsets::FRAME_PC as i32], ret_pc as i32
            ; mov edi, DWORD [r15 + offsets::INST as i32]
            ; mov DWORD [rax + offsets::FRAME_INST as i32], edi
            ; inc rdx
            ; mov QWORD [r15 + offsets::FRAMES_LEN as i32], rdx
            // Call with the callee's frame base; the push keeps rsp aligned.
            ; push r12
            ; lea r12, [r12 + b]
            ; call rcx
            ; pop r12
            ; dec QWORD [r15 + offsets::FRAMES_LEN as i32]
        );
        // The callee used the registers and wrote its frame over our temporaries.
        self.reload_pins();
    }

    fn step(&mut self, pc: u32) {
        self.rax = None;
        asm!(self.ops
            ; mov DWORD [r15 + offsets::EXIT_PC as i32], pc as i32
            ; mov eax, STATUS_STEP as i32
            ; jmp =>self.exit
        );
    }

    fn trap(&mut self, trap: Trap, pc: u32) {
        self.rax = None;
        let l = self.trap_label(trap, pc);
        asm!(self.ops ; jmp =>l);
    }

    fn float_op(&mut self, w: Width, op: FloatOp, dst: u16, a: u16, b: u16) {
        self.rax = None;
        self.read_xmm0(w == Width::W64, a);
        if let Some(r) = self.xmm(b) {
            match (w, op) {
                (Width::W32, FloatOp::Add) => asm!(self.ops ; addss xmm0, Rx(r)),
                (Width::W32, FloatOp::Sub) => asm!(self.ops ; subss xmm0, Rx(r)),
                (Width::W32, FloatOp::Mul) => asm!(self.ops ; mulss xmm0, Rx(r)),
                (Width::W32, FloatOp::Div) => asm!(self.ops ; divss xmm0, Rx(r)),
                (Width::W64, FloatOp::Add) => asm!(self.ops ; addsd xmm0, Rx(r)),
                (Width::W64, FloatOp::Sub) => asm!(self.ops ; subsd xmm0, Rx(r)),
                (Width::W64, FloatOp::Mul) => asm!(self.ops ; mulsd xmm0, Rx(r)),
                (Width::W64, FloatOp::Div) => asm!(self.ops ; divsd xmm0, Rx(r)),
            }
            return self.store_xmm0(w, dst);
        }
        let b = cell(b);
        match w {
            Width::W32 => match op {
                FloatOp::Add => asm!(self.ops ; addss xmm0, DWORD [r12 + b]),
                FloatOp::Sub => asm!(self.ops ; subss xmm0, DWORD [r12 + b]),
                FloatOp::Mul => asm!(self.ops ; mulss xmm0, DWORD [r12 + b]),
                FloatOp::Div => asm!(self.ops ; divss xmm0, DWORD [r12 + b]),
            },
            Width::W64 => match op {
                FloatOp::Add => asm!(self.ops ; addsd xmm0, QWORD [r12 + b]),
                FloatOp::Sub => asm!(self.ops ; subsd xmm0, QWORD [r12 + b]),
                FloatOp::Mul => asm!(self.ops ; mulsd xmm0, QWORD [r12 + b]),
                FloatOp::Div => asm!(self.ops ; divsd xmm0, QWORD [r12 + b]),
            },
        }
        self.store_xmm0(w, dst);
    }

    fn float_cmp(&mut self, w: Width, c: FloatCond, dst: u16, a: u16, b: u16) {
        self.rax = None;
        // `x < y` is `y > x`: with the operands swapped, `seta`/`setae` are false on
        // unordered (CF = ZF = PF = 1), as wasm wants.
        let (x, y) = match c {
            FloatCond::Lt | FloatCond::Le => (b, a),
            _ => (a, b),
        };
        self.read_xmm0(w == Width::W64, x);
        match (w, self.xmm(y)) {
            (Width::W32, Some(r)) => asm!(self.ops ; ucomiss xmm0, Rx(r)),
            (Width::W64, Some(r)) => asm!(self.ops ; ucomisd xmm0, Rx(r)),
            (Width::W32, None) => asm!(self.ops ; ucomiss xmm0, DWORD [r12 + cell(y)]),
            (Width::W64, None) => asm!(self.ops ; ucomisd xmm0, QWORD [r12 + cell(y)]),
        }
        match c {
            FloatCond::Eq => asm!(self.ops ; sete al ; setnp cl ; and al, cl),
            FloatCond::Ne => asm!(self.ops ; setne al ; setp cl ; or al, cl),
            FloatCond::Lt | FloatCond::Gt => asm!(self.ops ; seta al),
            FloatCond::Le | FloatCond::Ge => asm!(self.ops ; setae al),
        }
        asm!(self.ops ; movzx eax, al);
        self.store_rax(dst);
    }

    fn float_sqrt(&mut self, w: Width, dst: u16, src: u16) {
        self.rax = None;
        let s = cell(src);
        match (w, self.xmm(src)) {
            (Width::W32, Some(r)) => asm!(self.ops ; xorps xmm0, xmm0 ; sqrtss xmm0, Rx(r)),
            (Width::W64, Some(r)) => asm!(self.ops ; xorps xmm0, xmm0 ; sqrtsd xmm0, Rx(r)),
            (Width::W32, None) => asm!(self.ops ; sqrtss xmm0, DWORD [r12 + s]),
            (Width::W64, None) => asm!(self.ops ; sqrtsd xmm0, QWORD [r12 + s]),
        }
        self.store_xmm0(w, dst);
    }

    fn int_to_float(&mut self, from: Width, signed: bool, to: Width, dst: u16, src: u16) -> bool {
        self.rax = None;
        let s = cell(src);
        // A u32 converts exactly as the non-negative i64 it zero-extends to.
        match (from, signed, self.gpr(src)) {
            (Width::W32, true, Some(r)) => asm!(self.ops ; movsxd rax, Rd(r)),
            (Width::W32, false, Some(r)) => asm!(self.ops ; mov eax, Rd(r)),
            (Width::W64, true, Some(r)) => asm!(self.ops ; mov rax, Rq(r)),
            (Width::W64, false, _) => return false,
            _ => self.int_to_float_mem(from, signed, s),
        }
        match to {
            Width::W32 => asm!(self.ops ; xorps xmm0, xmm0 ; cvtsi2ss xmm0, rax),
            Width::W64 => asm!(self.ops ; xorps xmm0, xmm0 ; cvtsi2sd xmm0, rax),
        }
        self.store_xmm0(to, dst);
        true
    }

    fn float_convert(&mut self, to: Width, dst: u16, src: u16) {
        self.rax = None;
        let s = cell(src);
        match (to, self.xmm(src)) {
            (Width::W32, Some(r)) => asm!(self.ops ; xorps xmm0, xmm0 ; cvtsd2ss xmm0, Rx(r)),
            (Width::W64, Some(r)) => asm!(self.ops ; xorps xmm0, xmm0 ; cvtss2sd xmm0, Rx(r)),
            (Width::W32, None) => {
                asm!(self.ops ; xorps xmm0, xmm0 ; cvtsd2ss xmm0, QWORD [r12 + s])
            }
            (Width::W64, None) => {
                asm!(self.ops ; xorps xmm0, xmm0 ; cvtss2sd xmm0, DWORD [r12 + s])
            }
        }
        self.store_xmm0(to, dst);
    }

    fn consume_fuel(&mut self, amount: u32, pc: u32) {
        asm!(self.ops ; mov rdx, QWORD [r15 + offsets::LIMITS as i32]);
        self.charge_fuel(amount, pc);
    }

    fn check_epoch(&mut self, pc: u32) {
        asm!(self.ops ; mov rdx, QWORD [r15 + offsets::LIMITS as i32]);
        self.epoch_reached(pc);
    }

    fn check_epoch_consume_fuel(&mut self, amount: u32, pc: u32) {
        // One load of the limits pointer for both checks.
        asm!(self.ops ; mov rdx, QWORD [r15 + offsets::LIMITS as i32]);
        self.epoch_reached(pc);
        self.charge_fuel(amount, pc);
    }

    fn call_helper(&mut self, h: Helper, dst: u16, a: u16, b: u16, pc: u32) {
        self.rax = None;
        let (d, a, b) = (cell(dst), cell(a), cell(b));
        // rsp is 16-byte aligned in native code (see `new`), as the call needs; the
        // pinned registers are callee-saved, and no value lives in a scratch register.
        let (addr, traps) = match h {
            Helper::Unary(f) => {
                asm!(self.ops ; mov rdi, QWORD [r12 + a]);
                (f as usize, false)
            }
            Helper::Binary(f) => {
                asm!(self.ops ; mov rdi, QWORD [r12 + a] ; mov rsi, QWORD [r12 + b]);
                (f as usize, false)
            }
            Helper::UnaryTrap(f) => {
                asm!(self.ops ; mov rdi, QWORD [r12 + a] ; lea rsi, [r12 + d]);
                (f as usize, true)
            }
            Helper::BinaryTrap(f) => {
                asm!(self.ops
                    ; mov rdi, QWORD [r12 + a]
                    ; mov rsi, QWORD [r12 + b]
                    ; lea rdx, [r12 + d]
                );
                (f as usize, true)
            }
        };
        asm!(self.ops ; mov rax, QWORD addr as i64 ; call rax);
        if traps {
            let l = self.ops.new_dynamic_label();
            self.traps.push((l, 0, pc));
            asm!(self.ops ; test eax, eax ; jnz =>l);
        } else {
            self.store_rax(dst);
        }
        // The helper may have used the caller-saved registers (and wrote `dst` itself).
        self.reload_pins();
    }

    fn finish(mut self) -> Result<Assembled, String> {
        // The out-of-line code starts here (`u32::MAX` in a listing).
        self.mark(u32::MAX);
        for (pc, back) in std::mem::take(&mut self.resume_stubs) {
            let at = self.ops.offset();
            self.resume.push((pc, at));
            self.reload_pins();
            asm!(self.ops ; jmp =>back);
        }
        for (l, amount, pc) in std::mem::take(&mut self.refunds) {
            // `rdx` (and `rcx` for a large amount) are as `charge_fuel` left them.
            let fuel = offsets::FUEL as i32;
            asm!(self.ops ; =>l);
            if amount <= i32::MAX as u32 {
                asm!(self.ops ; add QWORD [rdx + fuel], amount as i32);
            } else {
                asm!(self.ops ; add QWORD [rdx + fuel], rcx);
            }
            let out = self.trap_label(Trap::OutOfFuel, pc);
            asm!(self.ops ; jmp =>out);
        }
        for (l, status, pc) in std::mem::take(&mut self.traps) {
            asm!(self.ops
                ; =>l
                ; mov DWORD [r15 + offsets::EXIT_PC as i32], pc as i32
            );
            if status != 0 {
                asm!(self.ops ; mov eax, status as i32);
            }
            asm!(self.ops ; jmp =>self.exit);
        }
        // A step or trap exit, from any depth of direct calls: say where, drop the host
        // stack to the entry stub's, and leave through its epilogue.
        asm!(self.ops
            ; =>self.exit
            ; mov rcx, QWORD self.func as i64
            ; mov QWORD [r15 + offsets::EXIT_FUNC as i32], rcx
            ; mov QWORD [r15 + offsets::EXIT_REGS as i32], r12
            ; mov rsp, QWORD [r15 + offsets::ENTRY_SP as i32]
            ; pop rbx
            ; pop r15
            ; pop r14
            ; pop r13
            ; pop r12
            ; pop rbp
            ; ret
        );
        let X64 {
            ops,
            resume,
            direct,
            marks,
            ..
        } = self;
        let code = ops
            .finalize()
            .map_err(|_| "failed to assemble native code".to_string())?;
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

impl X64 {
    /// `rax`/`eax` shifted or rotated by `cl` (masked by the CPU like wasm).
    fn shift_cl(&mut self, w: Width, op: IntOp) {
        use IntOp::*;
        use Width::*;
        match (w, op) {
            (W32, Shl) => asm!(self.ops ; shl eax, cl),
            (W32, ShrS) => asm!(self.ops ; sar eax, cl),
            (W32, ShrU) => asm!(self.ops ; shr eax, cl),
            (W32, Rotl) => asm!(self.ops ; rol eax, cl),
            (W32, Rotr) => asm!(self.ops ; ror eax, cl),
            (W64, Shl) => asm!(self.ops ; shl rax, cl),
            (W64, ShrS) => asm!(self.ops ; sar rax, cl),
            (W64, ShrU) => asm!(self.ops ; shr rax, cl),
            (W64, Rotl) => asm!(self.ops ; rol rax, cl),
            (W64, Rotr) => asm!(self.ops ; ror rax, cl),
            _ => unreachable!("not a shift"),
        }
    }

    /// `rax` = the integer at cell offset `s` for `int_to_float` (a `u32` zero-extended:
    /// it converts exactly as that non-negative `i64`).
    fn int_to_float_mem(&mut self, from: Width, signed: bool, s: i32) {
        match (from, signed) {
            (Width::W32, true) => asm!(self.ops ; movsxd rax, DWORD [r12 + s]),
            (Width::W32, false) => asm!(self.ops ; mov eax, DWORD [r12 + s]),
            _ => asm!(self.ops ; mov rax, QWORD [r12 + s]),
        }
    }

    /// The right operand's cell if `rax` caches it and not the left one `a` (then a
    /// commutative operation or a compare can swap its operands to use it).
    fn cached_rhs(&self, a: u16, b: Rhs) -> Option<u16> {
        match b {
            Rhs::Cell(b) if self.rax == Some(b) && b != a => Some(b),
            _ => None,
        }
    }

    /// `rax = &globals[inst_globals[global]]`.
    fn global_addr(&mut self, global: u32) {
        let idx = (global as i32).wrapping_mul(4);
        asm!(self.ops
            ; mov rax, QWORD [r15 + offsets::INST_GLOBALS as i32]
            ; mov eax, DWORD [rax + idx]
            ; imul rax, rax, offsets::GLOBAL_SIZE as i32
            ; add rax, QWORD [r15 + offsets::GLOBALS as i32]
        );
    }
}

/// The condition that holds for `(b, a)` when `c` holds for `(a, b)`.
fn swapped(c: Cond) -> Cond {
    match c {
        Cond::Eq => Cond::Eq,
        Cond::Ne => Cond::Ne,
        Cond::LtS => Cond::GtS,
        Cond::GtS => Cond::LtS,
        Cond::LeS => Cond::GeS,
        Cond::GeS => Cond::LeS,
        Cond::LtU => Cond::GtU,
        Cond::GtU => Cond::LtU,
        Cond::LeU => Cond::GeU,
        Cond::GeU => Cond::LeU,
    }
}
