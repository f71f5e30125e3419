//! Integer and float arithmetic for the x64 backend: operands wherever they live (the
//! `rax` cache, pinned registers, frame cells; see `pins`), results computed in the
//! destination's pinned register when it has one, else in `rax`/`xmm0`.

// dynasm expands a dynamic register (`Rq(r)`) to an `.into()` of its number.
#![allow(clippy::useless_conversion)]

use super::{X64, cell, swapped};
use crate::backend::{Cond, DivOp, FloatCond, FloatOp, IntOp, IntUnOp, Rhs, Width};
use dynasmrt::{DynasmApi, DynasmLabelApi, dynasm};
use gloam_interp::Trap;

const RAX: u8 = 0;
const RCX: u8 = 1;

fn commutative(op: IntOp) -> bool {
    matches!(
        op,
        IntOp::Add | IntOp::Mul | IntOp::And | IntOp::Or | IntOp::Xor
    )
}

fn shift(op: IntOp) -> bool {
    matches!(
        op,
        IntOp::Shl | IntOp::ShrS | IntOp::ShrU | IntOp::Rotl | IntOp::Rotr
    )
}

impl X64 {
    /// `dst = a op b`.
    pub(super) fn emit_int_op(&mut self, w: Width, op: IntOp, dst: u16, a: u16, b: Rhs) {
        let d = self.gpr(dst);
        // A commutative operation takes its operands in the order that saves a move: the
        // one already in `rax` or in the destination's register first.
        let placed = |x: &X64, c: u16| x.int_reg(c) == Some(RAX) || (d.is_some() && x.gpr(c) == d);
        if commutative(op)
            && let Rhs::Cell(c) = b
            && c != a
            && placed(self, c)
            && !placed(self, a)
        {
            return self.emit_int_op(w, op, dst, c, Rhs::Cell(a));
        }
        // Compute in the destination's register, unless the right operand lives there
        // (it would be overwritten before it is read).
        let t = match d {
            Some(r) if !matches!(b, Rhs::Cell(c) if c != a && self.gpr(c) == Some(r)) => r,
            _ => RAX,
        };
        let w64 = w == Width::W64;
        if shift(op)
            && let Rhs::Cell(c) = b
        {
            self.read_gpr(false, RCX, c);
            self.read_gpr(w64, t, a);
            self.shift_cl(w, op, t);
        } else {
            self.read_gpr(w64, t, a);
            match b {
                Rhs::Imm(i) => self.alu_ri(w, op, t, i),
                Rhs::Cell(c) => match self.int_reg(c) {
                    Some(r) => self.alu_rr(w, op, t, r),
                    None if self.xmm(c).is_some() => {
                        self.read_gpr(w64, RCX, c);
                        self.alu_rr(w, op, t, RCX);
                    }
                    None => self.alu_rm(w, op, t, cell(c)),
                },
            }
        }
        self.write_gpr(t, dst);
    }

    /// `t op= r` (not shifts).
    fn alu_rr(&mut self, w: Width, op: IntOp, t: u8, r: u8) {
        use IntOp::*;
        use Width::*;
        match (w, op) {
            (W32, Add) => asm!(self.ops ; add Rd(t), Rd(r)),
            (W32, Sub) => asm!(self.ops ; sub Rd(t), Rd(r)),
            (W32, Mul) => asm!(self.ops ; imul Rd(t), Rd(r)),
            (W32, And) => asm!(self.ops ; and Rd(t), Rd(r)),
            (W32, Or) => asm!(self.ops ; or Rd(t), Rd(r)),
            (W32, Xor) => asm!(self.ops ; xor Rd(t), Rd(r)),
            (W64, Add) => asm!(self.ops ; add Rq(t), Rq(r)),
            (W64, Sub) => asm!(self.ops ; sub Rq(t), Rq(r)),
            (W64, Mul) => asm!(self.ops ; imul Rq(t), Rq(r)),
            (W64, And) => asm!(self.ops ; and Rq(t), Rq(r)),
            (W64, Or) => asm!(self.ops ; or Rq(t), Rq(r)),
            (W64, Xor) => asm!(self.ops ; xor Rq(t), Rq(r)),
            _ => unreachable!("shifts take their count in cl"),
        }
    }

