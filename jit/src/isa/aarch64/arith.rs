//! Integer and float arithmetic for the aarch64 backend: operands from their pinned
//! registers or loaded into scratch registers (see `regs`), results computed in the
//! destination's pinned register when it has one, else in `x8`/`v0`.
//!
//! Float operations inline here are the ones whose aarch64 instruction is what Rust's
//! operator compiles to on this host (`fadd`, `fcvt`, `scvtf`, `fsqrt`, ...), so NaN payloads
//! and rounding match the interpreter's bit for bit; the rest (min/max, rounding,
//! float-to-int conversions) call the helpers.

// dynasm expands a dynamic register (`X(r)`) to an `.into()` of its number.
#![allow(clippy::useless_conversion)]

use super::{Aarch64, Cc, X9, X10, X16};
use crate::backend::{Cond, DivOp, FloatCond, FloatOp, IntOp, IntUnOp, Rhs, Width};
use dynasmrt::aarch64::{encode_logical_immediate_32bit, encode_logical_immediate_64bit};
use dynasmrt::{DynasmApi, DynasmLabelApi, dynasm};
use gloam_interp::Trap;

impl Aarch64 {
    /// `dst = a op b`.
    pub(super) fn emit_int_op(&mut self, w: Width, op: IntOp, dst: u16, a: u16, b: Rhs) {
        let d = self.int_dst(dst);
        let ra = self.int_src(a, X9);
        match b {
            Rhs::Cell(c) => {
                let rb = self.int_src(c, X10);
                self.alu_rrr(w, op, d, ra, rb);
            }
            Rhs::Imm(i) => self.alu_ri(w, op, d, ra, i),
        }
        self.int_done(d, dst);
    }

    /// `d = a op b` on registers.
    fn alu_rrr(&mut self, w: Width, op: IntOp, d: u8, a: u8, b: u8) {
        use IntOp::*;
        use Width::*;
        match (w, op) {
            (W32, Add) => asm!(self.ops ; add W(d), W(a), W(b)),
            (W32, Sub) => asm!(self.ops ; sub W(d), W(a), W(b)),
            (W32, Mul) => asm!(self.ops ; mul W(d), W(a), W(b)),
            (W32, And) => asm!(self.ops ; and W(d), W(a), W(b)),
            (W32, Or) => asm!(self.ops ; orr W(d), W(a), W(b)),
            (W32, Xor) => asm!(self.ops ; eor W(d), W(a), W(b)),
            // The variable shifts take their count modulo the width, like wasm.
            (W32, Shl) => asm!(self.ops ; lslv W(d), W(a), W(b)),
            (W32, ShrS) => asm!(self.ops ; asrv W(d), W(a), W(b)),
            (W32, ShrU) => asm!(self.ops ; lsrv W(d), W(a), W(b)),
            (W32, Rotr) => asm!(self.ops ; rorv W(d), W(a), W(b)),
            (W32, Rotl) => asm!(self.ops ; neg w16, W(b) ; rorv W(d), W(a), w16),
            (W64, Add) => asm!(self.ops ; add X(d), X(a), X(b)),
            (W64, Sub) => asm!(self.ops ; sub X(d), X(a), X(b)),
            (W64, Mul) => asm!(self.ops ; mul X(d), X(a), X(b)),
            (W64, And) => asm!(self.ops ; and X(d), X(a), X(b)),
            (W64, Or) => asm!(self.ops ; orr X(d), X(a), X(b)),
            (W64, Xor) => asm!(self.ops ; eor X(d), X(a), X(b)),
            (W64, Shl) => asm!(self.ops ; lslv X(d), X(a), X(b)),
            (W64, ShrS) => asm!(self.ops ; asrv X(d), X(a), X(b)),
            (W64, ShrU) => asm!(self.ops ; lsrv X(d), X(a), X(b)),
            (W64, Rotr) => asm!(self.ops ; rorv X(d), X(a), X(b)),
            (W64, Rotl) => asm!(self.ops ; neg x16, X(b) ; rorv X(d), X(a), x16),
        }
    }

    /// `x16 = i` sign-extended to the operation's width (a `W32` operation reads `w16`).
    fn imm_to_x16(&mut self, w: Width, i: i32) {
        match w {
            Width::W32 => self.mov_imm(X16, i as u32 as u64),
            Width::W64 => self.mov_imm(X16, i as i64 as u64),
        }
    }

