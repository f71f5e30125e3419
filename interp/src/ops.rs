//! The register bytecode: every opcode is defined once, in [`for_each_op!`].
//!
//! A function's code is a `Box<[Instr]>`. Operands are frame cells (`Reg`, a 16-bit offset
//! from the frame base), immediates, or absolute branch targets (`Target`). From the one
//! table below come:
//!
//! - the [`Instr`] enum (12 bytes per instruction),
//! - the disassembler ([`Instr::mnemonic`], [`Instr`]'s `Display`),
//! - branch-target patching and destination retargeting for the translator,
//! - compare + branch fusion ([`Instr::fuse_branch`]),
//! - and, in `exec`, the executor's match: one arm per family row, and one call to a
//!   handler method of the same name for every row of the `other` family.
//!
//! Families (each row: variant, mnemonic, operand type, semantics):
//!
//! | family        | fields                 | meaning                                  |
//! |---------------|------------------------|------------------------------------------|
//! | `unary`       | `dst, src`             | `dst = f(src)`                           |
//! | `unary_trap`  | `dst, src`             | `dst = f(src)?` (may trap)               |
//! | `binary`      | `dst, a, b`            | `dst = f(a, b)`                          |
//! | `binary_imm`  | `dst, a, imm`          | `dst = f(a, imm)` (imm sign-extended)    |
//! | `binary_trap` | `dst, a, b`            | `dst = f(a, b)?`                         |
//! | `br_cmp`      | `a, b, target`         | `if f(a, b) { goto target }`             |
//! | `br_cmp_imm`  | `a, imm, target`       | `if f(a, imm) { goto target }`           |
//! | `load`        | `dst, addr, offset`    | `dst = f(mem[addr + offset .. + N])`     |
//! | `store`       | `addr, val, offset`    | `mem[addr + offset .. + N] = f(val)`     |
//! | `other`       | as listed              | a handler method in `exec::handlers`     |
//!
//! Rows of `other` marked `hot` only touch registers and the instruction pointer; the
//! executor runs them on its register-resident state. Rows marked `limit` (fuel and epoch
//! checks) get the executor and the hot state, which they write back only on their slow
//! path. The others get the whole executor.
//!
//! The SIMD rows (`v128`) form one block at the end of `other`, before `Data` (which stays
//! the last opcode): handlers in `exec/simd.rs`, lane math in `simd.rs`, translation in
//! `translate/simd.rs`. A `v128` register is two adjacent cells; a `v128.const` or
//! `i8x16.shuffle` is followed by two `V128Imm` words holding its 16 immediate bytes, a
//! `v128.loadN_lane` by a `Data` word holding its memory offset.

use crate::trap::Trap;
use core::fmt;

/// A frame cell read by an instruction: an offset from the frame base.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reg(pub u16);

/// A frame cell written by an instruction.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Dst(pub u16);

/// An absolute branch target: an index into the function's code.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Target(pub u32);

impl From<Dst> for Reg {
    fn from(d: Dst) -> Reg {
        Reg(d.0)
    }
}

/// How an operand type prints and takes part in translator patching.
pub trait Operand: Copy {
    /// Whether this operand type is a branch target (see [`Instr::target`]).
    const IS_TARGET: bool = false;
    /// Whether this operand type is a register, read or written (see [`Instr::map_cells`]).
    const IS_CELL: bool = false;
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
    #[inline(always)]
    fn target_mut(&mut self) -> Option<&mut Target> {
        None
    }
    #[inline(always)]
    fn dst_mut(&mut self) -> Option<&mut Dst> {
        None
    }
    /// The cell number of a register operand (read or written).
    #[inline(always)]
    fn cell_mut(&mut self) -> Option<&mut u16> {
        None
    }
}

impl Operand for Reg {
    const IS_CELL: bool = true;
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
    #[inline(always)]
    fn cell_mut(&mut self) -> Option<&mut u16> {
        Some(&mut self.0)
    }
}
impl Operand for Dst {
    const IS_CELL: bool = true;
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
    #[inline(always)]
    fn dst_mut(&mut self) -> Option<&mut Dst> {
        Some(self)
    }
    #[inline(always)]
    fn cell_mut(&mut self) -> Option<&mut u16> {
        Some(&mut self.0)
    }
}
impl Operand for Target {
    const IS_TARGET: bool = true;
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}", self.0)
    }
    #[inline(always)]
    fn target_mut(&mut self) -> Option<&mut Target> {
        Some(self)
    }
}
macro_rules! plain_operand {
    ($($t:ty),*) => {$(
        impl Operand for $t {
            fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self)
            }
        }
    )*};
}
plain_operand!(u8, u16, u32, i32);

/// Eight immediate bytes (of a `v128` constant or shuffle), in memory order.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImmBytes(pub [u8; 8]);