    /// `t op= [frame + m]` (not shifts).
    fn alu_rm(&mut self, w: Width, op: IntOp, t: u8, m: i32) {
        use IntOp::*;
        use Width::*;
        match (w, op) {
            (W32, Add) => asm!(self.ops ; add Rd(t), DWORD [r12 + m]),
            (W32, Sub) => asm!(self.ops ; sub Rd(t), DWORD [r12 + m]),
            (W32, Mul) => asm!(self.ops ; imul Rd(t), DWORD [r12 + m]),
            (W32, And) => asm!(self.ops ; and Rd(t), DWORD [r12 + m]),
            (W32, Or) => asm!(self.ops ; or Rd(t), DWORD [r12 + m]),
            (W32, Xor) => asm!(self.ops ; xor Rd(t), DWORD [r12 + m]),
            (W64, Add) => asm!(self.ops ; add Rq(t), QWORD [r12 + m]),
            (W64, Sub) => asm!(self.ops ; sub Rq(t), QWORD [r12 + m]),
            (W64, Mul) => asm!(self.ops ; imul Rq(t), QWORD [r12 + m]),
            (W64, And) => asm!(self.ops ; and Rq(t), QWORD [r12 + m]),
            (W64, Or) => asm!(self.ops ; or Rq(t), QWORD [r12 + m]),
            (W64, Xor) => asm!(self.ops ; xor Rq(t), QWORD [r12 + m]),
            _ => unreachable!("shifts take their count in cl"),
        }
    }

    /// `t op= imm` (shift counts masked like wasm).
    fn alu_ri(&mut self, w: Width, op: IntOp, t: u8, i: i32) {
        use IntOp::*;
        use Width::*;
        let s = match w {
            W32 => (i & 31) as i8,
            W64 => (i & 63) as i8,
        };
        match (w, op) {
            (W32, Add) => asm!(self.ops ; add Rd(t), i),
            (W32, Sub) => asm!(self.ops ; sub Rd(t), i),
            (W32, Mul) => asm!(self.ops ; imul Rd(t), Rd(t), i),
            (W32, And) => asm!(self.ops ; and Rd(t), i),
            (W32, Or) => asm!(self.ops ; or Rd(t), i),
            (W32, Xor) => asm!(self.ops ; xor Rd(t), i),
            (W32, Shl) => asm!(self.ops ; shl Rd(t), s),
            (W32, ShrS) => asm!(self.ops ; sar Rd(t), s),
            (W32, ShrU) => asm!(self.ops ; shr Rd(t), s),
            (W32, Rotl) => asm!(self.ops ; rol Rd(t), s),
            (W32, Rotr) => asm!(self.ops ; ror Rd(t), s),
            (W64, Add) => asm!(self.ops ; add Rq(t), i),
            (W64, Sub) => asm!(self.ops ; sub Rq(t), i),
            (W64, Mul) => asm!(self.ops ; imul Rq(t), Rq(t), i),
            (W64, And) => asm!(self.ops ; and Rq(t), i),
            (W64, Or) => asm!(self.ops ; or Rq(t), i),
            (W64, Xor) => asm!(self.ops ; xor Rq(t), i),
            (W64, Shl) => asm!(self.ops ; shl Rq(t), s),
            (W64, ShrS) => asm!(self.ops ; sar Rq(t), s),
            (W64, ShrU) => asm!(self.ops ; shr Rq(t), s),
            (W64, Rotl) => asm!(self.ops ; rol Rq(t), s),
            (W64, Rotr) => asm!(self.ops ; ror Rq(t), s),
        }
    }

    /// `t` shifted or rotated by `cl` (masked by the CPU like wasm).
    fn shift_cl(&mut self, w: Width, op: IntOp, t: u8) {
        use IntOp::*;
        use Width::*;
        match (w, op) {
            (W32, Shl) => asm!(self.ops ; shl Rd(t), cl),
            (W32, ShrS) => asm!(self.ops ; sar Rd(t), cl),
            (W32, ShrU) => asm!(self.ops ; shr Rd(t), cl),
            (W32, Rotl) => asm!(self.ops ; rol Rd(t), cl),
            (W32, Rotr) => asm!(self.ops ; ror Rd(t), cl),
            (W64, Shl) => asm!(self.ops ; shl Rq(t), cl),
            (W64, ShrS) => asm!(self.ops ; sar Rq(t), cl),
            (W64, ShrU) => asm!(self.ops ; shr Rq(t), cl),
            (W64, Rotl) => asm!(self.ops ; rol Rq(t), cl),
            (W64, Rotr) => asm!(self.ops ; ror Rq(t), cl),
            _ => unreachable!("not a shift"),
        }
    }

