//! Handlers of the SIMD rows of the opcode table (the `v128` block of the `other` family,
//! just before `Data`): one method per opcode, named like the opcode. The lane math lives in
//! [`crate::simd`]; these handlers only move operands between frame cells, memory and it.
//!
//! A `v128` register `r` is the cell pair `r, r + 1` ([`V128::from_cells`]). Every handler
//! reads all of its operands before it writes `dst`, so a result may overwrite its inputs.
//!
//! All rows but the operand word and the global accesses are `hot`: they run on the
//! dispatch loop's register-resident state ([`Hot`]), touching only registers, memory 0
//! and the instruction pointer.
#![allow(non_snake_case)]

use super::{CodeUnit, Executor, Exit, Hot, Step, Unit};
use crate::ops::{Dst, Instr, Reg};
use crate::simd::{self, V128};

impl Executor<'_> {
    pub(super) fn V128Imm(&mut self, _bytes: crate::ops::ImmBytes) -> Step {
        // Operand words are skipped by the instruction they belong to.
        Err(Exit::Error(anyhow::anyhow!(
            "internal error: executed an operand word"
        )))
    }

    fn global_index(&self, global: u32) -> usize {
        self.store.instances[self.inst as usize].globals[global as usize] as usize
    }

    pub(super) fn V128GlobalGet(&mut self, dst: Dst, global: u32) -> Step {
        let g = &self.store.globals[self.global_index(global)];
        let (lo, hi) = (g.value, g.hi);
        self.set(dst, lo);
        self.set(Dst(dst.0 + 1), hi);
        Ok(())
    }

    pub(super) fn V128GlobalSet(&mut self, src: Reg, global: u32) -> Step {
        let (lo, hi) = (self.get(src), self.get(Reg(src.0 + 1)));
        let g = self.global_index(global);
        let g = &mut self.store.globals[g];
        g.value = lo;
        g.hi = hi;
        Ok(())
    }
}

/// Whether v128 registers move as 16-byte blocks (see [`Hot::v128`]).
const LE_BLOCKS: bool = cfg!(all(
    target_endian = "little",
    not(feature = "simd-explicit-cells")
));

impl Hot {
    /// The `v128` in registers `r, r + 1`.
    ///
    /// A cell holds its 8 bytes of the value as a little-endian `u64`, so on a
    /// little-endian host the two cells *are* the value's 16 bytes in lane order and the
    /// value is read as one 16-byte block: kept in memory form, the lane loops of
    /// `simd.rs` compile to vector instructions. Elsewhere (or with the cargo feature
    /// `simd-explicit-cells`) each cell is converted explicitly ([`V128::from_cells`]).
    /// Both paths always compile; `simd_regs_agree` checks they agree.
    #[inline(always)]
    fn v128(&self, r: Reg) -> V128 {
        if LE_BLOCKS {
            // SAFETY: the translator allocates both cells of a v128 register inside the
            // frame (as for `Hot::get`); `[u8; 16]` has no alignment or validity needs.
            V128(unsafe { core::ptr::read_unaligned(self.regs.add(r.0 as usize).cast()) })
        } else {
            self.v128_by_cells(r)
        }
    }

    /// Writes `v` to registers `d, d + 1` (see [`Hot::v128`]).
    #[inline(always)]
    fn set_v128(&mut self, d: Dst, v: V128) {
        if LE_BLOCKS {
            // SAFETY: as in `v128`.
            unsafe { core::ptr::write_unaligned(self.regs.add(d.0 as usize).cast(), v.0) }
        } else {
            self.set_v128_by_cells(d, v)
        }
    }

    /// `v128` without the little-endian shortcut: one explicit conversion per cell.
    #[inline(always)]
    fn v128_by_cells(&self, r: Reg) -> V128 {
        V128::from_cells(self.get(r), self.get(Reg(r.0 + 1)))
    }

    #[inline(always)]
    fn set_v128_by_cells(&mut self, d: Dst, v: V128) {
        let [lo, hi] = v.to_cells();
        self.set(d, lo);
        self.set(Dst(d.0 + 1), hi);
    }