impl Operand for ImmBytes {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// The table. `$m` is called with every family; see the module docs.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_op {
    ($m:ident) => {
        $m! {
            unary: [
                (I32Eqz, "i32.eqz", i32, |x: i32| x == 0),
                (I64Eqz, "i64.eqz", i64, |x: i64| x == 0),
                (RefIsNull, "ref.is_null", u64, |x: u64| x == 0),
                (I32Clz, "i32.clz", i32, |x: i32| x.leading_zeros() as i32),
                (I32Ctz, "i32.ctz", i32, |x: i32| x.trailing_zeros() as i32),
                (I32Popcnt, "i32.popcnt", i32, |x: i32| x.count_ones() as i32),
                (I64Clz, "i64.clz", i64, |x: i64| x.leading_zeros() as i64),
                (I64Ctz, "i64.ctz", i64, |x: i64| x.trailing_zeros() as i64),
                (I64Popcnt, "i64.popcnt", i64, |x: i64| x.count_ones() as i64),
                (F32Abs, "f32.abs", f32, |x: f32| x.abs()),
                (F32Neg, "f32.neg", f32, |x: f32| -x),
                (F32Ceil, "f32.ceil", f32, |x: f32| $crate::num::ceil32(x)),
                (F32Floor, "f32.floor", f32, |x: f32| $crate::num::floor32(x)),
                (F32Trunc, "f32.trunc", f32, |x: f32| $crate::num::trunc32(x)),
                (F32Nearest, "f32.nearest", f32, |x: f32| $crate::num::nearest32(x)),
                (F32Sqrt, "f32.sqrt", f32, |x: f32| $crate::num::sqrt32(x)),
                (F64Abs, "f64.abs", f64, |x: f64| x.abs()),
                (F64Neg, "f64.neg", f64, |x: f64| -x),
                (F64Ceil, "f64.ceil", f64, |x: f64| $crate::num::ceil64(x)),
                (F64Floor, "f64.floor", f64, |x: f64| $crate::num::floor64(x)),
                (F64Trunc, "f64.trunc", f64, |x: f64| $crate::num::trunc64(x)),
                (F64Nearest, "f64.nearest", f64, |x: f64| $crate::num::nearest64(x)),
                (F64Sqrt, "f64.sqrt", f64, |x: f64| $crate::num::sqrt64(x)),
                (I32WrapI64, "i32.wrap_i64", i64, |x: i64| x as i32),
                (I64ExtendI32S, "i64.extend_i32_s", i32, |x: i32| x as i64),
                (I64ExtendI32U, "i64.extend_i32_u", i32, |x: i32| x as u32 as i64),
                (I32Extend8S, "i32.extend8_s", i32, |x: i32| x as i8 as i32),
                (I32Extend16S, "i32.extend16_s", i32, |x: i32| x as i16 as i32),
                (I64Extend8S, "i64.extend8_s", i64, |x: i64| x as i8 as i64),
                (I64Extend16S, "i64.extend16_s", i64, |x: i64| x as i16 as i64),
                (I64Extend32S, "i64.extend32_s", i64, |x: i64| x as i32 as i64),
                (F32ConvertI32S, "f32.convert_i32_s", i32, |x: i32| x as f32),
                (F32ConvertI32U, "f32.convert_i32_u", i32, |x: i32| x as u32 as f32),
                (F32ConvertI64S, "f32.convert_i64_s", i64, |x: i64| x as f32),
                (F32ConvertI64U, "f32.convert_i64_u", i64, |x: i64| x as u64 as f32),
                (F64ConvertI32S, "f64.convert_i32_s", i32, |x: i32| x as f64),
                (F64ConvertI32U, "f64.convert_i32_u", i32, |x: i32| x as u32 as f64),
                (F64ConvertI64S, "f64.convert_i64_s", i64, |x: i64| x as f64),
                (F64ConvertI64U, "f64.convert_i64_u", i64, |x: i64| x as u64 as f64),
                (F32DemoteF64, "f32.demote_f64", f64, |x: f64| x as f32),
                (F64PromoteF32, "f64.promote_f32", f32, |x: f32| x as f64),
                (I32TruncSatF32S, "i32.trunc_sat_f32_s", f32, |x: f32| x as i32),
                (I32TruncSatF32U, "i32.trunc_sat_f32_u", f32, |x: f32| x as u32 as i32),
                (I32TruncSatF64S, "i32.trunc_sat_f64_s", f64, |x: f64| x as i32),
                (I32TruncSatF64U, "i32.trunc_sat_f64_u", f64, |x: f64| x as u32 as i32),
                (I64TruncSatF32S, "i64.trunc_sat_f32_s", f32, |x: f32| x as i64),
                (I64TruncSatF32U, "i64.trunc_sat_f32_u", f32, |x: f32| x as u64 as i64),
                (I64TruncSatF64S, "i64.trunc_sat_f64_s", f64, |x: f64| x as i64),
                (I64TruncSatF64U, "i64.trunc_sat_f64_u", f64, |x: f64| x as u64 as i64),
            ],
            unary_trap: [
                (I32TruncF32S, "i32.trunc_f32_s", f32, |x: f32| $crate::num::trunc_f32_i32(x)),
                (I32TruncF32U, "i32.trunc_f32_u", f32, |x: f32| $crate::num::trunc_f32_u32(x)),
                (I32TruncF64S, "i32.trunc_f64_s", f64, |x: f64| $crate::num::trunc_f64_i32(x)),
                (I32TruncF64U, "i32.trunc_f64_u", f64, |x: f64| $crate::num::trunc_f64_u32(x)),
                (I64TruncF32S, "i64.trunc_f32_s", f32, |x: f32| $crate::num::trunc_f32_i64(x)),
                (I64TruncF32U, "i64.trunc_f32_u", f32, |x: f32| $crate::num::trunc_f32_u64(x)),
                (I64TruncF64S, "i64.trunc_f64_s", f64, |x: f64| $crate::num::trunc_f64_i64(x)),
                (I64TruncF64U, "i64.trunc_f64_u", f64, |x: f64| $crate::num::trunc_f64_u64(x)),
            ],
            binary: [
                (I32Add, "i32.add", i32, |a: i32, b: i32| a.wrapping_add(b)),
                (I32Sub, "i32.sub", i32, |a: i32, b: i32| a.wrapping_sub(b)),
                (I32Mul, "i32.mul", i32, |a: i32, b: i32| a.wrapping_mul(b)),
                (I32And, "i32.and", i32, |a: i32, b: i32| a & b),
                (I32Or, "i32.or", i32, |a: i32, b: i32| a | b),
                (I32Xor, "i32.xor", i32, |a: i32, b: i32| a ^ b),
                (I32Shl, "i32.shl", i32, |a: i32, b: i32| a.wrapping_shl(b as u32)),
                (I32ShrS, "i32.shr_s", i32, |a: i32, b: i32| a.wrapping_shr(b as u32)),
                (I32ShrU, "i32.shr_u", i32, |a: i32, b: i32| (a as u32).wrapping_shr(b as u32) as i32),
                (I32Rotl, "i32.rotl", i32, |a: i32, b: i32| a.rotate_left(b as u32)),
                (I32Rotr, "i32.rotr", i32, |a: i32, b: i32| a.rotate_right(b as u32)),
                (I64Add, "i64.add", i64, |a: i64, b: i64| a.wrapping_add(b)),
                (I64Sub, "i64.sub", i64, |a: i64, b: i64| a.wrapping_sub(b)),
                (I64Mul, "i64.mul", i64, |a: i64, b: i64| a.wrapping_mul(b)),
                (I64And, "i64.and", i64, |a: i64, b: i64| a & b),
                (I64Or, "i64.or", i64, |a: i64, b: i64| a | b),
                (I64Xor, "i64.xor", i64, |a: i64, b: i64| a ^ b),
                (I64Shl, "i64.shl", i64, |a: i64, b: i64| a.wrapping_shl(b as u32)),
                (I64ShrS, "i64.shr_s", i64, |a: i64, b: i64| a.wrapping_shr(b as u32)),
                (I64ShrU, "i64.shr_u", i64, |a: i64, b: i64| (a as u64).wrapping_shr(b as u32) as i64),
                (I64Rotl, "i64.rotl", i64, |a: i64, b: i64| a.rotate_left(b as u32)),
                (I64Rotr, "i64.rotr", i64, |a: i64, b: i64| a.rotate_right(b as u32)),
                (I32Eq, "i32.eq", i32, |a: i32, b: i32| a == b),
                (I32Ne, "i32.ne", i32, |a: i32, b: i32| a != b),
                (I32LtS, "i32.lt_s", i32, |a: i32, b: i32| a < b),
                (I32LtU, "i32.lt_u", i32, |a: i32, b: i32| (a as u32) < (b as u32)),
                (I32GtS, "i32.gt_s", i32, |a: i32, b: i32| a > b),
                (I32GtU, "i32.gt_u", i32, |a: i32, b: i32| (a as u32) > (b as u32)),
                (I32LeS, "i32.le_s", i32, |a: i32, b: i32| a <= b),
                (I32LeU, "i32.le_u", i32, |a: i32, b: i32| (a as u32) <= (b as u32)),
                (I32GeS, "i32.ge_s", i32, |a: i32, b: i32| a >= b),
                (I32GeU, "i32.ge_u", i32, |a: i32, b: i32| (a as u32) >= (b as u32)),
                (I64Eq, "i64.eq", i64, |a: i64, b: i64| a == b),
                (I64Ne, "i64.ne", i64, |a: i64, b: i64| a != b),
                (I64LtS, "i64.lt_s", i64, |a: i64, b: i64| a < b),
                (I64LtU, "i64.lt_u", i64, |a: i64, b: i64| (a as u64) < (b as u64)),
                (I64GtS, "i64.gt_s", i64, |a: i64, b: i64| a > b),
                (I64GtU, "i64.gt_u", i64, |a: i64, b: i64| (a as u64) > (b as u64)),
                (I64LeS, "i64.le_s", i64, |a: i64, b: i64| a <= b),
                (I64LeU, "i64.le_u", i64, |a: i64, b: i64| (a as u64) <= (b as u64)),
                (I64GeS, "i64.ge_s", i64, |a: i64, b: i64| a >= b),
                (I64GeU, "i64.ge_u", i64, |a: i64, b: i64| (a as u64) >= (b as u64)),
                (F32Eq, "f32.eq", f32, |a: f32, b: f32| a == b),
                (F32Ne, "f32.ne", f32, |a: f32, b: f32| a != b),
                (F32Lt, "f32.lt", f32, |a: f32, b: f32| a < b),
                (F32Gt, "f32.gt", f32, |a: f32, b: f32| a > b),
                (F32Le, "f32.le", f32, |a: f32, b: f32| a <= b),
                (F32Ge, "f32.ge", f32, |a: f32, b: f32| a >= b),
                (F64Eq, "f64.eq", f64, |a: f64, b: f64| a == b),
                (F64Ne, "f64.ne", f64, |a: f64, b: f64| a != b),
                (F64Lt, "f64.lt", f64, |a: f64, b: f64| a < b),
                (F64Gt, "f64.gt", f64, |a: f64, b: f64| a > b),
                (F64Le, "f64.le", f64, |a: f64, b: f64| a <= b),
                (F64Ge, "f64.ge", f64, |a: f64, b: f64| a >= b),
                (F32Add, "f32.add", f32, |a: f32, b: f32| a + b),
                (F32Sub, "f32.sub", f32, |a: f32, b: f32| a - b),
                (F32Mul, "f32.mul", f32, |a: f32, b: f32| a * b),
                (F32Div, "f32.div", f32, |a: f32, b: f32| a / b),
                (F32Min, "f32.min", f32, |a: f32, b: f32| $crate::num::min32(a, b)),
                (F32Max, "f32.max", f32, |a: f32, b: f32| $crate::num::max32(a, b)),
                (F32Copysign, "f32.copysign", f32, |a: f32, b: f32| a.copysign(b)),
                (F64Add, "f64.add", f64, |a: f64, b: f64| a + b),
                (F64Sub, "f64.sub", f64, |a: f64, b: f64| a - b),
                (F64Mul, "f64.mul", f64, |a: f64, b: f64| a * b),
                (F64Div, "f64.div", f64, |a: f64, b: f64| a / b),
                (F64Min, "f64.min", f64, |a: f64, b: f64| $crate::num::min64(a, b)),
                (F64Max, "f64.max", f64, |a: f64, b: f64| $crate::num::max64(a, b)),
                (F64Copysign, "f64.copysign", f64, |a: f64, b: f64| a.copysign(b)),
            ],
            binary_imm: [
                (I32AddImm, "i32.add_imm", i32, |a: i32, b: i32| a.wrapping_add(b)),
                (I32SubImm, "i32.sub_imm", i32, |a: i32, b: i32| a.wrapping_sub(b)),
                (I32MulImm, "i32.mul_imm", i32, |a: i32, b: i32| a.wrapping_mul(b)),
                (I32AndImm, "i32.and_imm", i32, |a: i32, b: i32| a & b),
                (I32OrImm, "i32.or_imm", i32, |a: i32, b: i32| a | b),
                (I32XorImm, "i32.xor_imm", i32, |a: i32, b: i32| a ^ b),
                (I32ShlImm, "i32.shl_imm", i32, |a: i32, b: i32| a.wrapping_shl(b as u32)),
                (I32ShrSImm, "i32.shr_s_imm", i32, |a: i32, b: i32| a.wrapping_shr(b as u32)),
                (I32ShrUImm, "i32.shr_u_imm", i32, |a: i32, b: i32| (a as u32).wrapping_shr(b as u32) as i32),
                (I32RotlImm, "i32.rotl_imm", i32, |a: i32, b: i32| a.rotate_left(b as u32)),
                (I32RotrImm, "i32.rotr_imm", i32, |a: i32, b: i32| a.rotate_right(b as u32)),
                (I64AddImm, "i64.add_imm", i64, |a: i64, b: i64| a.wrapping_add(b)),
                (I64SubImm, "i64.sub_imm", i64, |a: i64, b: i64| a.wrapping_sub(b)),
                (I64MulImm, "i64.mul_imm", i64, |a: i64, b: i64| a.wrapping_mul(b)),
                (I64AndImm, "i64.and_imm", i64, |a: i64, b: i64| a & b),
                (I64OrImm, "i64.or_imm", i64, |a: i64, b: i64| a | b),
                (I64XorImm, "i64.xor_imm", i64, |a: i64, b: i64| a ^ b),
                (I64ShlImm, "i64.shl_imm", i64, |a: i64, b: i64| a.wrapping_shl(b as u32)),
                (I64ShrSImm, "i64.shr_s_imm", i64, |a: i64, b: i64| a.wrapping_shr(b as u32)),
                (I64ShrUImm, "i64.shr_u_imm", i64, |a: i64, b: i64| (a as u64).wrapping_shr(b as u32) as i64),
                (I64RotlImm, "i64.rotl_imm", i64, |a: i64, b: i64| a.rotate_left(b as u32)),
                (I64RotrImm, "i64.rotr_imm", i64, |a: i64, b: i64| a.rotate_right(b as u32)),
                (I32EqImm, "i32.eq_imm", i32, |a: i32, b: i32| a == b),
                (I32NeImm, "i32.ne_imm", i32, |a: i32, b: i32| a != b),
                (I32LtSImm, "i32.lt_s_imm", i32, |a: i32, b: i32| a < b),
                (I32LtUImm, "i32.lt_u_imm", i32, |a: i32, b: i32| (a as u32) < (b as u32)),
                (I32GtSImm, "i32.gt_s_imm", i32, |a: i32, b: i32| a > b),
                (I32GtUImm, "i32.gt_u_imm", i32, |a: i32, b: i32| (a as u32) > (b as u32)),
                (I32LeSImm, "i32.le_s_imm", i32, |a: i32, b: i32| a <= b),
                (I32LeUImm, "i32.le_u_imm", i32, |a: i32, b: i32| (a as u32) <= (b as u32)),
                (I32GeSImm, "i32.ge_s_imm", i32, |a: i32, b: i32| a >= b),
                (I32GeUImm, "i32.ge_u_imm", i32, |a: i32, b: i32| (a as u32) >= (b as u32)),
                (I64EqImm, "i64.eq_imm", i64, |a: i64, b: i64| a == b),
                (I64NeImm, "i64.ne_imm", i64, |a: i64, b: i64| a != b),
                (I64LtSImm, "i64.lt_s_imm", i64, |a: i64, b: i64| a < b),
                (I64LtUImm, "i64.lt_u_imm", i64, |a: i64, b: i64| (a as u64) < (b as u64)),
                (I64GtSImm, "i64.gt_s_imm", i64, |a: i64, b: i64| a > b),
                (I64GtUImm, "i64.gt_u_imm", i64, |a: i64, b: i64| (a as u64) > (b as u64)),
                (I64LeSImm, "i64.le_s_imm", i64, |a: i64, b: i64| a <= b),
                (I64LeUImm, "i64.le_u_imm", i64, |a: i64, b: i64| (a as u64) <= (b as u64)),
                (I64GeSImm, "i64.ge_s_imm", i64, |a: i64, b: i64| a >= b),
                (I64GeUImm, "i64.ge_u_imm", i64, |a: i64, b: i64| (a as u64) >= (b as u64)),
            ],
            binary_trap: [
                (I32DivS, "i32.div_s", i32, |a: i32, b: i32| $crate::num::div_s32(a, b)),
                (I32DivU, "i32.div_u", i32, |a: i32, b: i32| $crate::num::div_u32(a, b)),
                (I32RemS, "i32.rem_s", i32, |a: i32, b: i32| $crate::num::rem_s32(a, b)),
                (I32RemU, "i32.rem_u", i32, |a: i32, b: i32| $crate::num::rem_u32(a, b)),
                (I64DivS, "i64.div_s", i64, |a: i64, b: i64| $crate::num::div_s64(a, b)),
                (I64DivU, "i64.div_u", i64, |a: i64, b: i64| $crate::num::div_u64(a, b)),
                (I64RemS, "i64.rem_s", i64, |a: i64, b: i64| $crate::num::rem_s64(a, b)),
                (I64RemU, "i64.rem_u", i64, |a: i64, b: i64| $crate::num::rem_u64(a, b)),
            ],
            // (branch variant, mnemonic, type, condition, fused from, negation)
            br_cmp: [
                (BrI32Eq, "br.i32.eq", i32, |a: i32, b: i32| a == b, I32Eq, BrI32Ne),
                (BrI32Ne, "br.i32.ne", i32, |a: i32, b: i32| a != b, I32Ne, BrI32Eq),
                (BrI32LtS, "br.i32.lt_s", i32, |a: i32, b: i32| a < b, I32LtS, BrI32GeS),
                (BrI32LtU, "br.i32.lt_u", i32, |a: i32, b: i32| (a as u32) < (b as u32), I32LtU, BrI32GeU),
                (BrI32GtS, "br.i32.gt_s", i32, |a: i32, b: i32| a > b, I32GtS, BrI32LeS),
                (BrI32GtU, "br.i32.gt_u", i32, |a: i32, b: i32| (a as u32) > (b as u32), I32GtU, BrI32LeU),
                (BrI32LeS, "br.i32.le_s", i32, |a: i32, b: i32| a <= b, I32LeS, BrI32GtS),
                (BrI32LeU, "br.i32.le_u", i32, |a: i32, b: i32| (a as u32) <= (b as u32), I32LeU, BrI32GtU),
                (BrI32GeS, "br.i32.ge_s", i32, |a: i32, b: i32| a >= b, I32GeS, BrI32LtS),
                (BrI32GeU, "br.i32.ge_u", i32, |a: i32, b: i32| (a as u32) >= (b as u32), I32GeU, BrI32LtU),
                (BrI64Eq, "br.i64.eq", i64, |a: i64, b: i64| a == b, I64Eq, BrI64Ne),
                (BrI64Ne, "br.i64.ne", i64, |a: i64, b: i64| a != b, I64Ne, BrI64Eq),
                (BrI64LtS, "br.i64.lt_s", i64, |a: i64, b: i64| a < b, I64LtS, BrI64GeS),
                (BrI64LtU, "br.i64.lt_u", i64, |a: i64, b: i64| (a as u64) < (b as u64), I64LtU, BrI64GeU),
                (BrI64GtS, "br.i64.gt_s", i64, |a: i64, b: i64| a > b, I64GtS, BrI64LeS),
                (BrI64GtU, "br.i64.gt_u", i64, |a: i64, b: i64| (a as u64) > (b as u64), I64GtU, BrI64LeU),
                (BrI64LeS, "br.i64.le_s", i64, |a: i64, b: i64| a <= b, I64LeS, BrI64GtS),
                (BrI64LeU, "br.i64.le_u", i64, |a: i64, b: i64| (a as u64) <= (b as u64), I64LeU, BrI64GtU),
                (BrI64GeS, "br.i64.ge_s", i64, |a: i64, b: i64| a >= b, I64GeS, BrI64LtS),
                (BrI64GeU, "br.i64.ge_u", i64, |a: i64, b: i64| (a as u64) >= (b as u64), I64GeU, BrI64LtU),
            ],
            br_cmp_imm: [
                (BrI32EqImm, "br.i32.eq_imm", i32, |a: i32, b: i32| a == b, I32EqImm, BrI32NeImm),
                (BrI32NeImm, "br.i32.ne_imm", i32, |a: i32, b: i32| a != b, I32NeImm, BrI32EqImm),
                (BrI32LtSImm, "br.i32.lt_s_imm", i32, |a: i32, b: i32| a < b, I32LtSImm, BrI32GeSImm),
                (BrI32LtUImm, "br.i32.lt_u_imm", i32, |a: i32, b: i32| (a as u32) < (b as u32), I32LtUImm, BrI32GeUImm),
                (BrI32GtSImm, "br.i32.gt_s_imm", i32, |a: i32, b: i32| a > b, I32GtSImm, BrI32LeSImm),
                (BrI32GtUImm, "br.i32.gt_u_imm", i32, |a: i32, b: i32| (a as u32) > (b as u32), I32GtUImm, BrI32LeUImm),
                (BrI32LeSImm, "br.i32.le_s_imm", i32, |a: i32, b: i32| a <= b, I32LeSImm, BrI32GtSImm),
                (BrI32LeUImm, "br.i32.le_u_imm", i32, |a: i32, b: i32| (a as u32) <= (b as u32), I32LeUImm, BrI32GtUImm),
                (BrI32GeSImm, "br.i32.ge_s_imm", i32, |a: i32, b: i32| a >= b, I32GeSImm, BrI32LtSImm),
                (BrI32GeUImm, "br.i32.ge_u_imm", i32, |a: i32, b: i32| (a as u32) >= (b as u32), I32GeUImm, BrI32LtUImm),
                (BrI64EqImm, "br.i64.eq_imm", i64, |a: i64, b: i64| a == b, I64EqImm, BrI64NeImm),
                (BrI64NeImm, "br.i64.ne_imm", i64, |a: i64, b: i64| a != b, I64NeImm, BrI64EqImm),
                (BrI64LtSImm, "br.i64.lt_s_imm", i64, |a: i64, b: i64| a < b, I64LtSImm, BrI64GeSImm),
                (BrI64LtUImm, "br.i64.lt_u_imm", i64, |a: i64, b: i64| (a as u64) < (b as u64), I64LtUImm, BrI64GeUImm),
                (BrI64GtSImm, "br.i64.gt_s_imm", i64, |a: i64, b: i64| a > b, I64GtSImm, BrI64LeSImm),
                (BrI64GtUImm, "br.i64.gt_u_imm", i64, |a: i64, b: i64| (a as u64) > (b as u64), I64GtUImm, BrI64LeUImm),
                (BrI64LeSImm, "br.i64.le_s_imm", i64, |a: i64, b: i64| a <= b, I64LeSImm, BrI64GtSImm),
                (BrI64LeUImm, "br.i64.le_u_imm", i64, |a: i64, b: i64| (a as u64) <= (b as u64), I64LeUImm, BrI64GtUImm),
                (BrI64GeSImm, "br.i64.ge_s_imm", i64, |a: i64, b: i64| a >= b, I64GeSImm, BrI64LtSImm),
                (BrI64GeUImm, "br.i64.ge_u_imm", i64, |a: i64, b: i64| (a as u64) >= (b as u64), I64GeUImm, BrI64LtUImm),
            ],
            load: [
                (I32Load, "i32.load", 4, |b: [u8; 4]| i32::from_le_bytes(b)),
                (I64Load, "i64.load", 8, |b: [u8; 8]| i64::from_le_bytes(b)),
                (F32Load, "f32.load", 4, |b: [u8; 4]| u32::from_le_bytes(b)),
                (F64Load, "f64.load", 8, |b: [u8; 8]| u64::from_le_bytes(b)),
                (I32Load8S, "i32.load8_s", 1, |b: [u8; 1]| i8::from_le_bytes(b) as i32),
                (I32Load8U, "i32.load8_u", 1, |b: [u8; 1]| b[0] as i32),
                (I32Load16S, "i32.load16_s", 2, |b: [u8; 2]| i16::from_le_bytes(b) as i32),
                (I32Load16U, "i32.load16_u", 2, |b: [u8; 2]| u16::from_le_bytes(b) as i32),
                (I64Load8S, "i64.load8_s", 1, |b: [u8; 1]| i8::from_le_bytes(b) as i64),
                (I64Load8U, "i64.load8_u", 1, |b: [u8; 1]| b[0] as i64),
                (I64Load16S, "i64.load16_s", 2, |b: [u8; 2]| i16::from_le_bytes(b) as i64),
                (I64Load16U, "i64.load16_u", 2, |b: [u8; 2]| u16::from_le_bytes(b) as i64),
                (I64Load32S, "i64.load32_s", 4, |b: [u8; 4]| i32::from_le_bytes(b) as i64),
                (I64Load32U, "i64.load32_u", 4, |b: [u8; 4]| u32::from_le_bytes(b) as i64),
            ],
            store: [
                (I32Store, "i32.store", 4, u32, |v: u32| v.to_le_bytes()),
                (I64Store, "i64.store", 8, u64, |v: u64| v.to_le_bytes()),
                (F32Store, "f32.store", 4, u32, |v: u32| v.to_le_bytes()),
                (F64Store, "f64.store", 8, u64, |v: u64| v.to_le_bytes()),
                (I32Store8, "i32.store8", 1, u32, |v: u32| [v as u8]),
                (I32Store16, "i32.store16", 2, u32, |v: u32| (v as u16).to_le_bytes()),
                (I64Store8, "i64.store8", 1, u64, |v: u64| [v as u8]),
                (I64Store16, "i64.store16", 2, u64, |v: u64| (v as u16).to_le_bytes()),
                (I64Store32, "i64.store32", 4, u64, |v: u64| (v as u32).to_le_bytes()),
            ],
            other: [
                /// Traps with `unreachable`.
                hot (Unreachable, "unreachable", {}),
                /// Copies one cell.
                hot (Copy, "copy", { dst: Dst, src: Reg }),
                /// Writes a 32-bit constant (zero-extended).
                hot (Const32, "const32", { dst: Dst, value: u32 }),
                /// Writes a 64-bit constant.
                hot (Const64, "const64", { dst: Dst, lo: u32, hi: u32 }),
                /// Unconditional jump.
                hot (Br, "br", { target: Target }),
                /// Jumps when the i32 in `cond` is non-zero.
                hot (BrIfNez, "br_if", { cond: Reg, target: Target }),
                /// Jumps when the i32 in `cond` is zero.
                hot (BrIfEqz, "br_if_not", { cond: Reg, target: Target }),
                /// Jumps through the `len + 1` `br` instructions that follow (the last is the default).
                hot (BrTable, "br_table", { index: Reg, len: u32 }),
                /// Returns with no results.
                (Return, "return", {}),
                /// Returns the value in `src` (copied to cell 0 of the frame).
                (Return1, "return1", { src: Reg }),
                /// Returns the `len` values in `start..start+len`.
                (ReturnSpan, "return_span", { start: Reg, len: u32 }),
                /// Calls function `func` of the instance; its frame starts at `base`.
                (Call, "call", { func: u32, base: Reg }),
                /// Calls the function at `index` of table `table`, which must have type `ty`.
                (CallIndirect, "call_indirect", { index: Reg, base: Reg, table: u16, ty: u32 }),
                /// Tail call: the callee's frame, with the arguments at `base` moved to its
                /// start, replaces the current one (no frame is pushed).
                (ReturnCall, "return_call", { func: u32, base: Reg }),
                /// Tail call through table `table` (see `call_indirect`, `return_call`).
                (ReturnCallIndirect, "return_call_indirect", { index: Reg, base: Reg, table: u16, ty: u32 }),
                /// Calls the function reference in `func` (traps on null); its frame starts at `base`.
                (CallRef, "call_ref", { func: Reg, base: Reg }),
                /// Tail call of the function reference in `func` (see `call_ref`, `return_call`).
                (ReturnCallRef, "return_call_ref", { func: Reg, base: Reg }),
                /// `dst = src`, trapping when the reference in `src` is null.
                (RefAsNonNull, "ref.as_non_null", { dst: Dst, src: Reg }),
                /// `dst = if cond != 0 { a } else { b }`
                hot (Select, "select", { dst: Dst, cond: Reg, a: Reg, b: Reg }),
                // Loads and stores at `(addr + imm) mod 2^32` with offset 0: an `i32.add` of a
                // constant fused into the access that consumes its result (handlers in
                // `exec/handlers.rs`). The wrapping add keeps the unfused semantics exactly.
                hot (I32LoadAdd, "i32.load_add", { dst: Dst, addr: Reg, imm: u32 }),
                hot (I64LoadAdd, "i64.load_add", { dst: Dst, addr: Reg, imm: u32 }),
                hot (F32LoadAdd, "f32.load_add", { dst: Dst, addr: Reg, imm: u32 }),
                hot (F64LoadAdd, "f64.load_add", { dst: Dst, addr: Reg, imm: u32 }),
                hot (I32Load8SAdd, "i32.load8_s_add", { dst: Dst, addr: Reg, imm: u32 }),
                hot (I32Load8UAdd, "i32.load8_u_add", { dst: Dst, addr: Reg, imm: u32 }),
                hot (I32Load16SAdd, "i32.load16_s_add", { dst: Dst, addr: Reg, imm: u32 }),
                hot (I32Load16UAdd, "i32.load16_u_add", { dst: Dst, addr: Reg, imm: u32 }),
                hot (I64Load8SAdd, "i64.load8_s_add", { dst: Dst, addr: Reg, imm: u32 }),
                hot (I64Load8UAdd, "i64.load8_u_add", { dst: Dst, addr: Reg, imm: u32 }),
                hot (I64Load16SAdd, "i64.load16_s_add", { dst: Dst, addr: Reg, imm: u32 }),
                hot (I64Load16UAdd, "i64.load16_u_add", { dst: Dst, addr: Reg, imm: u32 }),
                hot (I64Load32SAdd, "i64.load32_s_add", { dst: Dst, addr: Reg, imm: u32 }),
                hot (I64Load32UAdd, "i64.load32_u_add", { dst: Dst, addr: Reg, imm: u32 }),
                hot (I32StoreAdd, "i32.store_add", { addr: Reg, val: Reg, imm: u32 }),
                hot (I64StoreAdd, "i64.store_add", { addr: Reg, val: Reg, imm: u32 }),
                hot (F32StoreAdd, "f32.store_add", { addr: Reg, val: Reg, imm: u32 }),
                hot (F64StoreAdd, "f64.store_add", { addr: Reg, val: Reg, imm: u32 }),
                hot (I32Store8Add, "i32.store8_add", { addr: Reg, val: Reg, imm: u32 }),
                hot (I32Store16Add, "i32.store16_add", { addr: Reg, val: Reg, imm: u32 }),
                hot (I64Store8Add, "i64.store8_add", { addr: Reg, val: Reg, imm: u32 }),
                hot (I64Store16Add, "i64.store16_add", { addr: Reg, val: Reg, imm: u32 }),
                hot (I64Store32Add, "i64.store32_add", { addr: Reg, val: Reg, imm: u32 }),
                (GlobalGet, "global.get", { dst: Dst, global: u32 }),
                (GlobalSet, "global.set", { src: Reg, global: u32 }),
                // Memory rows name their memory; addresses, sizes and lengths are `i64` for
                // a 64-bit memory (the handlers read them by the memory's index type).
                (MemorySize, "memory.size", { dst: Dst, mem: u32 }),
                (MemoryGrow, "memory.grow", { dst: Dst, delta: Reg, mem: u32 }),
                (MemoryFill, "memory.fill", { dst: Reg, val: Reg, len: Reg, mem: u16 }),
                /// Followed by a `Data` word: `a` = destination memory, `b` = source memory.
                (MemoryCopy, "memory.copy", { dst: Reg, src: Reg, len: Reg }),
                /// Followed by a `Data` word: `a` = memory.
                (MemoryInit, "memory.init", { dst: Reg, src: Reg, len: Reg, seg: u32 }),
                /// Makes memory `mem` of the instance the one that the next load or store
                /// (and `addr64`) accesses. The translator brackets an access to a memory
                /// other than 0 with `use_mem mem` and `use_mem 0`, with nothing else
                /// between them.
                (UseMem, "use_mem", { mem: u32 }),
                /// The address of an access to a 64-bit memory: `dst = addr + offset`, which
                /// must be at most `u32::MAX` (memories are at most 4 GiB, so anything
                /// larger is out of bounds: traps). The access follows with offset 0 and
                /// checks its size against the memory as usual.
                hot (Addr64, "addr64", { dst: Dst, addr: Reg, offset: u32 }),
                /// `dst = min(src, u32::MAX)`: an `i64` element index of a 64-bit table as
                /// the `i32` one `call_indirect` reads (tables hold fewer than `u32::MAX`
                /// elements, so a clamped index is out of bounds as the original was).
                hot (Clamp32, "clamp32", { dst: Dst, src: Reg }),
                (DataDrop, "data.drop", { seg: u32 }),
                (TableGet, "table.get", { dst: Dst, index: Reg, table: u32 }),
                (TableSet, "table.set", { index: Reg, val: Reg, table: u32 }),
                (TableSize, "table.size", { dst: Dst, table: u32 }),
                (TableGrow, "table.grow", { dst: Dst, init: Reg, delta: Reg, table: u16 }),
                (TableFill, "table.fill", { dst: Reg, val: Reg, len: Reg, table: u16 }),
                /// Followed by a `Data` word: `a` = destination table, `b` = source table.
                (TableCopy, "table.copy", { dst: Reg, src: Reg, len: Reg }),
                /// Followed by a `Data` word: `a` = table, `b` = element segment.
                (TableInit, "table.init", { dst: Reg, src: Reg, len: Reg }),
                (ElemDrop, "elem.drop", { seg: u32 }),
                /// The head of a loop, emitted when the engine tiers up (`jit_threshold`
                /// above 0): each iteration counts toward the function's compilation, and
                /// once it has native code the loop continues there from this point (loop
                /// on-stack replacement). Native code treats it as an entry point.
                (LoopHeader, "loop_header", {}),
                (RefFunc, "ref.func", { dst: Dst, func: u32 }),
                /// Throws a new exception of tag `tag` (module index) whose payload is in
                /// the cells from `base` (exception handling; see `exn`).
                (Throw, "throw", { tag: u32, base: Reg }),
                /// Rethrows the exception in `exn` (traps on null).
                (ThrowRef, "throw_ref", { exn: Reg }),
                // ---- SIMD (v128): handlers in `exec/simd.rs`, lane math in `simd.rs` ----
                // A `v128` register is two adjacent cells (bytes 0..8, then 8..16), and
                // every handler reads all its operands before it writes `dst`. Fields are
                // ordered to fit 12 bytes under `repr(u16)` (no reordering).
                /// Copies a `v128` (two cells).
                hot (V128Copy, "v128.copy", { dst: Dst, src: Reg }),
                /// Operand word of the instruction before it: 8 immediate bytes; never executed.
                (V128Imm, "v128.imm", { bytes: $crate::ops::ImmBytes }),
                /// `dst = if cond != 0 { a } else { b }` over `v128`s.
                hot (V128Select, "v128.select", { dst: Dst, cond: Reg, a: Reg, b: Reg }),
                (V128GlobalGet, "v128.global.get", { dst: Dst, global: u32 }),
                (V128GlobalSet, "v128.global.set", { src: Reg, global: u32 }),
                /// Followed by two `V128Imm` words: the 16 bytes of the constant.
                hot (V128Const, "v128.const", { dst: Dst }),
                hot (V128Load, "v128.load", { dst: Dst, addr: Reg, offset: u32 }),
                hot (V128Load8x8S, "v128.load8x8_s", { dst: Dst, addr: Reg, offset: u32 }),
                hot (V128Load8x8U, "v128.load8x8_u", { dst: Dst, addr: Reg, offset: u32 }),
                hot (V128Load16x4S, "v128.load16x4_s", { dst: Dst, addr: Reg, offset: u32 }),
                hot (V128Load16x4U, "v128.load16x4_u", { dst: Dst, addr: Reg, offset: u32 }),
                hot (V128Load32x2S, "v128.load32x2_s", { dst: Dst, addr: Reg, offset: u32 }),
                hot (V128Load32x2U, "v128.load32x2_u", { dst: Dst, addr: Reg, offset: u32 }),
                hot (V128Load8Splat, "v128.load8_splat", { dst: Dst, addr: Reg, offset: u32 }),
                hot (V128Load16Splat, "v128.load16_splat", { dst: Dst, addr: Reg, offset: u32 }),
                hot (V128Load32Splat, "v128.load32_splat", { dst: Dst, addr: Reg, offset: u32 }),
                hot (V128Load64Splat, "v128.load64_splat", { dst: Dst, addr: Reg, offset: u32 }),
                hot (V128Load32Zero, "v128.load32_zero", { dst: Dst, addr: Reg, offset: u32 }),
                hot (V128Load64Zero, "v128.load64_zero", { dst: Dst, addr: Reg, offset: u32 }),
                hot (V128Store, "v128.store", { addr: Reg, val: Reg, offset: u32 }),
                /// `dst` = `src` with one lane loaded from memory. Followed by a `Data` word whose
                /// `a` is the memory offset.
                hot (V128Load8Lane, "v128.load8_lane", { dst: Dst, src: Reg, addr: Reg, lane: u8 }),
                /// `dst` = `src` with one lane loaded from memory. Followed by a `Data` word whose
                /// `a` is the memory offset.
                hot (V128Load16Lane, "v128.load16_lane", { dst: Dst, src: Reg, addr: Reg, lane: u8 }),
                /// `dst` = `src` with one lane loaded from memory. Followed by a `Data` word whose
                /// `a` is the memory offset.
                hot (V128Load32Lane, "v128.load32_lane", { dst: Dst, src: Reg, addr: Reg, lane: u8 }),
                /// `dst` = `src` with one lane loaded from memory. Followed by a `Data` word whose
                /// `a` is the memory offset.
                hot (V128Load64Lane, "v128.load64_lane", { dst: Dst, src: Reg, addr: Reg, lane: u8 }),
                hot (V128Store8Lane, "v128.store8_lane", { addr: Reg, val: Reg, lane: u8, offset: u32 }),
                hot (V128Store16Lane, "v128.store16_lane", { addr: Reg, val: Reg, lane: u8, offset: u32 }),
                hot (V128Store32Lane, "v128.store32_lane", { addr: Reg, val: Reg, lane: u8, offset: u32 }),
                hot (V128Store64Lane, "v128.store64_lane", { addr: Reg, val: Reg, lane: u8, offset: u32 }),
                /// Followed by two `V128Imm` words: the 16 lane indices.
                hot (I8x16Shuffle, "i8x16.shuffle", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16ExtractLaneS, "i8x16.extract_lane_s", { dst: Dst, src: Reg, lane: u8 }),
                hot (I8x16ExtractLaneU, "i8x16.extract_lane_u", { dst: Dst, src: Reg, lane: u8 }),
                hot (I16x8ExtractLaneS, "i16x8.extract_lane_s", { dst: Dst, src: Reg, lane: u8 }),
                hot (I16x8ExtractLaneU, "i16x8.extract_lane_u", { dst: Dst, src: Reg, lane: u8 }),
                hot (I32x4ExtractLane, "i32x4.extract_lane", { dst: Dst, src: Reg, lane: u8 }),
                hot (I64x2ExtractLane, "i64x2.extract_lane", { dst: Dst, src: Reg, lane: u8 }),
                hot (F32x4ExtractLane, "f32x4.extract_lane", { dst: Dst, src: Reg, lane: u8 }),
                hot (F64x2ExtractLane, "f64x2.extract_lane", { dst: Dst, src: Reg, lane: u8 }),
                hot (I8x16ReplaceLane, "i8x16.replace_lane", { dst: Dst, a: Reg, b: Reg, lane: u8 }),
                hot (I16x8ReplaceLane, "i16x8.replace_lane", { dst: Dst, a: Reg, b: Reg, lane: u8 }),
                hot (I32x4ReplaceLane, "i32x4.replace_lane", { dst: Dst, a: Reg, b: Reg, lane: u8 }),
                hot (I64x2ReplaceLane, "i64x2.replace_lane", { dst: Dst, a: Reg, b: Reg, lane: u8 }),
                hot (F32x4ReplaceLane, "f32x4.replace_lane", { dst: Dst, a: Reg, b: Reg, lane: u8 }),
                hot (F64x2ReplaceLane, "f64x2.replace_lane", { dst: Dst, a: Reg, b: Reg, lane: u8 }),
                hot (I8x16Splat, "i8x16.splat", { dst: Dst, src: Reg }),
                hot (I16x8Splat, "i16x8.splat", { dst: Dst, src: Reg }),
                hot (I32x4Splat, "i32x4.splat", { dst: Dst, src: Reg }),
                hot (I64x2Splat, "i64x2.splat", { dst: Dst, src: Reg }),
                hot (F32x4Splat, "f32x4.splat", { dst: Dst, src: Reg }),
                hot (F64x2Splat, "f64x2.splat", { dst: Dst, src: Reg }),
                hot (V128AnyTrue, "v128.any_true", { dst: Dst, src: Reg }),
                hot (I8x16AllTrue, "i8x16.all_true", { dst: Dst, src: Reg }),
                hot (I8x16Bitmask, "i8x16.bitmask", { dst: Dst, src: Reg }),
                hot (I16x8AllTrue, "i16x8.all_true", { dst: Dst, src: Reg }),
                hot (I16x8Bitmask, "i16x8.bitmask", { dst: Dst, src: Reg }),
                hot (I32x4AllTrue, "i32x4.all_true", { dst: Dst, src: Reg }),
                hot (I32x4Bitmask, "i32x4.bitmask", { dst: Dst, src: Reg }),
                hot (I64x2AllTrue, "i64x2.all_true", { dst: Dst, src: Reg }),
                hot (I64x2Bitmask, "i64x2.bitmask", { dst: Dst, src: Reg }),
                hot (V128Not, "v128.not", { dst: Dst, src: Reg }),
                hot (I8x16Abs, "i8x16.abs", { dst: Dst, src: Reg }),
                hot (I8x16Neg, "i8x16.neg", { dst: Dst, src: Reg }),
                hot (I8x16Popcnt, "i8x16.popcnt", { dst: Dst, src: Reg }),
                hot (I16x8ExtAddPairwiseI8x16S, "i16x8.extadd_pairwise_i8x16_s", { dst: Dst, src: Reg }),
                hot (I16x8ExtAddPairwiseI8x16U, "i16x8.extadd_pairwise_i8x16_u", { dst: Dst, src: Reg }),
                hot (I16x8Abs, "i16x8.abs", { dst: Dst, src: Reg }),
                hot (I16x8Neg, "i16x8.neg", { dst: Dst, src: Reg }),
                hot (I16x8ExtendLowI8x16S, "i16x8.extend_low_i8x16_s", { dst: Dst, src: Reg }),
                hot (I16x8ExtendHighI8x16S, "i16x8.extend_high_i8x16_s", { dst: Dst, src: Reg }),
                hot (I16x8ExtendLowI8x16U, "i16x8.extend_low_i8x16_u", { dst: Dst, src: Reg }),
                hot (I16x8ExtendHighI8x16U, "i16x8.extend_high_i8x16_u", { dst: Dst, src: Reg }),
                hot (I32x4ExtAddPairwiseI16x8S, "i32x4.extadd_pairwise_i16x8_s", { dst: Dst, src: Reg }),
                hot (I32x4ExtAddPairwiseI16x8U, "i32x4.extadd_pairwise_i16x8_u", { dst: Dst, src: Reg }),
                hot (I32x4Abs, "i32x4.abs", { dst: Dst, src: Reg }),
                hot (I32x4Neg, "i32x4.neg", { dst: Dst, src: Reg }),
                hot (I32x4ExtendLowI16x8S, "i32x4.extend_low_i16x8_s", { dst: Dst, src: Reg }),
                hot (I32x4ExtendHighI16x8S, "i32x4.extend_high_i16x8_s", { dst: Dst, src: Reg }),
                hot (I32x4ExtendLowI16x8U, "i32x4.extend_low_i16x8_u", { dst: Dst, src: Reg }),
                hot (I32x4ExtendHighI16x8U, "i32x4.extend_high_i16x8_u", { dst: Dst, src: Reg }),
                hot (I64x2Abs, "i64x2.abs", { dst: Dst, src: Reg }),
                hot (I64x2Neg, "i64x2.neg", { dst: Dst, src: Reg }),
                hot (I64x2ExtendLowI32x4S, "i64x2.extend_low_i32x4_s", { dst: Dst, src: Reg }),
                hot (I64x2ExtendHighI32x4S, "i64x2.extend_high_i32x4_s", { dst: Dst, src: Reg }),
                hot (I64x2ExtendLowI32x4U, "i64x2.extend_low_i32x4_u", { dst: Dst, src: Reg }),
                hot (I64x2ExtendHighI32x4U, "i64x2.extend_high_i32x4_u", { dst: Dst, src: Reg }),
                hot (F32x4Ceil, "f32x4.ceil", { dst: Dst, src: Reg }),
                hot (F32x4Floor, "f32x4.floor", { dst: Dst, src: Reg }),
                hot (F32x4Trunc, "f32x4.trunc", { dst: Dst, src: Reg }),
                hot (F32x4Nearest, "f32x4.nearest", { dst: Dst, src: Reg }),
                hot (F32x4Abs, "f32x4.abs", { dst: Dst, src: Reg }),
                hot (F32x4Neg, "f32x4.neg", { dst: Dst, src: Reg }),
                hot (F32x4Sqrt, "f32x4.sqrt", { dst: Dst, src: Reg }),
                hot (F64x2Ceil, "f64x2.ceil", { dst: Dst, src: Reg }),
                hot (F64x2Floor, "f64x2.floor", { dst: Dst, src: Reg }),
                hot (F64x2Trunc, "f64x2.trunc", { dst: Dst, src: Reg }),
                hot (F64x2Nearest, "f64x2.nearest", { dst: Dst, src: Reg }),
                hot (F64x2Abs, "f64x2.abs", { dst: Dst, src: Reg }),
                hot (F64x2Neg, "f64x2.neg", { dst: Dst, src: Reg }),
                hot (F64x2Sqrt, "f64x2.sqrt", { dst: Dst, src: Reg }),
                hot (I32x4TruncSatF32x4S, "i32x4.trunc_sat_f32x4_s", { dst: Dst, src: Reg }),
                hot (I32x4TruncSatF32x4U, "i32x4.trunc_sat_f32x4_u", { dst: Dst, src: Reg }),
                hot (F32x4ConvertI32x4S, "f32x4.convert_i32x4_s", { dst: Dst, src: Reg }),
                hot (F32x4ConvertI32x4U, "f32x4.convert_i32x4_u", { dst: Dst, src: Reg }),
                hot (I32x4TruncSatF64x2SZero, "i32x4.trunc_sat_f64x2_s_zero", { dst: Dst, src: Reg }),
                hot (I32x4TruncSatF64x2UZero, "i32x4.trunc_sat_f64x2_u_zero", { dst: Dst, src: Reg }),
                hot (F64x2ConvertLowI32x4S, "f64x2.convert_low_i32x4_s", { dst: Dst, src: Reg }),
                hot (F64x2ConvertLowI32x4U, "f64x2.convert_low_i32x4_u", { dst: Dst, src: Reg }),
                hot (F32x4DemoteF64x2Zero, "f32x4.demote_f64x2_zero", { dst: Dst, src: Reg }),
                hot (F64x2PromoteLowF32x4, "f64x2.promote_low_f32x4", { dst: Dst, src: Reg }),
                hot (I8x16Swizzle, "i8x16.swizzle", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16Eq, "i8x16.eq", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16Ne, "i8x16.ne", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16LtS, "i8x16.lt_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16LtU, "i8x16.lt_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16GtS, "i8x16.gt_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16GtU, "i8x16.gt_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16LeS, "i8x16.le_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16LeU, "i8x16.le_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16GeS, "i8x16.ge_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16GeU, "i8x16.ge_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8Eq, "i16x8.eq", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8Ne, "i16x8.ne", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8LtS, "i16x8.lt_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8LtU, "i16x8.lt_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8GtS, "i16x8.gt_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8GtU, "i16x8.gt_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8LeS, "i16x8.le_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8LeU, "i16x8.le_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8GeS, "i16x8.ge_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8GeU, "i16x8.ge_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I32x4Eq, "i32x4.eq", { dst: Dst, a: Reg, b: Reg }),
                hot (I32x4Ne, "i32x4.ne", { dst: Dst, a: Reg, b: Reg }),
                hot (I32x4LtS, "i32x4.lt_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I32x4LtU, "i32x4.lt_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I32x4GtS, "i32x4.gt_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I32x4GtU, "i32x4.gt_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I32x4LeS, "i32x4.le_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I32x4LeU, "i32x4.le_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I32x4GeS, "i32x4.ge_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I32x4GeU, "i32x4.ge_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I64x2Eq, "i64x2.eq", { dst: Dst, a: Reg, b: Reg }),
                hot (I64x2Ne, "i64x2.ne", { dst: Dst, a: Reg, b: Reg }),
                hot (I64x2LtS, "i64x2.lt_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I64x2GtS, "i64x2.gt_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I64x2LeS, "i64x2.le_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I64x2GeS, "i64x2.ge_s", { dst: Dst, a: Reg, b: Reg }),
                hot (F32x4Eq, "f32x4.eq", { dst: Dst, a: Reg, b: Reg }),
                hot (F32x4Ne, "f32x4.ne", { dst: Dst, a: Reg, b: Reg }),
                hot (F32x4Lt, "f32x4.lt", { dst: Dst, a: Reg, b: Reg }),
                hot (F32x4Gt, "f32x4.gt", { dst: Dst, a: Reg, b: Reg }),
                hot (F32x4Le, "f32x4.le", { dst: Dst, a: Reg, b: Reg }),
                hot (F32x4Ge, "f32x4.ge", { dst: Dst, a: Reg, b: Reg }),
                hot (F64x2Eq, "f64x2.eq", { dst: Dst, a: Reg, b: Reg }),
                hot (F64x2Ne, "f64x2.ne", { dst: Dst, a: Reg, b: Reg }),
                hot (F64x2Lt, "f64x2.lt", { dst: Dst, a: Reg, b: Reg }),
                hot (F64x2Gt, "f64x2.gt", { dst: Dst, a: Reg, b: Reg }),
                hot (F64x2Le, "f64x2.le", { dst: Dst, a: Reg, b: Reg }),
                hot (F64x2Ge, "f64x2.ge", { dst: Dst, a: Reg, b: Reg }),
                hot (V128And, "v128.and", { dst: Dst, a: Reg, b: Reg }),
                hot (V128AndNot, "v128.andnot", { dst: Dst, a: Reg, b: Reg }),
                hot (V128Or, "v128.or", { dst: Dst, a: Reg, b: Reg }),
                hot (V128Xor, "v128.xor", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16NarrowI16x8S, "i8x16.narrow_i16x8_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16NarrowI16x8U, "i8x16.narrow_i16x8_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16Add, "i8x16.add", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16AddSatS, "i8x16.add_sat_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16AddSatU, "i8x16.add_sat_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16Sub, "i8x16.sub", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16SubSatS, "i8x16.sub_sat_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16SubSatU, "i8x16.sub_sat_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16MinS, "i8x16.min_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16MinU, "i8x16.min_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16MaxS, "i8x16.max_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16MaxU, "i8x16.max_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16AvgrU, "i8x16.avgr_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8Q15MulrSatS, "i16x8.q15mulr_sat_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8NarrowI32x4S, "i16x8.narrow_i32x4_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8NarrowI32x4U, "i16x8.narrow_i32x4_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8Add, "i16x8.add", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8AddSatS, "i16x8.add_sat_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8AddSatU, "i16x8.add_sat_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8Sub, "i16x8.sub", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8SubSatS, "i16x8.sub_sat_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8SubSatU, "i16x8.sub_sat_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8Mul, "i16x8.mul", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8MinS, "i16x8.min_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8MinU, "i16x8.min_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8MaxS, "i16x8.max_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8MaxU, "i16x8.max_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8AvgrU, "i16x8.avgr_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8ExtMulLowI8x16S, "i16x8.extmul_low_i8x16_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8ExtMulHighI8x16S, "i16x8.extmul_high_i8x16_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8ExtMulLowI8x16U, "i16x8.extmul_low_i8x16_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8ExtMulHighI8x16U, "i16x8.extmul_high_i8x16_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I32x4Add, "i32x4.add", { dst: Dst, a: Reg, b: Reg }),
                hot (I32x4Sub, "i32x4.sub", { dst: Dst, a: Reg, b: Reg }),
                hot (I32x4Mul, "i32x4.mul", { dst: Dst, a: Reg, b: Reg }),
                hot (I32x4MinS, "i32x4.min_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I32x4MinU, "i32x4.min_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I32x4MaxS, "i32x4.max_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I32x4MaxU, "i32x4.max_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I32x4DotI16x8S, "i32x4.dot_i16x8_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I32x4ExtMulLowI16x8S, "i32x4.extmul_low_i16x8_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I32x4ExtMulHighI16x8S, "i32x4.extmul_high_i16x8_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I32x4ExtMulLowI16x8U, "i32x4.extmul_low_i16x8_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I32x4ExtMulHighI16x8U, "i32x4.extmul_high_i16x8_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I64x2Add, "i64x2.add", { dst: Dst, a: Reg, b: Reg }),
                hot (I64x2Sub, "i64x2.sub", { dst: Dst, a: Reg, b: Reg }),
                hot (I64x2Mul, "i64x2.mul", { dst: Dst, a: Reg, b: Reg }),
                hot (I64x2ExtMulLowI32x4S, "i64x2.extmul_low_i32x4_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I64x2ExtMulHighI32x4S, "i64x2.extmul_high_i32x4_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I64x2ExtMulLowI32x4U, "i64x2.extmul_low_i32x4_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I64x2ExtMulHighI32x4U, "i64x2.extmul_high_i32x4_u", { dst: Dst, a: Reg, b: Reg }),
                hot (F32x4Add, "f32x4.add", { dst: Dst, a: Reg, b: Reg }),
                hot (F32x4Sub, "f32x4.sub", { dst: Dst, a: Reg, b: Reg }),
                hot (F32x4Mul, "f32x4.mul", { dst: Dst, a: Reg, b: Reg }),
                hot (F32x4Div, "f32x4.div", { dst: Dst, a: Reg, b: Reg }),
                hot (F32x4Min, "f32x4.min", { dst: Dst, a: Reg, b: Reg }),
                hot (F32x4Max, "f32x4.max", { dst: Dst, a: Reg, b: Reg }),
                hot (F32x4PMin, "f32x4.pmin", { dst: Dst, a: Reg, b: Reg }),
                hot (F32x4PMax, "f32x4.pmax", { dst: Dst, a: Reg, b: Reg }),
                hot (F64x2Add, "f64x2.add", { dst: Dst, a: Reg, b: Reg }),
                hot (F64x2Sub, "f64x2.sub", { dst: Dst, a: Reg, b: Reg }),
                hot (F64x2Mul, "f64x2.mul", { dst: Dst, a: Reg, b: Reg }),
                hot (F64x2Div, "f64x2.div", { dst: Dst, a: Reg, b: Reg }),
                hot (F64x2Min, "f64x2.min", { dst: Dst, a: Reg, b: Reg }),
                hot (F64x2Max, "f64x2.max", { dst: Dst, a: Reg, b: Reg }),
                hot (F64x2PMin, "f64x2.pmin", { dst: Dst, a: Reg, b: Reg }),
                hot (F64x2PMax, "f64x2.pmax", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16Shl, "i8x16.shl", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16ShrS, "i8x16.shr_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I8x16ShrU, "i8x16.shr_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8Shl, "i16x8.shl", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8ShrS, "i16x8.shr_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I16x8ShrU, "i16x8.shr_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I32x4Shl, "i32x4.shl", { dst: Dst, a: Reg, b: Reg }),
                hot (I32x4ShrS, "i32x4.shr_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I32x4ShrU, "i32x4.shr_u", { dst: Dst, a: Reg, b: Reg }),
                hot (I64x2Shl, "i64x2.shl", { dst: Dst, a: Reg, b: Reg }),
                hot (I64x2ShrS, "i64x2.shr_s", { dst: Dst, a: Reg, b: Reg }),
                hot (I64x2ShrU, "i64x2.shr_u", { dst: Dst, a: Reg, b: Reg }),
                hot (V128Bitselect, "v128.bitselect", { dst: Dst, a: Reg, b: Reg, c: Reg }),
                // Relaxed SIMD (Wasm 3.0) rows that have no 2.0 twin; the others translate to
                // the 2.0 instruction whose result is in the allowed set (see
                // `translate/simd.rs`). Results are deterministic on every host.
                /// `a * b + c` per lane, rounded after the multiply and after the add.
                hot (F32x4RelaxedMadd, "f32x4.relaxed_madd", { dst: Dst, a: Reg, b: Reg, c: Reg }),
                /// `-(a * b) + c` per lane, rounded twice.
                hot (F32x4RelaxedNmadd, "f32x4.relaxed_nmadd", { dst: Dst, a: Reg, b: Reg, c: Reg }),
                hot (F64x2RelaxedMadd, "f64x2.relaxed_madd", { dst: Dst, a: Reg, b: Reg, c: Reg }),
                hot (F64x2RelaxedNmadd, "f64x2.relaxed_nmadd", { dst: Dst, a: Reg, b: Reg, c: Reg }),
                /// Pairwise sums of signed `i8 * i8` products, saturated to `i16`.
                hot (I16x8RelaxedDotI8x16I7x16S, "i16x8.relaxed_dot_i8x16_i7x16_s", { dst: Dst, a: Reg, b: Reg }),
                /// Sums of four signed `i8 * i8` products, plus the `i32` lane of `c` (wrapping).
                hot (I32x4RelaxedDotI8x16I7x16AddS, "i32x4.relaxed_dot_i8x16_i7x16_add_s", { dst: Dst, a: Reg, b: Reg, c: Reg }),
                // ---- Limits: handlers in `exec/limits.rs`; emitted only when the engine's
                // config enables fuel or epochs (see `limits.rs` for the rules). Rows marked
                // `limit` run on the executor and the hot state without writing it back.
                /// Charges `amount` fuel for the block that starts here; traps (charging
                /// nothing) if less is left.
                limit (ConsumeFuel, "consume_fuel", { amount: u32 }),
                /// Stops at the store's epoch deadline (trap or callback).
                limit (CheckEpoch, "check_epoch", {}),
                /// `check_epoch` then `consume_fuel amount`, in one dispatch (function entries
                /// and loop headers when both are enabled).
                limit (FuelEpoch, "check_epoch_consume_fuel", { amount: u32 }),
                /// Operand word of the instruction before it; never executed.
                (Data, "data", { a: u32, b: u32 }),
            ],
        }
    };
}

/// The register-operand offsets of a field list's types (see [`Instr::map_cells`]).
macro_rules! cells_of {
    ($($t:ty),* $(,)?) => {
        select_offsets(
            field_offsets(&[$((size_of::<$t>(), align_of::<$t>())),*]),
            &[$(<$t as Operand>::IS_CELL),*],
        )
    };
}

macro_rules! define_instr {
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
        /// One register-bytecode instruction. See the module docs for the families.
        ///
        /// `repr(u16)`: the first two bytes are the opcode, numbered in table order, which
        /// is what the threaded dispatcher indexes its handler table with.
        #[derive(Copy, Clone, Debug, PartialEq)]
        #[repr(u16)]
        pub enum Instr {
            $($un { dst: Dst, src: Reg },)*
            $($ut { dst: Dst, src: Reg },)*
            $($bn { dst: Dst, a: Reg, b: Reg },)*
            $($bi { dst: Dst, a: Reg, imm: i32 },)*
            $($bt { dst: Dst, a: Reg, b: Reg },)*
            $($bc { a: Reg, b: Reg, target: Target },)*
            $($bci { a: Reg, imm: i32, target: Target },)*
            $($ld { dst: Dst, addr: Reg, offset: u32 },)*
            $($st { addr: Reg, val: Reg, offset: u32 },)*
            $($(#[doc = $doc])* $ot { $($of: $oft),* },)*
        }

        impl Instr {
            /// The instruction's name as the disassembler prints it.
            pub fn mnemonic(&self) -> &'static str {
                match self {
                    $(Instr::$un { .. } => $unm,)*
                    $(Instr::$ut { .. } => $utm,)*
                    $(Instr::$bn { .. } => $bnm,)*
                    $(Instr::$bi { .. } => $bim,)*
                    $(Instr::$bt { .. } => $btm,)*
                    $(Instr::$bc { .. } => $bcm,)*
                    $(Instr::$bci { .. } => $bcim,)*
                    $(Instr::$ld { .. } => $ldm,)*
                    $(Instr::$st { .. } => $stm,)*
                    $(Instr::$ot { .. } => $otm,)*
                }
            }

            /// Shows every operand to `v`, in declaration order, with static dispatch on
            /// the operand's type (the translator's and threader's hot walks).
            #[inline]
            pub fn visit_operands<V: OperandVisitor>(&mut self, v: &mut V) {
                match self {
                    $(Instr::$un { dst, src } => { v.visit(dst); v.visit(src); })*
                    $(Instr::$ut { dst, src } => { v.visit(dst); v.visit(src); })*
                    $(Instr::$bn { dst, a, b } => { v.visit(dst); v.visit(a); v.visit(b); })*
                    $(Instr::$bi { dst, a, imm } => { v.visit(dst); v.visit(a); v.visit(imm); })*
                    $(Instr::$bt { dst, a, b } => { v.visit(dst); v.visit(a); v.visit(b); })*
                    $(Instr::$bc { a, b, target } => { v.visit(a); v.visit(b); v.visit(target); })*
                    $(Instr::$bci { a, imm, target } => { v.visit(a); v.visit(imm); v.visit(target); })*
                    $(Instr::$ld { dst, addr, offset } => { v.visit(dst); v.visit(addr); v.visit(offset); })*
                    $(Instr::$st { addr, val, offset } => { v.visit(addr); v.visit(val); v.visit(offset); })*
                    $(Instr::$ot { $($of),* } => { $(v.visit($of);)* })*
                }
            }

            /// Whether each opcode has a branch-target operand, by opcode: lets
            /// [`Instr::target`] skip the operand walk for everything but branches.
            const HAS_TARGET: &[bool] = &[
                $({ let _ = stringify!($un); false },)*
                $({ let _ = stringify!($ut); false },)*
                $({ let _ = stringify!($bn); false },)*
                $({ let _ = stringify!($bi); false },)*
                $({ let _ = stringify!($bt); false },)*
                $({ let _ = stringify!($bc); true },)*
                $({ let _ = stringify!($bci); true },)*
                $({ let _ = stringify!($ld); false },)*
                $({ let _ = stringify!($st); false },)*
                $(false $(|| <$oft as Operand>::IS_TARGET)*,)*
            ];

            /// The byte offsets of each opcode's register operands (its `Reg` and `Dst`
            /// fields, in order; 0 ends the list), by opcode: see [`Instr::map_cells`].
            const CELLS: &[[u8; MAX_FIELDS]] = &[
                $({ let _ = stringify!($un); cells_of!(Dst, Reg) },)*
                $({ let _ = stringify!($ut); cells_of!(Dst, Reg) },)*
                $({ let _ = stringify!($bn); cells_of!(Dst, Reg, Reg) },)*
                $({ let _ = stringify!($bi); cells_of!(Dst, Reg, i32) },)*
                $({ let _ = stringify!($bt); cells_of!(Dst, Reg, Reg) },)*
                $({ let _ = stringify!($bc); cells_of!(Reg, Reg, Target) },)*
                $({ let _ = stringify!($bci); cells_of!(Reg, i32, Target) },)*
                $({ let _ = stringify!($ld); cells_of!(Dst, Reg, u32) },)*
                $({ let _ = stringify!($st); cells_of!(Reg, Reg, u32) },)*
                $(cells_of!($($oft),*),)*
            ];

            /// Calls `f` on every operand, in declaration order.
            pub fn for_each_operand(&mut self, f: &mut dyn FnMut(&mut dyn OperandMut)) {
                match self {
                    $(Instr::$un { dst, src } => { f(dst); f(src); })*
                    $(Instr::$ut { dst, src } => { f(dst); f(src); })*
                    $(Instr::$bn { dst, a, b } => { f(dst); f(a); f(b); })*
                    $(Instr::$bi { dst, a, imm } => { f(dst); f(a); f(imm); })*
                    $(Instr::$bt { dst, a, b } => { f(dst); f(a); f(b); })*
                    $(Instr::$bc { a, b, target } => { f(a); f(b); f(target); })*
                    $(Instr::$bci { a, imm, target } => { f(a); f(imm); f(target); })*
                    $(Instr::$ld { dst, addr, offset } => { f(dst); f(addr); f(offset); })*
                    $(Instr::$st { addr, val, offset } => { f(addr); f(val); f(offset); })*
                    $(Instr::$ot { $($of),* } => { $(f($of);)* })*
                }
            }

            /// Turns a compare that produced a branch condition into a compare-and-branch
            /// that jumps to `target` when the condition is `when`.
            pub fn fuse_branch(&self, when: bool, target: Target) -> Option<Instr> {
                Some(match *self {
                    $(Instr::$bcfrom { a, b, .. } => if when {
                        Instr::$bc { a, b, target }
                    } else {
                        Instr::$bcnot { a, b, target }
                    },)*
                    $(Instr::$bcifrom { a, imm, .. } => if when {
                        Instr::$bci { a, imm, target }
                    } else {
                        Instr::$bcinot { a, imm, target }
                    },)*
                    _ => return None,
                })
            }
        }
    };
}

for_each_op!(define_instr);

/// At most this many fields in an instruction.
pub(crate) const MAX_FIELDS: usize = 8;

/// The byte offsets in an [`Instr`] of a variant's fields, given each field's size and
/// alignment in order. `Instr` is `repr(u16)`: each variant is laid out as a `repr(C)`
/// struct whose first field is the `u16` opcode (the Reference's "primitive
/// representation of enums with fields"). Unused entries are 0.
pub(crate) const fn field_offsets(fields: &[(usize, usize)]) -> [u8; MAX_FIELDS] {
    let mut out = [0; MAX_FIELDS];
    let mut at = size_of::<u16>();
    let mut k = 0;
    while k < fields.len() {
        let (size, align) = fields[k];
        at = at.div_ceil(align) * align;
        out[k] = at as u8;
        at += size;
        k += 1;
    }
    assert!(at <= size_of::<Instr>());
    out
}

/// The offsets of the fields flagged in `keep`, in order, then zeros.
const fn select_offsets(offsets: [u8; MAX_FIELDS], keep: &[bool]) -> [u8; MAX_FIELDS] {
    let mut out = [0; MAX_FIELDS];
    let (mut k, mut n) = (0, 0);
    while k < keep.len() {
        if keep[k] {
            out[n] = offsets[k];
            n += 1;
        }
        k += 1;
    }
    out
}

impl Instr {
    /// Replaces every register operand `r` (read or written) with `f(r)`, through the
    /// per-opcode offsets of [`Instr::CELLS`]: no `match` on the variant.
    #[inline]
    pub fn map_cells(&mut self, mut f: impl FnMut(u16) -> u16) {
        let offsets = &Self::CELLS[self.opcode() as usize];
        let base = (self as *mut Instr).cast::<u8>();
        for &at in offsets {
            if at == 0 {
                break;
            }
            // SAFETY: `at` is the offset of a `Reg` or `Dst` field (a `u16`) of this
            // instruction's variant, computed from the variant's `repr(C)` layout (see
            // `field_offsets`): two initialized bytes inside `*self`, which we borrow
            // mutably.
            unsafe {
                let cell = base.add(at as usize).cast::<u16>();
                cell.write_unaligned(f(cell.read_unaligned()));
            }
        }
    }
}

/// A walk over an instruction's operands ([`Instr::visit_operands`]).
pub trait OperandVisitor {
    fn visit<T: Operand>(&mut self, op: &mut T);
}

/// Reads (with `None` inside) or rewrites (with `Some`) a branch target.
struct TargetVisitor(Option<Target>, Option<Target>);

impl OperandVisitor for TargetVisitor {
    #[inline(always)]
    fn visit<T: Operand>(&mut self, op: &mut T) {
        if let Some(t) = op.target_mut() {
            self.0 = Some(*t);
            if let Some(new) = self.1 {
                *t = new;
            }
        }
    }
}

/// Reads (with `None` inside) or rewrites (with `Some`) the destination.
struct DstVisitor(Option<Dst>, Option<Dst>);

impl OperandVisitor for DstVisitor {
    #[inline(always)]
    fn visit<T: Operand>(&mut self, op: &mut T) {
        if let Some(d) = op.dst_mut() {
            self.0 = Some(*d);
            if let Some(new) = self.1 {
                *d = new;
            }
        }
    }
}

/// Applies a function to every register operand (read or written).
pub struct CellVisitor<F: FnMut(&mut u16)>(pub F);

impl<F: FnMut(&mut u16)> OperandVisitor for CellVisitor<F> {
    #[inline(always)]
    fn visit<T: Operand>(&mut self, op: &mut T) {
        if let Some(c) = op.cell_mut() {
            (self.0)(c);
        }
    }
}

/// An operand seen through [`Instr::for_each_operand`].
pub trait OperandMut {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
    fn target_mut(&mut self) -> Option<&mut Target>;
    fn dst_mut(&mut self) -> Option<&mut Dst>;
    fn cell_mut(&mut self) -> Option<&mut u16>;
}

impl<T: Operand> OperandMut for T {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Operand::write(self, f)
    }
    fn target_mut(&mut self) -> Option<&mut Target> {
        Operand::target_mut(self)
    }
    fn dst_mut(&mut self) -> Option<&mut Dst> {
        Operand::dst_mut(self)
    }
    fn cell_mut(&mut self) -> Option<&mut u16> {
        Operand::cell_mut(self)
    }
}

impl Instr {
    /// The opcode: the index of this instruction's row in the table.
    #[inline(always)]
    pub fn opcode(&self) -> u16 {
        // SAFETY: `Instr` is `repr(u16)`, so its first two bytes are the discriminant.
        unsafe { *(self as *const Instr as *const u16) }
    }

    /// The branch target of this instruction, if it has one.
    pub fn target(&self) -> Option<Target> {
        if !Self::HAS_TARGET[self.opcode() as usize] {
            return None;
        }
        let mut v = TargetVisitor(None, None);
        let mut copy = *self;
        copy.visit_operands(&mut v);
        v.0
    }

    /// Rewrites the branch target; returns whether the instruction has one.
    pub fn set_target(&mut self, new: Target) -> bool {
        let mut v = TargetVisitor(None, Some(new));
        self.visit_operands(&mut v);
        v.0.is_some()
    }

    /// The destination register of this instruction, if it writes exactly one.
    pub fn dst(&self) -> Option<Dst> {
        let mut v = DstVisitor(None, None);
        let mut copy = *self;
        copy.visit_operands(&mut v);
        v.0
    }

    /// Rewrites the destination register.
    pub fn set_dst(&mut self, new: Dst) {
        let mut v = DstVisitor(None, Some(new));
        self.visit_operands(&mut v);
    }
}

impl fmt::Display for Instr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.mnemonic())?;
        let mut copy = *self;
        let mut first = true;
        let mut result = Ok(());
        copy.for_each_operand(&mut |op| {
            if result.is_err() {
                return;
            }
            result = (|| {
                f.write_str(if first { " " } else { ", " })?;
                first = false;
                op.write(f)
            })();
        });
        result
    }
}

/// Converts between frame cells and typed values. `i32`/`f32` live in the low 32 bits.
pub trait Cell: Sized {
    fn from_cell(c: u64) -> Self;
    fn to_cell(self) -> u64;
}
impl Cell for i32 {
    #[inline(always)]
    fn from_cell(c: u64) -> Self {
        c as u32 as i32
    }
    #[inline(always)]
    fn to_cell(self) -> u64 {
        self as u32 as u64
    }
}
impl Cell for u32 {
    #[inline(always)]
    fn from_cell(c: u64) -> Self {
        c as u32
    }
    #[inline(always)]
    fn to_cell(self) -> u64 {
        self as u64
    }
}
impl Cell for i64 {
    #[inline(always)]
    fn from_cell(c: u64) -> Self {
        c as i64
    }
    #[inline(always)]
    fn to_cell(self) -> u64 {
        self as u64
    }
}
impl Cell for u64 {
    #[inline(always)]
    fn from_cell(c: u64) -> Self {
        c
    }
    #[inline(always)]
    fn to_cell(self) -> u64 {
        self
    }
}
impl Cell for f32 {
    #[inline(always)]
    fn from_cell(c: u64) -> Self {
        f32::from_bits(c as u32)
    }
    #[inline(always)]
    fn to_cell(self) -> u64 {
        self.to_bits() as u64
    }
}
impl Cell for f64 {
    #[inline(always)]
    fn from_cell(c: u64) -> Self {
        f64::from_bits(c)
    }
    #[inline(always)]
    fn to_cell(self) -> u64 {
        self.to_bits()
    }
}
impl Cell for bool {
    #[inline(always)]
    fn from_cell(c: u64) -> Self {
        c as u32 != 0
    }
    #[inline(always)]
    fn to_cell(self) -> u64 {
        self as u64
    }
}

/// Widens an `i32` immediate to an operand type.
pub trait Imm {
    fn from_imm(imm: i32) -> Self;
}
impl Imm for i32 {
    #[inline(always)]
    fn from_imm(imm: i32) -> Self {
        imm
    }
}
impl Imm for i64 {
    #[inline(always)]
    fn from_imm(imm: i32) -> Self {
        imm as i64
    }
}

/// Keeps `Trap` in scope for the table's closures.
#[allow(dead_code)]
type TrapResult<T> = Result<T, Trap>;

/// One instruction of every opcode, in opcode order, each field a distinct value (see
/// [`samples::Sample`]): for tests of the per-opcode tables.
#[cfg(test)]
macro_rules! define_samples {
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
        #[allow(unused_mut, unused_variables, unused_assignments)]
        pub(crate) fn samples() -> Vec<Instr> {
            vec![
                $(Instr::$un { dst: Sample::sample(1), src: Sample::sample(2) },)*
                $(Instr::$ut { dst: Sample::sample(1), src: Sample::sample(2) },)*
                $(Instr::$bn { dst: Sample::sample(1), a: Sample::sample(2), b: Sample::sample(3) },)*
                $(Instr::$bi { dst: Sample::sample(1), a: Sample::sample(2), imm: Sample::sample(3) },)*
                $(Instr::$bt { dst: Sample::sample(1), a: Sample::sample(2), b: Sample::sample(3) },)*
                $(Instr::$bc { a: Sample::sample(1), b: Sample::sample(2), target: Sample::sample(3) },)*
                $(Instr::$bci { a: Sample::sample(1), imm: Sample::sample(2), target: Sample::sample(3) },)*
                $(Instr::$ld { dst: Sample::sample(1), addr: Sample::sample(2), offset: Sample::sample(3) },)*
                $(Instr::$st { addr: Sample::sample(1), val: Sample::sample(2), offset: Sample::sample(3) },)*
                $({
                    let mut k = 0;
                    Instr::$ot { $($of: { k += 1; <$oft as Sample>::sample(k) }),* }
                },)*
            ]
        }
    };
}