    /// Sets the flags for `a c b`; returns the condition to test them with (swapped when
    /// the operands were).
    pub(super) fn emit_cmp(&mut self, w: Width, c: Cond, a: u16, b: Rhs) -> Cond {
        let w64 = w == Width::W64;
        let ra = match self.int_reg(a) {
            Some(r) => r,
            None => {
                // Compare from the right operand's register when only it has one.
                if let Rhs::Cell(cb) = b
                    && self.int_reg(cb).is_some()
                {
                    return self.emit_cmp(w, swapped(c), cb, Rhs::Cell(a));
                }
                self.read_gpr(w64, RAX, a);
                RAX
            }
        };
        match b {
            Rhs::Imm(i) if w64 => asm!(self.ops ; cmp Rq(ra), i),
            Rhs::Imm(i) => asm!(self.ops ; cmp Rd(ra), i),
            Rhs::Cell(cb) => {
                let rb = match self.int_reg(cb) {
                    Some(r) => Some(r),
                    None if self.xmm(cb).is_some() => {
                        self.read_gpr(w64, RCX, cb);
                        Some(RCX)
                    }
                    None => None,
                };
                let m = cell(cb);
                match (w64, rb) {
                    (true, Some(r)) => asm!(self.ops ; cmp Rq(ra), Rq(r)),
                    (false, Some(r)) => asm!(self.ops ; cmp Rd(ra), Rd(r)),
                    (true, None) => asm!(self.ops ; cmp Rq(ra), QWORD [r12 + m]),
                    (false, None) => asm!(self.ops ; cmp Rd(ra), DWORD [r12 + m]),
                }
            }
        }
        c
    }

    /// Sets the flags for the `i32` in `cond` against 0.
    pub(super) fn emit_test(&mut self, cond: u16) {
        match self.int_reg(cond) {
            Some(r) => asm!(self.ops ; test Rd(r), Rd(r)),
            // (`rdx`: `select` holds an operand in `rcx`.)
            None if self.xmm(cond).is_some() => {
                self.read_gpr(false, 2, cond);
                asm!(self.ops ; test edx, edx);
            }
            None => asm!(self.ops ; cmp DWORD [r12 + cell(cond)], 0),
        }
    }

    /// `al = cond` from the flags, then `cell dst = al` (zero-extended).
    pub(super) fn set_cond(&mut self, c: Cond, dst: u16) {
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
        self.write_gpr(RAX, dst);
    }

    pub(super) fn emit_int_unop(&mut self, w: Width, op: IntUnOp, dst: u16, src: u16) -> bool {
        use IntUnOp::*;
        use Width::*;
        match (w, op) {
            (_, Popcnt) if !self.popcnt => return false,
            (W32, Extend32S) => return false,
            _ => {}
        }
        self.read_gpr(w == W64, RAX, src);
        match (w, op) {
            (W32, Eqz) => {
                asm!(self.ops ; test eax, eax);
                self.set_cond(Cond::Eq, dst);
                return true;
            }
            (W64, Eqz) => {
                asm!(self.ops ; test rax, rax);
                self.set_cond(Cond::Eq, dst);
                return true;
            }
            // clz(x) = 31 - bsr(x), and 32 for 0: bsr leaves ZF set on 0.
            (W32, Clz) => {
                asm!(self.ops ; mov ecx, 63 ; bsr eax, eax ; cmovz eax, ecx ; xor eax, 31)
            }
            (W64, Clz) => {
                asm!(self.ops ; mov ecx, 127 ; bsr rax, rax ; cmovz rax, rcx ; xor rax, 63)
            }
            (W32, Ctz) => asm!(self.ops ; mov ecx, 32 ; bsf eax, eax ; cmovz eax, ecx),
            (W64, Ctz) => asm!(self.ops ; mov ecx, 64 ; bsf rax, rax ; cmovz rax, rcx),
            (W32, Popcnt) => asm!(self.ops ; popcnt eax, eax),
            (W64, Popcnt) => asm!(self.ops ; popcnt rax, rax),
            (W32, Extend8S) => asm!(self.ops ; movsx eax, al),
            (W32, Extend16S) => asm!(self.ops ; movsx eax, ax),
            (W64, Extend8S) => asm!(self.ops ; movsx rax, al),
            (W64, Extend16S) => asm!(self.ops ; movsx rax, ax),
            (W64, Extend32S) => asm!(self.ops ; movsxd rax, eax),
            (W32, Extend32S) => return false,
            // The 64-bit read left the whole cell: keep its low half.
            (W64, Low32) => asm!(self.ops ; mov eax, eax),
            // `i32.wrap_i64`: the read skips the move when `rax` holds the (64-bit) cell.
            (W32, Low32) => asm!(self.ops ; mov eax, eax),
        }
        self.write_gpr(RAX, dst);
        true
    }

