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

mod arith;
mod pins;
use pins::{Pin, op};

/// The byte offset of frame cell `c` from the frame base.
fn cell(c: u16) -> i32 {
    c as i32 * 8
}

pub struct X64 {
    /// Assembles into a plain vector: the code is position-independent (relative jumps
    /// and tables within the function, helper addresses as absolute immediates), and
    /// `crate::link` copies a whole batch into one executable mapping.
    ops: VecAssembler<X64Relocation>,
    exit: DynamicLabel,
    /// The entry stub's epilogue, which every exit leaves through.
    leave: DynamicLabel,
    resume: Vec<(u32, AssemblyOffset)>,
    /// Out-of-line exits (traps, and the step exits of epoch checks and direct calls):
    /// `(label, status, pc)`; status 0: already in `eax`. An exit may use `rcx`.
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
    /// The function's spill and reload routines, once code calls them (see `pins`).
    spill_fn: Option<DynamicLabel>,
    reload_fn: Option<DynamicLabel>,
    /// The function's frame-push routine, shared by its direct call sites when it has
    /// more than `INLINE_CALLS` of them (see `call_direct`).
    call_fn: Option<DynamicLabel>,
}

/// Functions with at most this many direct call sites make their calls inline (no extra
/// call and return on the call path); more sites share one call routine, which keeps a
/// call site at 26 bytes of code (and its step exit at 10) instead of about 70.
const INLINE_CALLS: usize = 2;