/// Sample instructions for tests (see [`define_samples!`]).
#[cfg(test)]
pub(crate) mod samples {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    /// A field value distinct from every other field's of the same instruction.
    pub(crate) trait Sample {
        fn sample(k: u16) -> Self;
    }
    impl Sample for Dst {
        fn sample(k: u16) -> Self {
            Dst(0x1100 + k)
        }
    }
    impl Sample for Reg {
        fn sample(k: u16) -> Self {
            Reg(0x2200 + k)
        }
    }
    impl Sample for Target {
        fn sample(k: u16) -> Self {
            Target(0x3300_0000 + k as u32)
        }
    }
    impl Sample for u8 {
        fn sample(k: u16) -> Self {
            0x40 + k as u8
        }
    }
    impl Sample for u16 {
        fn sample(k: u16) -> Self {
            0x5500 + k
        }
    }
    impl Sample for u32 {
        fn sample(k: u16) -> Self {
            0x6600_0000 + k as u32
        }
    }
    impl Sample for i32 {
        fn sample(k: u16) -> Self {
            0x7700_0000 + k as i32
        }
    }
    impl Sample for ImmBytes {
        fn sample(k: u16) -> Self {
            ImmBytes([0x80 + k as u8; 8])
        }
    }

    for_each_op!(define_samples);
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn map_cells_rewrites_exactly_the_register_operands() {
        for instr in super::samples::samples() {
            let mut by_walk = instr;
            by_walk.visit_operands(&mut CellVisitor(|c: &mut u16| *c ^= 0x8000));
            let mut by_table = instr;
            by_table.map_cells(|c| c ^ 0x8000);
            assert_eq!(by_table, by_walk, "{}", instr.mnemonic());
        }
    }