    pub(super) fn emit_int_div(&mut self, w: Width, op: DivOp, dst: u16, a: u16, b: u16, pc: u32) {
        let by_zero = self.trap_label(Trap::IntegerDivisionByZero, pc);
        let done = self.ops.new_dynamic_label();
        let w64 = w == Width::W64;
        self.read_gpr(w64, RCX, b);
        self.read_gpr(w64, RAX, a);
        self.rax = None;
        match w {
            Width::W32 => {
                asm!(self.ops ; test ecx, ecx ; jz =>by_zero);
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
                asm!(self.ops ; test rcx, rcx ; jz =>by_zero);
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
        self.write_gpr(RAX, dst);
    }

    /// `dst = a op b` on floats of width `w`.
    pub(super) fn emit_float_op(&mut self, w: Width, op: FloatOp, dst: u16, a: u16, b: u16) {
        let d = self.xmm(dst);
        let comm = matches!(op, FloatOp::Add | FloatOp::Mul);
        if comm && b != a && d.is_some() && self.xmm(b) == d {
            return self.emit_float_op(w, op, dst, b, a);
        }
        let t = match d {
            Some(x) if !(b != a && self.xmm(b) == Some(x)) => x,
            _ => 0,
        };
        let w64 = w == Width::W64;
        self.read_xmm(w64, t, a);
        let rb = match self.pin_of(b) {
            Some(super::Pin::Xmm(r)) => Some(r),
            Some(super::Pin::Gpr(_)) => {
                self.read_xmm(w64, 1, b);
                Some(1)
            }
            None if self.rax == Some(b) => {
                self.read_xmm(w64, 1, b);
                Some(1)
            }
            None => None,
        };
        let m = cell(b);
        match (w, op, rb) {
            (Width::W32, FloatOp::Add, Some(r)) => asm!(self.ops ; addss Rx(t), Rx(r)),
            (Width::W32, FloatOp::Sub, Some(r)) => asm!(self.ops ; subss Rx(t), Rx(r)),
            (Width::W32, FloatOp::Mul, Some(r)) => asm!(self.ops ; mulss Rx(t), Rx(r)),
            (Width::W32, FloatOp::Div, Some(r)) => asm!(self.ops ; divss Rx(t), Rx(r)),
            (Width::W64, FloatOp::Add, Some(r)) => asm!(self.ops ; addsd Rx(t), Rx(r)),
            (Width::W64, FloatOp::Sub, Some(r)) => asm!(self.ops ; subsd Rx(t), Rx(r)),
            (Width::W64, FloatOp::Mul, Some(r)) => asm!(self.ops ; mulsd Rx(t), Rx(r)),
            (Width::W64, FloatOp::Div, Some(r)) => asm!(self.ops ; divsd Rx(t), Rx(r)),
            (Width::W32, FloatOp::Add, None) => asm!(self.ops ; addss Rx(t), DWORD [r12 + m]),
            (Width::W32, FloatOp::Sub, None) => asm!(self.ops ; subss Rx(t), DWORD [r12 + m]),
            (Width::W32, FloatOp::Mul, None) => asm!(self.ops ; mulss Rx(t), DWORD [r12 + m]),
            (Width::W32, FloatOp::Div, None) => asm!(self.ops ; divss Rx(t), DWORD [r12 + m]),
            (Width::W64, FloatOp::Add, None) => asm!(self.ops ; addsd Rx(t), QWORD [r12 + m]),
            (Width::W64, FloatOp::Sub, None) => asm!(self.ops ; subsd Rx(t), QWORD [r12 + m]),
            (Width::W64, FloatOp::Mul, None) => asm!(self.ops ; mulsd Rx(t), QWORD [r12 + m]),
            (Width::W64, FloatOp::Div, None) => asm!(self.ops ; divsd Rx(t), QWORD [r12 + m]),
        }
        self.write_xmm(w64, t, dst);
    }

    pub(super) fn emit_float_cmp(&mut self, w: Width, c: FloatCond, dst: u16, a: u16, b: u16) {
        // `x < y` is `y > x`: with the operands swapped, `seta`/`setae` are false on
        // unordered (CF = ZF = PF = 1), as wasm wants.
        let (x, y) = match c {
            FloatCond::Lt | FloatCond::Le => (b, a),
            _ => (a, b),
        };
        let w64 = w == Width::W64;
        let rx = match self.xmm(x) {
            Some(r) => r,
            None => {
                self.read_xmm(w64, 0, x);
                0
            }
        };
        let ry = match (self.xmm(y), self.gpr(y), self.rax == Some(y)) {
            (Some(r), ..) => Some(r),
            (None, Some(_), _) | (None, None, true) => {
                self.read_xmm(w64, 1, y);
                Some(1)
            }
            _ => None,
        };
        let m = cell(y);
        match (w64, ry) {
            (false, Some(r)) => asm!(self.ops ; ucomiss Rx(rx), Rx(r)),
            (true, Some(r)) => asm!(self.ops ; ucomisd Rx(rx), Rx(r)),
            (false, None) => asm!(self.ops ; ucomiss Rx(rx), DWORD [r12 + m]),
            (true, None) => asm!(self.ops ; ucomisd Rx(rx), QWORD [r12 + m]),
        }
        match c {
            FloatCond::Eq => asm!(self.ops ; sete al ; setnp cl ; and al, cl),
            FloatCond::Ne => asm!(self.ops ; setne al ; setp cl ; or al, cl),
            FloatCond::Lt | FloatCond::Gt => asm!(self.ops ; seta al),
            FloatCond::Le | FloatCond::Ge => asm!(self.ops ; setae al),
        }
        asm!(self.ops ; movzx eax, al);
        self.write_gpr(RAX, dst);
    }

    pub(super) fn emit_float_sqrt(&mut self, w: Width, dst: u16, src: u16) {
        let w64 = w == Width::W64;
        // The source in a register (xmm1 unless pinned to one), into a cleared xmm0.
        let r = match self.xmm(src) {
            Some(r) => r,
            None => {
                self.read_xmm(w64, 1, src);
                1
            }
        };
        asm!(self.ops ; xorps xmm0, xmm0);
        if w64 {
            asm!(self.ops ; sqrtsd xmm0, Rx(r));
        } else {
            asm!(self.ops ; sqrtss xmm0, Rx(r));
        }
        self.write_xmm(w64, 0, dst);
    }

    pub(super) fn emit_float_convert(&mut self, to: Width, dst: u16, src: u16) {
        let to64 = to == Width::W64;
        let r = match self.xmm(src) {
            Some(r) => r,
            None => {
                self.read_xmm(!to64, 1, src);
                1
            }
        };
        asm!(self.ops ; xorps xmm0, xmm0);
        if to64 {
            asm!(self.ops ; cvtss2sd xmm0, Rx(r));
        } else {
            asm!(self.ops ; cvtsd2ss xmm0, Rx(r));
        }
        self.write_xmm(to64, 0, dst);
    }

    pub(super) fn emit_int_to_float(
        &mut self,
        from: Width,
        signed: bool,
        to: Width,
        dst: u16,
        src: u16,
    ) -> bool {
        // A u32 converts exactly as the non-negative i64 it zero-extends to.
        match (from, signed) {
            (Width::W64, false) => return false,
            (Width::W32, true) => {
                self.read_gpr(false, RAX, src);
                asm!(self.ops ; movsxd rax, eax);
                self.rax = None;
            }
            (Width::W32, false) => self.read_gpr(false, RAX, src),
            (Width::W64, true) => self.read_gpr(true, RAX, src),
        }
        match to {
            Width::W32 => asm!(self.ops ; xorps xmm0, xmm0 ; cvtsi2ss xmm0, rax),
            Width::W64 => asm!(self.ops ; xorps xmm0, xmm0 ; cvtsi2sd xmm0, rax),
        }
        self.write_xmm(to == Width::W64, 0, dst);
        true
    }
}