    /// `d = a op imm` (shift counts masked like wasm).
    fn alu_ri(&mut self, w: Width, op: IntOp, d: u8, a: u8, i: i32) {
        use IntOp::*;
        use Width::*;
        let bits = match w {
            W32 => 32,
            W64 => 64,
        };
        let s = (i as u32) & (bits - 1);
        // 12-bit add/sub immediates (negated for the other operation).
        let add = match op {
            Add => Some(i as i64),
            Sub => Some(-(i as i64)),
            _ => None,
        };
        if let Some(v) = add
            && v.unsigned_abs() < 0x1000
        {
            let u = v.unsigned_abs() as u32;
            match (w, v >= 0) {
                (W32, true) => asm!(self.ops ; add WSP(d), WSP(a), u),
                (W32, false) => asm!(self.ops ; sub WSP(d), WSP(a), u),
                (W64, true) => asm!(self.ops ; add XSP(d), XSP(a), u),
                (W64, false) => asm!(self.ops ; sub XSP(d), XSP(a), u),
            }
            return;
        }
        let logical = match w {
            W32 => encode_logical_immediate_32bit(i as u32).is_some(),
            W64 => encode_logical_immediate_64bit(i as i64 as u64).is_some(),
        };
        let (v32, v64) = (i as u32, i as i64 as u64);
        match (w, op) {
            (W32, And) if logical => asm!(self.ops ; and WSP(d), W(a), v32),
            (W32, Or) if logical => asm!(self.ops ; orr WSP(d), W(a), v32),
            (W32, Xor) if logical => asm!(self.ops ; eor WSP(d), W(a), v32),
            (W64, And) if logical => asm!(self.ops ; and XSP(d), X(a), v64),
            (W64, Or) if logical => asm!(self.ops ; orr XSP(d), X(a), v64),
            (W64, Xor) if logical => asm!(self.ops ; eor XSP(d), X(a), v64),
            (W32, Shl) => asm!(self.ops ; lsl W(d), W(a), s),
            (W32, ShrS) => asm!(self.ops ; asr W(d), W(a), s),
            (W32, ShrU) => asm!(self.ops ; lsr W(d), W(a), s),
            (W32, Rotr) => asm!(self.ops ; ror W(d), W(a), s),
            (W32, Rotl) => asm!(self.ops ; ror W(d), W(a), (32 - s) & 31),
            (W64, Shl) => asm!(self.ops ; lsl X(d), X(a), s),
            (W64, ShrS) => asm!(self.ops ; asr X(d), X(a), s),
            (W64, ShrU) => asm!(self.ops ; lsr X(d), X(a), s),
            (W64, Rotr) => asm!(self.ops ; ror X(d), X(a), s),
            (W64, Rotl) => asm!(self.ops ; ror X(d), X(a), (64 - s) & 63),
            _ => {
                self.imm_to_x16(w, i);
                self.alu_rrr(w, op, d, a, X16);
            }
        }
    }

    /// Sets the flags for `a c b`; returns the condition to test them with.
    pub(super) fn emit_cmp(&mut self, w: Width, c: Cond, a: u16, b: Rhs) -> Cc {
        let w64 = w == Width::W64;
        let ra = self.int_src(a, X9);
        match b {
            Rhs::Imm(i) if (0..0x1000).contains(&i) => {
                let u = i as u32;
                if w64 {
                    asm!(self.ops ; cmp XSP(ra), u);
                } else {
                    asm!(self.ops ; cmp WSP(ra), u);
                }
            }
            // `cmn a, k` sets the flags as `cmp a, -k` does (k < 2^12).
            Rhs::Imm(i) if (-0xfff..0).contains(&i) => {
                let u = i.unsigned_abs();
                if w64 {
                    asm!(self.ops ; cmn XSP(ra), u);
                } else {
                    asm!(self.ops ; cmn WSP(ra), u);
                }
            }
            Rhs::Imm(i) => {
                self.imm_to_x16(w, i);
                if w64 {
                    asm!(self.ops ; cmp X(ra), x16);
                } else {
                    asm!(self.ops ; cmp W(ra), w16);
                }
            }
            Rhs::Cell(cb) => {
                let rb = self.int_src(cb, X10);
                if w64 {
                    asm!(self.ops ; cmp X(ra), X(rb));
                } else {
                    asm!(self.ops ; cmp W(ra), W(rb));
                }
            }
        }
        Cc::of(c)
    }