    /// The 16 bytes of the two `V128Imm` words after the current instruction (skipped).
    #[inline(always)]
    fn imm16(&mut self) -> [u8; 16] {
        // SAFETY: the translator emits `V128Const` and `I8x16Shuffle` followed by their two
        // `V128Imm` words, so `ip` and `ip + 1` are inside the function's code and `ip + 2`
        // is at most one past its end (and the code never ends with an operand word).
        let (w0, w1) = unsafe { ((*self.ip).instr(), (*self.ip.add(1)).instr()) };
        // SAFETY: see above.
        self.ip = unsafe { self.ip.add(2) };
        let mut out = [0u8; 16];
        if let (Instr::V128Imm { bytes: lo }, Instr::V128Imm { bytes: hi }) = (w0, w1) {
            out[..8].copy_from_slice(&lo.0);
            out[8..].copy_from_slice(&hi.0);
        } else {
            debug_assert!(false, "v128 instruction without its immediate words");
        }
        out
    }

    /// The memory offset in the `Data` word after the current instruction (skipped).
    #[inline(always)]
    fn offset_word(&mut self) -> u32 {
        // SAFETY: the translator emits every `v128.loadN_lane` followed by its `Data` word.
        let w = unsafe { (*self.ip).instr() };
        // SAFETY: see above.
        self.ip = unsafe { self.ip.add(1) };
        match w {
            Instr::Data { a, .. } => a,
            _ => {
                debug_assert!(false, "lane load without its offset word");
                0
            }
        }
    }

    #[inline(always)]
    pub(super) fn V128Copy(&mut self, dst: Dst, src: Reg) -> Step {
        let v = self.v128(src);
        self.set_v128(dst, v);
        Ok(())
    }

    #[inline(always)]
    pub(super) fn V128Const(&mut self, dst: Dst) -> Step {
        let v = V128(self.imm16());
        self.set_v128(dst, v);
        Ok(())
    }

    #[inline(always)]
    pub(super) fn V128Select(&mut self, dst: Dst, cond: Reg, a: Reg, b: Reg) -> Step {
        let v = if self.get(cond) as u32 != 0 {
            self.v128(a)
        } else {
            self.v128(b)
        };
        self.set_v128(dst, v);
        Ok(())
    }

    /// `v128.load`: like `Hot::load::<16>` (the same bounds check), but returning a
    /// `V128`. Through `Result<[u8; 16], Trap>`, whose payload sits at offset 1, LLVM
    /// moves the bytes in overlapping pieces via the stack (store-forwarding stalls that
    /// cost a quarter of the SIMD workload's time); `V128` is 16-byte aligned.
    #[inline(always)]
    pub(super) fn V128Load(&mut self, dst: Dst, addr: Reg, offset: u32) -> Step {
        let ea = self.check::<16>(self.effective(addr, offset))?;
        // SAFETY: `check` made sure `ea + 16 <= mem_len`, and `mem`/`mem_len` describe
        // the current instance's memory 0 (as in `Hot::load`).
        let v = V128(unsafe { core::ptr::read_unaligned(self.mem.add(ea).cast()) });
        self.set_v128(dst, v);
        Ok(())
    }

    #[inline(always)]
    pub(super) fn V128Store(&mut self, addr: Reg, val: Reg, offset: u32) -> Step {
        let v = self.v128(val);
        self.store::<16>(addr, offset, v.0)?;
        Ok(())
    }

    /// The shuffle itself runs out of line: its lane table lives on the stack, and a stack
    /// frame in a threaded handler would stop its tail call to the next handler.
    #[inline(always)]
    pub(super) fn I8x16Shuffle(&mut self, dst: Dst, a: Reg, b: Reg) -> Step {
        let words = self.ip;
        // SAFETY: the two `V128Imm` words follow the instruction (see `imm16`).
        self.ip = unsafe { self.ip.add(2) };
        shuffle(self.regs, words, dst, a, b);
        Ok(())
    }

    #[inline(always)]
    pub(super) fn F32x4RelaxedMadd(&mut self, dst: Dst, a: Reg, b: Reg, c: Reg) -> Step {
        let v = simd::f32x4_relaxed_madd(self.v128(a), self.v128(b), self.v128(c), false);
        self.set_v128(dst, v);
        Ok(())
    }

    #[inline(always)]
    pub(super) fn F32x4RelaxedNmadd(&mut self, dst: Dst, a: Reg, b: Reg, c: Reg) -> Step {
        let v = simd::f32x4_relaxed_madd(self.v128(a), self.v128(b), self.v128(c), true);
        self.set_v128(dst, v);
        Ok(())
    }