impl X64 {
    /// A backend for `func`, of about `code_len` bytecode instructions.
    pub fn new(code_len: usize, func: *const CompiledFunc) -> X64 {
        // Room for what a function of this size usually needs (code bytes; labels and
        // references to them: branch targets and out-of-line exits), so the buffers do
        // not grow one push at a time.
        let mut ops = VecAssembler::new_with_capacity(
            0,
            64 + code_len * 12,
            0,
            0,
            16 + code_len / 2,
            0,
            16 + code_len,
        );
        let exit = ops.new_dynamic_label();
        let leave = ops.new_dynamic_label();
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
            ; call QWORD [r15 + resume]
            // The body returned: STATUS_RETURN (0).
            ; xor eax, eax
            // The one epilogue (exits come here with their status and `rsp` reset).
            ; =>leave
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
            leave,
            resume: Vec::with_capacity(4 + code_len / 8),
            traps: Vec::with_capacity(4 + code_len / 4),
            refunds: Vec::new(),
            popcnt: std::arch::is_x86_feature_detected!("popcnt"),
            rax: None,
            func,
            direct: None,
            pins: Vec::new(),
            pinned: Vec::new(),
            resume_stubs: Vec::with_capacity(4 + code_len / 8),
            marks: None,
            spill_fn: None,
            reload_fn: None,
            call_fn: None,
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

    /// Makes `rax` the new value of cell `dst`, which `rax` then caches.
    fn store_rax(&mut self, dst: u16) {
        self.write_gpr(0, dst);
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
    /// Clobbers `rax` (and its cache) and `rcx`.
    fn address(&mut self, bytes: u8, addr: Addr, pc: u32) {
        let oob = self.trap_label(Trap::MemoryOutOfBounds, pc);
        let offset = addr.offset;
        if self.rax == Some(addr.base) {
            // Zero-extended whatever the cached cell holds above its low 32 bits.
            asm!(self.ops ; mov eax, eax);
        } else {
            self.read_gpr(false, 0, addr.base);
        }
        self.rax = None;
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
        // Literal displacements, which dynasm encodes in one byte.
        match bytes {
            1 => asm!(self.ops ; lea rcx, [rax + 1]),
            2 => asm!(self.ops ; lea rcx, [rax + 2]),
            4 => asm!(self.ops ; lea rcx, [rax + 4]),
            8 => asm!(self.ops ; lea rcx, [rax + 8]),
            _ => asm!(self.ops ; lea rcx, [rax + bytes as i32]),
        }
        asm!(self.ops
            ; cmp rcx, r14
            ; ja =>oob
        );
    }

    /// With `rax` = the callee's offset in the direct-entry table and `rdx` = the byte
    /// offset of its frame from ours: checks that the callee has native code, that its
    /// frame fits in the value stack and that a frame record fits below
    /// `VmCtx::frames_limit` (the frame vector's capacity, the depth limit, and the
    /// nesting budget of the host stack), jumping to `fail` if not. Then pushes the record
    /// the executor would (this function, its frame base as a cell index into the value
    /// stack, the instance; the caller writes the continuation pc through `rax`), and
    /// leaves the callee's direct entry in `rcx`. Uses `rdi`; keeps the pinned registers.
    fn emit_push_frame(&mut self, fail: DynamicLabel) {
        asm!(self.ops
            ; mov rcx, QWORD [r15 + offsets::DIRECT as i32]
            ; add rcx, rax
            // The entry first, 0 while the callee has no native code: its frame size is
            // published before it.
            ; mov rdi, QWORD [rcx + offsets::DIRECT_ADDR as i32]
            ; test rdi, rdi
            ; jz =>fail
            ; mov rax, QWORD [rcx + offsets::DIRECT_FRAME_SIZE as i32]
            ; lea rax, [r12 + rax * 8]
            ; add rax, rdx
            ; cmp rax, QWORD [r15 + offsets::STACK_END as i32]
            ; ja =>fail
            ; mov rdx, QWORD [r15 + offsets::FRAMES_LEN as i32]
            ; cmp rdx, QWORD [r15 + offsets::FRAMES_LIMIT as i32]
            ; jae =>fail
            ; imul rax, rdx, offsets::FRAME_SIZE as i32
            ; add rax, QWORD [r15 + offsets::FRAMES as i32]
            ; mov rcx, QWORD self.func as i64
            ; mov QWORD [rax + offsets::FRAME_FUNC as i32], rcx
            ; mov rcx, r12
            ; sub rcx, QWORD [r15 + offsets::STACK as i32]
            ; shr rcx, 3
            ; mov QWORD [rax + offsets::FRAME_BASE as i32], rcx
            ; mov ecx, DWORD [r15 + offsets::INST as i32]
            ; mov DWORD [rax + offsets::FRAME_INST as i32], ecx
            ; inc rdx
            ; mov QWORD [r15 + offsets::FRAMES_LEN as i32], rdx
            ; mov rcx, rdi
        );
    }

    /// The shared call routine of `call_direct`, if a call site used it: with `eax` = the
    /// callee's offset in the direct-entry table, `edx` = the byte offset of its frame
    /// from ours and `ecx` = the continuation pc, it does the whole direct call of an
    /// inline site (spill, checks, frame record, call, pop, reload) and returns with ZF
    /// clear; when a check fails, it returns with ZF set and the pinned registers as they
    /// were, and the site takes its step exit.
    fn emit_call_routine(&mut self) {
        let Some(l) = self.call_fn else { return };
        let fail = self.ops.new_dynamic_label();
        asm!(self.ops ; =>l);
        // The callee reads its arguments from the frame. From here on the pinned
        // registers are free (the reloads below restore them): `r8` and `r9` keep the
        // site's pc and frame offset across the checks.
        self.emit_spill();
        asm!(self.ops
            ; mov r8d, ecx
            ; mov r9, rdx
        );
        self.emit_push_frame(fail);
        asm!(self.ops
            ; mov DWORD [rax + offsets::FRAME_PC as i32], r8d
            // rsp is 16-byte aligned at the site's call, so 8 bytes off here: the push
            // and 8 more bytes keep the callee's body aligned as a site's call would.
            ; push r12
            ; push r12
            ; add r12, r9
            ; call rcx
            ; pop r12
            ; pop r12
            ; dec QWORD [r15 + offsets::FRAMES_LEN as i32]
        );
        self.emit_reload();
        asm!(self.ops
            // ZF clear: `rsp` is not zero.
            ; test rsp, rsp
            ; ret
            ; =>fail
        );
        self.emit_reload();
        asm!(self.ops
            // ZF set.
            ; xor ecx, ecx
            ; ret
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
        match self.pin_of(dst) {
            Some(Pin::Gpr(d)) => {
                self.read_gpr(true, d, src);
                if self.rax == Some(dst) && src != dst {
                    self.rax = None;
                }
            }
            Some(Pin::Xmm(x)) => {
                self.read_xmm(true, x, src);
                if self.rax == Some(dst) && src != dst {
                    self.rax = None;
                }
            }
            None => {
                self.read_gpr(true, 0, src);
                self.store_rax(dst);
            }
        }
    }

    fn constant(&mut self, dst: u16, bits: u64) {
        if self.rax == Some(dst) {
            self.rax = None;
        }
        let v = bits as i64;
        let small = v == v as i32 as i64;
        match self.pin_of(dst) {
            Some(Pin::Gpr(r)) if small => asm!(self.ops ; mov Rq(r), v as i32),
            Some(Pin::Gpr(r)) => asm!(self.ops ; mov Rq(r), QWORD v),
            Some(Pin::Xmm(x)) if bits == 0 => asm!(self.ops ; xorps Rx(x), Rx(x)),
            Some(Pin::Xmm(x)) => {
                asm!(self.ops ; mov rax, QWORD v ; movq Rx(x), rax);
                self.rax = Some(dst);
            }
            None if small => {
                self.frame(op::STORE_IMM, true, 0, cell(dst));
                self.ops.extend((v as i32).to_le_bytes());
            }
            None => {
                asm!(self.ops ; mov rax, QWORD v);
                self.store_rax(dst);
            }
        }
    }

    fn int_op(&mut self, w: Width, op: IntOp, dst: u16, a: u16, b: Rhs) {
        self.emit_int_op(w, op, dst, a, b);
    }

    fn int_cmp(&mut self, w: Width, c: Cond, dst: u16, a: u16, b: Rhs) {
        let c = self.emit_cmp(w, c, a, b);
        self.set_cond(c, dst);
    }

    fn int_unop(&mut self, w: Width, op: IntUnOp, dst: u16, src: u16) -> bool {
        self.emit_int_unop(w, op, dst, src)
    }

    fn int_div(&mut self, w: Width, op: DivOp, dst: u16, a: u16, b: u16, pc: u32) {
        self.emit_int_div(w, op, dst, a, b, pc);
    }

    fn select(&mut self, dst: u16, cond: u16, a: u16, b: u16) {
        // `b` into rcx unless it has an integer register (or `rax`, which `a` takes).
        let rb = match self.gpr(b) {
            Some(r) => r,
            None => {
                self.read_gpr(true, 1, b);
                1
            }
        };
        self.read_gpr(true, 0, a);
        // Moves leave the flags alone; `cond` may be `a` itself, now in `rax`.
        self.emit_test(cond);
        asm!(self.ops ; cmove rax, Rq(rb));
        self.store_rax(dst);
    }

    fn jump(&mut self, target: DynamicLabel) {
        self.rax = None;
        asm!(self.ops ; jmp =>target);
    }

    fn br_if(&mut self, cond: u16, nonzero: bool, target: DynamicLabel) {
        // `rax` stays as it is (the target's label drops the cache there).
        self.emit_test(cond);
        if nonzero {
            asm!(self.ops ; jne =>target);
        } else {
            asm!(self.ops ; je =>target);
        }
    }

    fn br_cmp(&mut self, w: Width, c: Cond, a: u16, b: Rhs, target: DynamicLabel) {
        let c = self.emit_cmp(w, c, a, b);
        self.jcc(c, target);
    }

    fn br_table(&mut self, index: u16, targets: &[DynamicLabel]) {
        let (default, cases) = targets.split_last().expect("br_table has a default");
        self.read_gpr(false, 0, index);
        self.rax = None;
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
        self.address(l.bytes, addr, pc);
        // Straight into the destination's pinned register when it has one of the
        // right kind (a float load into a float register zero-extends an `f32`).
        match (self.pin_of(dst), l.bytes) {
            (Some(Pin::Xmm(x)), 8) => {
                asm!(self.ops ; movsd Rx(x), QWORD [r13 + rax]);
                return;
            }
            (Some(Pin::Xmm(x)), 4) if !l.signed && l.width == Width::W32 => {
                asm!(self.ops ; movss Rx(x), DWORD [r13 + rax]);
                return;
            }
            _ => {}
        }
        let t = self.gpr(dst).unwrap_or(0);
        match (l.bytes, l.signed, l.width) {
            (1, false, _) => asm!(self.ops ; movzx Rd(t), BYTE [r13 + rax]),
            (1, true, Width::W32) => asm!(self.ops ; movsx Rd(t), BYTE [r13 + rax]),
            (1, true, Width::W64) => asm!(self.ops ; movsx Rq(t), BYTE [r13 + rax]),
            (2, false, _) => asm!(self.ops ; movzx Rd(t), WORD [r13 + rax]),
            (2, true, Width::W32) => asm!(self.ops ; movsx Rd(t), WORD [r13 + rax]),
            (2, true, Width::W64) => asm!(self.ops ; movsx Rq(t), WORD [r13 + rax]),
            (4, true, Width::W64) => asm!(self.ops ; movsxd Rq(t), DWORD [r13 + rax]),
            (4, _, _) => asm!(self.ops ; mov Rd(t), DWORD [r13 + rax]),
            _ => asm!(self.ops ; mov Rq(t), QWORD [r13 + rax]),
        }
        self.write_gpr(t, dst);
    }

    fn store(&mut self, bytes: u8, addr: Addr, val: u16, pc: u32) {
        // The value from its register, else in rdx (`address` uses rax and rcx).
        let pinned = self.pin_of(val);
        if pinned.is_none() {
            self.read_gpr(true, 2, val);
        }
        self.address(bytes, addr, pc);
        match (pinned, bytes) {
            (Some(Pin::Gpr(r)), 8) => asm!(self.ops ; mov QWORD [r13 + rax], Rq(r)),
            (Some(Pin::Gpr(r)), 4) => asm!(self.ops ; mov DWORD [r13 + rax], Rd(r)),
            (Some(Pin::Xmm(x)), 8) => asm!(self.ops ; movsd QWORD [r13 + rax], Rx(x)),
            (Some(Pin::Xmm(x)), 4) => asm!(self.ops ; movss DWORD [r13 + rax], Rx(x)),
            (Some(_), _) => {
                self.read_gpr(true, 2, val);
                self.narrow_store(bytes);
            }
            (None, _) => self.narrow_store(bytes),
        }
    }

    fn global_get(&mut self, dst: u16, global: u32) {
        self.rax = None;
        self.global_addr(global);
        self.mem(op::LOAD, true, 0, 0, offsets::GLOBAL_VALUE as i32);
        self.store_rax(dst);
    }

    fn global_set(&mut self, src: u16, global: u32) {
        self.read_gpr(true, 1, src);
        self.rax = None;
        self.global_addr(global);
        self.mem(op::STORE, true, 1, 0, offsets::GLOBAL_VALUE as i32);
    }

    fn ret(&mut self, start: u16, len: u32) {
        // The results to the first cells (in memory, where the caller reads them).
        for i in 0..len {
            let from = start as u32 + i;
            if start != 0 || self.pin_of(from as u16).is_some() {
                self.read_gpr(true, 0, from as u16);
                self.frame(op::STORE, true, 0, 8 * i as i32);
            }
        }
        self.rax = None;
        // To the entry stub, or to a direct caller.
        asm!(self.ops ; ret);
    }

    fn direct_entry(&mut self, start: u32, locals: u32, consts: &[u64]) {
        self.rax = None;
        self.direct = Some(self.ops.offset());
        let first = start as i32 * 8;
        if locals <= 16 {
            for i in 0..locals as i32 {
                self.frame(op::STORE_IMM, true, 0, first + 8 * i);
                self.ops.extend(0i32.to_le_bytes());
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
                self.frame(op::STORE_IMM, true, 0, d);
                self.ops.extend((v as i32).to_le_bytes());
            } else {
                asm!(self.ops ; mov rax, QWORD v);
                self.frame(op::STORE, true, 0, d);
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
        self.rax = None;
        let slot = def as usize * offsets::DIRECT_SIZE;
        if slot > (i32::MAX as usize) - offsets::DIRECT_SIZE {
            return self.step(pc);
        }
        // Every check that fails hands the call to the executor.
        let slow = self.ops.new_dynamic_label();
        self.traps.push((slow, STATUS_STEP, pc));
        let b = cell(base);
        if let Some(routine) = self.call_fn {
            // The shared routine makes the whole call.
            asm!(self.ops
                ; mov eax, slot as i32
                ; mov edx, b
                ; mov ecx, ret_pc as i32
                ; call =>routine
                ; jz =>slow
            );
            return;
        }
        asm!(self.ops ; mov eax, slot as i32 ; mov edx, b);
        self.emit_push_frame(slow);
        asm!(self.ops ; mov DWORD [rax + offsets::FRAME_PC as i32], ret_pc as i32);
        // The callee reads its arguments from the frame.
        self.spill_pins();
        asm!(self.ops
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
        self.spill_pins();
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
        // The helper's operands from the frame, which it may write too; the call clobbers
        // the caller-saved pinned registers.
        self.spill_pins();
        let (d, a, b) = (cell(dst), cell(a), cell(b));
        // rsp is 16-byte aligned in native code (see `new`), as the call needs; the
        // other pinned registers are callee-saved.
        let (addr, traps) = match h {
            // Arguments in rdi (7), rsi (6) and rdx (2).
            Helper::Unary(f) => {
                self.frame(op::LOAD, true, 7, a);
                (f as usize, false)
            }
            Helper::Binary(f) => {
                self.frame(op::LOAD, true, 7, a);
                self.frame(op::LOAD, true, 6, b);
                (f as usize, false)
            }
            Helper::UnaryTrap(f) => {
                self.frame(op::LOAD, true, 7, a);
                self.frame(op::LEA, true, 6, d);
                (f as usize, true)
            }
            Helper::BinaryTrap(f) => {
                self.frame(op::LOAD, true, 7, a);
                self.frame(op::LOAD, true, 6, b);
                self.frame(op::LEA, true, 2, d);
                (f as usize, true)
            }
        };
        asm!(self.ops ; mov rax, QWORD addr as i64 ; call rax);
        if traps {
            let l = self.ops.new_dynamic_label();
            self.traps.push((l, 0, pc));
            asm!(self.ops ; test eax, eax ; jnz =>l);
        } else {
            self.frame(op::STORE, true, 0, d);
        }
        // Every pinned cell from the frame (`dst` included) after the call.
        self.reload_pins();
        if !traps {
            self.rax = Some(dst);
        }
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
        // Each exit site loads its pc into `ecx` and jumps to its status's shared tail
        // (10 bytes a site instead of about 20), which records the pc and the status.
        let mut tails: Vec<(u32, DynamicLabel)> = Vec::new();
        for (l, status, pc) in std::mem::take(&mut self.traps) {
            let tail = match tails.iter().find(|t| t.0 == status) {
                Some(&(_, tail)) => tail,
                None => {
                    let tail = self.ops.new_dynamic_label();
                    tails.push((status, tail));
                    tail
                }
            };
            asm!(self.ops
                ; =>l
                ; mov ecx, pc as i32
                ; jmp =>tail
            );
        }
        for (status, tail) in tails {
            asm!(self.ops
                ; =>tail
                ; mov DWORD [r15 + offsets::EXIT_PC as i32], ecx
            );
            if status == STATUS_STEP {
                // The executor runs the instruction over the frame.
                self.spill_pins();
            }
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
            ; jmp =>self.leave
        );
        self.emit_pin_routines();
        self.emit_call_routine();
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
    /// Stores the low `bytes` of `rdx` at `[r13 + rax]`.
    fn narrow_store(&mut self, bytes: u8) {
        match bytes {
            1 => asm!(self.ops ; mov BYTE [r13 + rax], dl),
            2 => asm!(self.ops ; mov WORD [r13 + rax], dx),
            4 => asm!(self.ops ; mov DWORD [r13 + rax], edx),
            _ => asm!(self.ops ; mov QWORD [r13 + rax], rdx),
        }
    }

    /// `rax = &globals[inst_globals[global]]`.
    fn global_addr(&mut self, global: u32) {
        let idx = (global as i32).wrapping_mul(4);
        // rax (0) from r15 (15), with short displacements.
        self.mem(op::LOAD, true, 0, 15, offsets::INST_GLOBALS as i32);
        self.mem(op::LOAD, false, 0, 0, idx);
        let size = offsets::GLOBAL_SIZE;
        if size.is_power_of_two() {
            asm!(self.ops ; shl rax, size.trailing_zeros() as i8);
        } else {
            asm!(self.ops ; imul rax, rax, size as i32);
        }
        self.mem(op::ADD_LOAD, true, 0, 15, offsets::GLOBALS as i32);
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