    pub(super) fn emit_int_unop(&mut self, w: Width, op: IntUnOp, dst: u16, src: u16) -> bool {
        use IntUnOp::*;
        use Width::*;
        if (w, op) == (W32, Extend32S) {
            return false;
        }
        let r = self.int_src(src, X9);
        let d = self.int_dst(dst);
        match (w, op) {
            (W32, Eqz) => asm!(self.ops ; cmp WSP(r), 0 ; cset W(d), eq),
            (W64, Eqz) => asm!(self.ops ; cmp XSP(r), 0 ; cset W(d), eq),
            (W32, Clz) => asm!(self.ops ; clz W(d), W(r)),
            (W64, Clz) => asm!(self.ops ; clz X(d), X(r)),
            (W32, Ctz) => asm!(self.ops ; rbit W(d), W(r) ; clz W(d), W(d)),
            (W64, Ctz) => asm!(self.ops ; rbit X(d), X(r) ; clz X(d), X(d)),
            // The byte counts of the SIMD unit, summed (writing `s7`/`d7` clears the rest).
            (W32, Popcnt) => asm!(self.ops
                ; fmov s7, W(r)
                ; cnt v7.b8, v7.b8
                ; addv b7, v7.b8
                ; fmov W(d), s7
            ),
            (W64, Popcnt) => asm!(self.ops
                ; fmov d7, X(r)
                ; cnt v7.b8, v7.b8
                ; addv b7, v7.b8
                ; fmov W(d), s7
            ),
            (W32, Extend8S) => asm!(self.ops ; sxtb W(d), W(r)),
            (W32, Extend16S) => asm!(self.ops ; sxth W(d), W(r)),
            (W64, Extend8S) => asm!(self.ops ; sxtb X(d), W(r)),
            (W64, Extend16S) => asm!(self.ops ; sxth X(d), W(r)),
            (W64, Extend32S) => asm!(self.ops ; sxtw X(d), W(r)),
            (W32, Extend32S) => return false,
            // Writing a W register zeroes the upper half.
            (_, Low32) => asm!(self.ops ; mov W(d), W(r)),
        }
        self.int_done(d, dst);
        true
    }

    /// Division and remainder. `sdiv`/`udiv` do not trap: division by zero and the signed
    /// overflow (`MIN / -1`) are checked first; `MIN % -1` is 0 as `msub` computes it.
    pub(super) fn emit_int_div(&mut self, w: Width, op: DivOp, dst: u16, a: u16, b: u16, pc: u32) {
        let w64 = w == Width::W64;
        let by_zero = self.trap_label(Trap::IntegerDivisionByZero, pc);
        let rb = self.int_src(b, X10);
        self.cbz(w64, rb, true, by_zero);
        let ra = self.int_src(a, X9);
        let d = self.int_dst(dst);
        if op == DivOp::DivS {
            let overflow = self.trap_label(Trap::IntegerOverflow, pc);
            let ok = self.ops.new_dynamic_label();
            if w64 {
                self.mov_imm(X16, i64::MIN as u64);
                asm!(self.ops ; cmn XSP(rb), 1 ; b.ne =>ok ; cmp X(ra), x16);
            } else {
                self.mov_imm(X16, i32::MIN as u32 as u64);
                asm!(self.ops ; cmn WSP(rb), 1 ; b.ne =>ok ; cmp W(ra), w16);
            }
            self.b_cc(Cc::Eq, overflow);
            asm!(self.ops ; =>ok);
        }
        match (w64, op) {
            (false, DivOp::DivS) => asm!(self.ops ; sdiv W(d), W(ra), W(rb)),
            (false, DivOp::DivU) => asm!(self.ops ; udiv W(d), W(ra), W(rb)),
            (false, DivOp::RemS) => {
                asm!(self.ops ; sdiv w16, W(ra), W(rb) ; msub W(d), w16, W(rb), W(ra))
            }
            (false, DivOp::RemU) => {
                asm!(self.ops ; udiv w16, W(ra), W(rb) ; msub W(d), w16, W(rb), W(ra))
            }
            (true, DivOp::DivS) => asm!(self.ops ; sdiv X(d), X(ra), X(rb)),
            (true, DivOp::DivU) => asm!(self.ops ; udiv X(d), X(ra), X(rb)),
            (true, DivOp::RemS) => {
                asm!(self.ops ; sdiv x16, X(ra), X(rb) ; msub X(d), x16, X(rb), X(ra))
            }
            (true, DivOp::RemU) => {
                asm!(self.ops ; udiv x16, X(ra), X(rb) ; msub X(d), x16, X(rb), X(ra))
            }
        }
        self.int_done(d, dst);
    }