    #[inline(always)]
    pub(super) fn F64x2RelaxedMadd(&mut self, dst: Dst, a: Reg, b: Reg, c: Reg) -> Step {
        let v = simd::f64x2_relaxed_madd(self.v128(a), self.v128(b), self.v128(c), false);
        self.set_v128(dst, v);
        Ok(())
    }

    #[inline(always)]
    pub(super) fn F64x2RelaxedNmadd(&mut self, dst: Dst, a: Reg, b: Reg, c: Reg) -> Step {
        let v = simd::f64x2_relaxed_madd(self.v128(a), self.v128(b), self.v128(c), true);
        self.set_v128(dst, v);
        Ok(())
    }

    #[inline(always)]
    pub(super) fn I32x4RelaxedDotI8x16I7x16AddS(
        &mut self,
        dst: Dst,
        a: Reg,
        b: Reg,
        c: Reg,
    ) -> Step {
        let v = simd::i32x4_relaxed_dot_i8x16_i7x16_add_s(self.v128(a), self.v128(b), self.v128(c));
        self.set_v128(dst, v);
        Ok(())
    }

    #[inline(always)]
    pub(super) fn V128Bitselect(&mut self, dst: Dst, a: Reg, b: Reg, c: Reg) -> Step {
        let v = simd::v128_bitselect(self.v128(a), self.v128(b), self.v128(c));
        self.set_v128(dst, v);
        Ok(())
    }
}

/// `i8x16.shuffle` on the frame `regs`, with its lane indices in the two words at `words`.
#[inline(never)]
fn shuffle(regs: *mut u64, words: *const Unit, dst: Dst, a: Reg, b: Reg) {
    let mut h = Hot::new(words, words, regs, core::ptr::null_mut(), 0);
    let lanes = h.imm16();
    let v = simd::i8x16_shuffle(h.v128(a), h.v128(b), lanes);
    h.set_v128(dst, v);
}

/// `dst = f(mem[addr + offset .. + N])`
macro_rules! loads {
    ($($op:ident: $n:literal => $f:expr,)*) => {
        impl Hot {$(
            #[inline(always)]
            pub(super) fn $op(&mut self, dst: Dst, addr: Reg, offset: u32) -> Step {
                let bytes = self.load::<$n>(addr, offset)?;
                self.set_v128(dst, ($f)(bytes));
                Ok(())
            }
        )*}
    };
}
loads! {
    V128Load8x8S: 8 => simd::v128_load8x8_s,
    V128Load8x8U: 8 => simd::v128_load8x8_u,
    V128Load16x4S: 8 => simd::v128_load16x4_s,
    V128Load16x4U: 8 => simd::v128_load16x4_u,
    V128Load32x2S: 8 => simd::v128_load32x2_s,
    V128Load32x2U: 8 => simd::v128_load32x2_u,
    V128Load8Splat: 1 => simd::load_splat::<1>,
    V128Load16Splat: 2 => simd::load_splat::<2>,
    V128Load32Splat: 4 => simd::load_splat::<4>,
    V128Load64Splat: 8 => simd::load_splat::<8>,
    V128Load32Zero: 4 => simd::load_zero::<4>,
    V128Load64Zero: 8 => simd::load_zero::<8>,
}

/// `dst = src` with lane `lane` (of `N` bytes) loaded; the offset is in the next word.
macro_rules! load_lanes {
    ($($op:ident: $n:literal,)*) => {
        impl Hot {$(
            pub(super) fn $op(&mut self, dst: Dst, src: Reg, addr: Reg, lane: u8) -> Step {
                let offset = self.offset_word();
                let v = self.v128(src);
                let bytes = self.load::<$n>(addr, offset)?;
                self.set_v128(dst, simd::load_lane::<$n>(v, lane, bytes));
                Ok(())
            }
        )*}
    };
}
load_lanes! {
    V128Load8Lane: 1,
    V128Load16Lane: 2,
    V128Load32Lane: 4,
    V128Load64Lane: 8,
}