    #[test]
    fn target_table_matches_the_operands() {
        // `other` rows with a target, a family with one, and rows without.
        assert_eq!(Instr::Br { target: Target(5) }.target(), Some(Target(5)));
        let br_if = Instr::BrIfNez {
            cond: Reg(1),
            target: Target(9),
        };
        assert_eq!(br_if.target(), Some(Target(9)));
        let cmp = Instr::BrI32LtS {
            a: Reg(1),
            b: Reg(2),
            target: Target(3),
        };
        assert_eq!(cmp.target(), Some(Target(3)));
        let add = Instr::I32Add {
            dst: Dst(0),
            a: Reg(1),
            b: Reg(2),
        };
        assert_eq!(add.target(), None);
        assert_eq!(Instr::Data { a: 1, b: 2 }.target(), None);
    }

    #[test]
    fn instr_is_twelve_bytes() {
        assert_eq!(core::mem::size_of::<Instr>(), 12);
    }

    #[test]
    fn display_and_patch() {
        let mut i = Instr::BrI32LtS {
            a: Reg(1),
            b: Reg(2),
            target: Target(0),
        };
        assert!(i.set_target(Target(7)));
        assert_eq!(i.target(), Some(Target(7)));
        assert_eq!(i.to_string(), "br.i32.lt_s r1, r2, @7");
        let mut add = Instr::I32AddImm {
            dst: Dst(3),
            a: Reg(0),
            imm: -1,
        };
        assert_eq!(add.dst(), Some(Dst(3)));
        add.set_dst(Dst(0));
        assert_eq!(add.to_string(), "i32.add_imm r0, r0, -1");
        let cmp = Instr::I64LeUImm {
            dst: Dst(4),
            a: Reg(1),
            imm: 9,
        };
        assert_eq!(
            cmp.fuse_branch(false, Target(5)),
            Some(Instr::BrI64GtUImm {
                a: Reg(1),
                imm: 9,
                target: Target(5)
            })
        );
    }
}