    /// `dst = a op b` on floats of width `w`.
    pub(super) fn emit_float_op(&mut self, w: Width, op: FloatOp, dst: u16, a: u16, b: u16) {
        let va = self.float_src(a, 1);
        let vb = self.float_src(b, 2);
        let d = self.float_dst(dst);
        match (w, op) {
            (Width::W32, FloatOp::Add) => asm!(self.ops ; fadd S(d), S(va), S(vb)),
            (Width::W32, FloatOp::Sub) => asm!(self.ops ; fsub S(d), S(va), S(vb)),
            (Width::W32, FloatOp::Mul) => asm!(self.ops ; fmul S(d), S(va), S(vb)),
            (Width::W32, FloatOp::Div) => asm!(self.ops ; fdiv S(d), S(va), S(vb)),
            (Width::W64, FloatOp::Add) => asm!(self.ops ; fadd D(d), D(va), D(vb)),
            (Width::W64, FloatOp::Sub) => asm!(self.ops ; fsub D(d), D(va), D(vb)),
            (Width::W64, FloatOp::Mul) => asm!(self.ops ; fmul D(d), D(va), D(vb)),
            (Width::W64, FloatOp::Div) => asm!(self.ops ; fdiv D(d), D(va), D(vb)),
        }
        self.float_done(d, dst);
    }

    /// Float comparisons: after `fcmp`, unordered sets C and V (N = Z = 0), so `mi`
    /// (less), `ls` (less or equal), `gt`, `ge` and `eq` are false on NaN, `ne` true.
    pub(super) fn emit_float_cmp(&mut self, w: Width, c: FloatCond, dst: u16, a: u16, b: u16) {
        let va = self.float_src(a, 1);
        let vb = self.float_src(b, 2);
        if w == Width::W64 {
            asm!(self.ops ; fcmp D(va), D(vb));
        } else {
            asm!(self.ops ; fcmp S(va), S(vb));
        }
        let cc = match c {
            FloatCond::Eq => Cc::Eq,
            FloatCond::Ne => Cc::Ne,
            FloatCond::Lt => Cc::Mi,
            FloatCond::Gt => Cc::Gt,
            FloatCond::Le => Cc::Ls,
            FloatCond::Ge => Cc::Ge,
        };
        let d = self.int_dst(dst);
        self.cset(d, cc);
        self.int_done(d, dst);
    }

    pub(super) fn emit_float_sqrt(&mut self, w: Width, dst: u16, src: u16) {
        let v = self.float_src(src, 1);
        let d = self.float_dst(dst);
        if w == Width::W64 {
            asm!(self.ops ; fsqrt D(d), D(v));
        } else {
            asm!(self.ops ; fsqrt S(d), S(v));
        }
        self.float_done(d, dst);
    }

    pub(super) fn emit_float_convert(&mut self, to: Width, dst: u16, src: u16) {
        let v = self.float_src(src, 1);
        let d = self.float_dst(dst);
        if to == Width::W64 {
            asm!(self.ops ; fcvt D(d), S(v));
        } else {
            asm!(self.ops ; fcvt S(d), D(v));
        }
        self.float_done(d, dst);
    }

    pub(super) fn emit_int_to_float(
        &mut self,
        from: Width,
        signed: bool,
        to: Width,
        dst: u16,
        src: u16,
    ) -> bool {
        let r = self.int_src(src, X9);
        let d = self.float_dst(dst);
        match (from, signed, to) {
            (Width::W32, true, Width::W32) => asm!(self.ops ; scvtf S(d), W(r)),
            (Width::W32, false, Width::W32) => asm!(self.ops ; ucvtf S(d), W(r)),
            (Width::W64, true, Width::W32) => asm!(self.ops ; scvtf S(d), X(r)),
            (Width::W64, false, Width::W32) => asm!(self.ops ; ucvtf S(d), X(r)),
            (Width::W32, true, Width::W64) => asm!(self.ops ; scvtf D(d), W(r)),
            (Width::W32, false, Width::W64) => asm!(self.ops ; ucvtf D(d), W(r)),
            (Width::W64, true, Width::W64) => asm!(self.ops ; scvtf D(d), X(r)),
            (Width::W64, false, Width::W64) => asm!(self.ops ; ucvtf D(d), X(r)),
        }
        self.float_done(d, dst);
        true
    }
}