/// `mem[addr + offset .. + N] = lane `lane` of val`
macro_rules! store_lanes {
    ($($op:ident: $n:literal,)*) => {
        impl Hot {$(
            pub(super) fn $op(&mut self, addr: Reg, val: Reg, lane: u8, offset: u32) -> Step {
                let bytes = simd::store_lane::<$n>(self.v128(val), lane);
                self.store::<$n>(addr, offset, bytes)?;
                Ok(())
            }
        )*}
    };
}
store_lanes! {
    V128Store8Lane: 1,
    V128Store16Lane: 2,
    V128Store32Lane: 4,
    V128Store64Lane: 8,
}

/// `dst = f(lane `lane` of src)`, a scalar cell.
macro_rules! extracts {
    ($($op:ident: $t:ty, $n:literal, |$x:ident| $e:expr,)*) => {
        impl Hot {$(
            #[inline(always)]
            pub(super) fn $op(&mut self, dst: Dst, src: Reg, lane: u8) -> Step {
                let $x = simd::extract_lane::<$t, $n>(self.v128(src), lane);
                self.set(dst, $e);
                Ok(())
            }
        )*}
    };
}
// Float lanes move as bits, so NaN payloads are kept exactly.
extracts! {
    I8x16ExtractLaneS: i8, 16, |x| x as i32 as u32 as u64,
    I8x16ExtractLaneU: u8, 16, |x| x as u64,
    I16x8ExtractLaneS: i16, 8, |x| x as i32 as u32 as u64,
    I16x8ExtractLaneU: u16, 8, |x| x as u64,
    I32x4ExtractLane: u32, 4, |x| x as u64,
    I64x2ExtractLane: u64, 2, |x| x,
    F32x4ExtractLane: u32, 4, |x| x as u64,
    F64x2ExtractLane: u64, 2, |x| x,
}

/// `dst = a` with lane `lane` replaced by the scalar in `b`.
macro_rules! replaces {
    ($($op:ident: $t:ty, $n:literal,)*) => {
        impl Hot {$(
            #[inline(always)]
            pub(super) fn $op(&mut self, dst: Dst, a: Reg, b: Reg, lane: u8) -> Step {
                let v = simd::replace_lane::<$t, $n>(self.v128(a), lane, self.get(b) as $t);
                self.set_v128(dst, v);
                Ok(())
            }
        )*}
    };
}
replaces! {
    I8x16ReplaceLane: u8, 16,
    I16x8ReplaceLane: u16, 8,
    I32x4ReplaceLane: u32, 4,
    I64x2ReplaceLane: u64, 2,
    F32x4ReplaceLane: u32, 4,
    F64x2ReplaceLane: u64, 2,
}

/// `dst = the scalar in src, in every lane`
macro_rules! splats {
    ($($op:ident: |$c:ident| $e:expr,)*) => {
        impl Hot {$(
            #[inline(always)]
            pub(super) fn $op(&mut self, dst: Dst, src: Reg) -> Step {
                let $c = self.get(src);
                self.set_v128(dst, $e);
                Ok(())
            }
        )*}
    };
}
splats! {
    I8x16Splat: |c| simd::i8x16_splat(c as u8),
    I16x8Splat: |c| simd::i16x8_splat(c as u16),
    I32x4Splat: |c| simd::i32x4_splat(c as u32),
    I64x2Splat: |c| simd::i64x2_splat(c),
    F32x4Splat: |c| simd::i32x4_splat(c as u32),
    F64x2Splat: |c| simd::i64x2_splat(c),
}

/// `dst = f(src)`, lanewise or across lanes.
macro_rules! un {
    ($($op:ident => $f:ident,)*) => {
        impl Hot {$(
            #[inline(always)]
            pub(super) fn $op(&mut self, dst: Dst, src: Reg) -> Step {
                let v = simd::$f(self.v128(src));
                self.set_v128(dst, v);
                Ok(())
            }
        )*}
    };
}
un! {
    V128Not => v128_not,
    I8x16Abs => i8x16_abs,
    I8x16Neg => i8x16_neg,
    I8x16Popcnt => i8x16_popcnt,
    I16x8ExtAddPairwiseI8x16S => i16x8_extadd_pairwise_i8x16_s,
    I16x8ExtAddPairwiseI8x16U => i16x8_extadd_pairwise_i8x16_u,
    I16x8Abs => i16x8_abs,
    I16x8Neg => i16x8_neg,
    I16x8ExtendLowI8x16S => i16x8_extend_low_i8x16_s,
    I16x8ExtendHighI8x16S => i16x8_extend_high_i8x16_s,
    I16x8ExtendLowI8x16U => i16x8_extend_low_i8x16_u,
    I16x8ExtendHighI8x16U => i16x8_extend_high_i8x16_u,
    I32x4ExtAddPairwiseI16x8S => i32x4_extadd_pairwise_i16x8_s,
    I32x4ExtAddPairwiseI16x8U => i32x4_extadd_pairwise_i16x8_u,
    I32x4Abs => i32x4_abs,
    I32x4Neg => i32x4_neg,
    I32x4ExtendLowI16x8S => i32x4_extend_low_i16x8_s,
    I32x4ExtendHighI16x8S => i32x4_extend_high_i16x8_s,
    I32x4ExtendLowI16x8U => i32x4_extend_low_i16x8_u,
    I32x4ExtendHighI16x8U => i32x4_extend_high_i16x8_u,
    I64x2Abs => i64x2_abs,
    I64x2Neg => i64x2_neg,
    I64x2ExtendLowI32x4S => i64x2_extend_low_i32x4_s,
    I64x2ExtendHighI32x4S => i64x2_extend_high_i32x4_s,
    I64x2ExtendLowI32x4U => i64x2_extend_low_i32x4_u,
    I64x2ExtendHighI32x4U => i64x2_extend_high_i32x4_u,
    F32x4Ceil => f32x4_ceil,
    F32x4Floor => f32x4_floor,
    F32x4Trunc => f32x4_trunc,
    F32x4Nearest => f32x4_nearest,
    F32x4Abs => f32x4_abs,
    F32x4Neg => f32x4_neg,
    F32x4Sqrt => f32x4_sqrt,
    F64x2Ceil => f64x2_ceil,
    F64x2Floor => f64x2_floor,
    F64x2Trunc => f64x2_trunc,
    F64x2Nearest => f64x2_nearest,
    F64x2Abs => f64x2_abs,
    F64x2Neg => f64x2_neg,
    F64x2Sqrt => f64x2_sqrt,
    I32x4TruncSatF32x4S => i32x4_trunc_sat_f32x4_s,
    I32x4TruncSatF32x4U => i32x4_trunc_sat_f32x4_u,
    F32x4ConvertI32x4S => f32x4_convert_i32x4_s,
    F32x4ConvertI32x4U => f32x4_convert_i32x4_u,
    I32x4TruncSatF64x2SZero => i32x4_trunc_sat_f64x2_s_zero,
    I32x4TruncSatF64x2UZero => i32x4_trunc_sat_f64x2_u_zero,
    F64x2ConvertLowI32x4S => f64x2_convert_low_i32x4_s,
    F64x2ConvertLowI32x4U => f64x2_convert_low_i32x4_u,
    F32x4DemoteF64x2Zero => f32x4_demote_f64x2_zero,
    F64x2PromoteLowF32x4 => f64x2_promote_low_f32x4,
}

/// `dst = f(src)` as an i32: `any_true`, `all_true`, `bitmask`.
macro_rules! reduce {
    ($($op:ident => $f:ident,)*) => {
        impl Hot {$(
            #[inline(always)]
            pub(super) fn $op(&mut self, dst: Dst, src: Reg) -> Step {
                let r = simd::$f(self.v128(src));
                self.set(dst, r as u64);
                Ok(())
            }
        )*}
    };
}
reduce! {
    V128AnyTrue => v128_any_true,
    I8x16AllTrue => i8x16_all_true,
    I8x16Bitmask => i8x16_bitmask,
    I16x8AllTrue => i16x8_all_true,
    I16x8Bitmask => i16x8_bitmask,
    I32x4AllTrue => i32x4_all_true,
    I32x4Bitmask => i32x4_bitmask,
    I64x2AllTrue => i64x2_all_true,
    I64x2Bitmask => i64x2_bitmask,
}

/// `dst = f(a, b)`
macro_rules! bin {
    ($($op:ident => $f:ident,)*) => {
        impl Hot {$(
            #[inline(always)]
            pub(super) fn $op(&mut self, dst: Dst, a: Reg, b: Reg) -> Step {
                let v = simd::$f(self.v128(a), self.v128(b));
                self.set_v128(dst, v);
                Ok(())
            }
        )*}
    };
}
bin! {
    I16x8RelaxedDotI8x16I7x16S => i16x8_relaxed_dot_i8x16_i7x16_s,
    I8x16Swizzle => i8x16_swizzle,
    I8x16Eq => i8x16_eq,
    I8x16Ne => i8x16_ne,
    I8x16LtS => i8x16_lt_s,
    I8x16LtU => i8x16_lt_u,
    I8x16GtS => i8x16_gt_s,
    I8x16GtU => i8x16_gt_u,
    I8x16LeS => i8x16_le_s,
    I8x16LeU => i8x16_le_u,
    I8x16GeS => i8x16_ge_s,
    I8x16GeU => i8x16_ge_u,
    I16x8Eq => i16x8_eq,
    I16x8Ne => i16x8_ne,
    I16x8LtS => i16x8_lt_s,
    I16x8LtU => i16x8_lt_u,
    I16x8GtS => i16x8_gt_s,
    I16x8GtU => i16x8_gt_u,
    I16x8LeS => i16x8_le_s,
    I16x8LeU => i16x8_le_u,
    I16x8GeS => i16x8_ge_s,
    I16x8GeU => i16x8_ge_u,
    I32x4Eq => i32x4_eq,
    I32x4Ne => i32x4_ne,
    I32x4LtS => i32x4_lt_s,
    I32x4LtU => i32x4_lt_u,
    I32x4GtS => i32x4_gt_s,
    I32x4GtU => i32x4_gt_u,
    I32x4LeS => i32x4_le_s,
    I32x4LeU => i32x4_le_u,
    I32x4GeS => i32x4_ge_s,
    I32x4GeU => i32x4_ge_u,
    I64x2Eq => i64x2_eq,
    I64x2Ne => i64x2_ne,
    I64x2LtS => i64x2_lt_s,
    I64x2GtS => i64x2_gt_s,
    I64x2LeS => i64x2_le_s,
    I64x2GeS => i64x2_ge_s,
    F32x4Eq => f32x4_eq,
    F32x4Ne => f32x4_ne,
    F32x4Lt => f32x4_lt,
    F32x4Gt => f32x4_gt,
    F32x4Le => f32x4_le,
    F32x4Ge => f32x4_ge,
    F64x2Eq => f64x2_eq,
    F64x2Ne => f64x2_ne,
    F64x2Lt => f64x2_lt,
    F64x2Gt => f64x2_gt,
    F64x2Le => f64x2_le,
    F64x2Ge => f64x2_ge,
    V128And => v128_and,
    V128AndNot => v128_andnot,
    V128Or => v128_or,
    V128Xor => v128_xor,
    I8x16NarrowI16x8S => i8x16_narrow_i16x8_s,
    I8x16NarrowI16x8U => i8x16_narrow_i16x8_u,
    I8x16Add => i8x16_add,
    I8x16AddSatS => i8x16_add_sat_s,
    I8x16AddSatU => i8x16_add_sat_u,
    I8x16Sub => i8x16_sub,
    I8x16SubSatS => i8x16_sub_sat_s,
    I8x16SubSatU => i8x16_sub_sat_u,
    I8x16MinS => i8x16_min_s,
    I8x16MinU => i8x16_min_u,
    I8x16MaxS => i8x16_max_s,
    I8x16MaxU => i8x16_max_u,
    I8x16AvgrU => i8x16_avgr_u,
    I16x8Q15MulrSatS => i16x8_q15mulr_sat_s,
    I16x8NarrowI32x4S => i16x8_narrow_i32x4_s,
    I16x8NarrowI32x4U => i16x8_narrow_i32x4_u,
    I16x8Add => i16x8_add,
    I16x8AddSatS => i16x8_add_sat_s,
    I16x8AddSatU => i16x8_add_sat_u,
    I16x8Sub => i16x8_sub,
    I16x8SubSatS => i16x8_sub_sat_s,
    I16x8SubSatU => i16x8_sub_sat_u,
    I16x8Mul => i16x8_mul,
    I16x8MinS => i16x8_min_s,
    I16x8MinU => i16x8_min_u,
    I16x8MaxS => i16x8_max_s,
    I16x8MaxU => i16x8_max_u,
    I16x8AvgrU => i16x8_avgr_u,
    I16x8ExtMulLowI8x16S => i16x8_extmul_low_i8x16_s,
    I16x8ExtMulHighI8x16S => i16x8_extmul_high_i8x16_s,
    I16x8ExtMulLowI8x16U => i16x8_extmul_low_i8x16_u,
    I16x8ExtMulHighI8x16U => i16x8_extmul_high_i8x16_u,
    I32x4Add => i32x4_add,
    I32x4Sub => i32x4_sub,
    I32x4Mul => i32x4_mul,
    I32x4MinS => i32x4_min_s,
    I32x4MinU => i32x4_min_u,
    I32x4MaxS => i32x4_max_s,
    I32x4MaxU => i32x4_max_u,
    I32x4DotI16x8S => i32x4_dot_i16x8_s,
    I32x4ExtMulLowI16x8S => i32x4_extmul_low_i16x8_s,
    I32x4ExtMulHighI16x8S => i32x4_extmul_high_i16x8_s,
    I32x4ExtMulLowI16x8U => i32x4_extmul_low_i16x8_u,
    I32x4ExtMulHighI16x8U => i32x4_extmul_high_i16x8_u,
    I64x2Add => i64x2_add,
    I64x2Sub => i64x2_sub,
    I64x2Mul => i64x2_mul,
    I64x2ExtMulLowI32x4S => i64x2_extmul_low_i32x4_s,
    I64x2ExtMulHighI32x4S => i64x2_extmul_high_i32x4_s,
    I64x2ExtMulLowI32x4U => i64x2_extmul_low_i32x4_u,
    I64x2ExtMulHighI32x4U => i64x2_extmul_high_i32x4_u,
    F32x4Add => f32x4_add,
    F32x4Sub => f32x4_sub,
    F32x4Mul => f32x4_mul,
    F32x4Div => f32x4_div,
    F32x4Min => f32x4_min,
    F32x4Max => f32x4_max,
    F32x4PMin => f32x4_pmin,
    F32x4PMax => f32x4_pmax,
    F64x2Add => f64x2_add,
    F64x2Sub => f64x2_sub,
    F64x2Mul => f64x2_mul,
    F64x2Div => f64x2_div,
    F64x2Min => f64x2_min,
    F64x2Max => f64x2_max,
    F64x2PMin => f64x2_pmin,
    F64x2PMax => f64x2_pmax,
}

/// `dst = a` shifted by the i32 in `b` (modulo the lane width).
macro_rules! shift {
    ($($op:ident => $f:ident,)*) => {
        impl Hot {$(
            #[inline(always)]
            pub(super) fn $op(&mut self, dst: Dst, a: Reg, b: Reg) -> Step {
                let v = simd::$f(self.v128(a), self.get(b) as u32);
                self.set_v128(dst, v);
                Ok(())
            }
        )*}
    };
}
shift! {
    I8x16Shl => i8x16_shl,
    I8x16ShrS => i8x16_shr_s,
    I8x16ShrU => i8x16_shr_u,
    I16x8Shl => i16x8_shl,
    I16x8ShrS => i16x8_shr_s,
    I16x8ShrU => i16x8_shr_u,
    I32x4Shl => i32x4_shl,
    I32x4ShrS => i32x4_shr_s,
    I32x4ShrU => i32x4_shr_u,
    I64x2Shl => i64x2_shl,
    I64x2ShrS => i64x2_shr_s,
    I64x2ShrU => i64x2_shr_u,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The little-endian shortcut of `Hot::v128`/`set_v128` and the explicit per-cell
    /// conversion read and write the same cells (on a big-endian host both are the
    /// explicit path).
    #[test]
    fn simd_regs_agree() {
        let mut cells = [0u64; 6];
        let mut h = Hot::new(
            core::ptr::null(),
            core::ptr::null(),
            cells.as_mut_ptr(),
            core::ptr::null_mut(),
            0,
        );
        let v = V128(core::array::from_fn(|i| 0xa0 + i as u8));
        h.set_v128(Dst(1), v);
        assert_eq!(h.v128_by_cells(Reg(1)), v);
        assert_eq!(h.get(Reg(1)), 0xa7a6_a5a4_a3a2_a1a0);
        assert_eq!(h.get(Reg(2)), 0xafae_adac_abaa_a9a8);
        h.set_v128_by_cells(Dst(3), v);
        assert_eq!(h.v128(Reg(3)), v);
        assert_eq!(
            h.v128(Reg(2)),
            V128::from_cells(0xafae_adac_abaa_a9a8, h.get(Reg(3)))
        );
    }
}
