//! Translation of the SIMD (`v128`) operators: one line per operator, as in `ops.rs`.
//!
//! A `v128` is never a `Kind::Const` in the stack model (a cell holds 8 bytes, a constant
//! would need 16): `v128.const` is materialized at once into its home by `V128Const`,
//! whose bytes follow in two `V128Imm` words.

use super::{R, Translator};
use crate::ops::{Dst, ImmBytes, Instr, Reg};
use crate::prelude::*;
use crate::types::ValType::{self, *};
use wasmparser::{MemArg, Operator as O};

/// `v128 -> v128`
macro_rules! vun {
    ($t:ident, $op:ident) => {
        $t.v_unary(|dst, src| Instr::$op { dst, src }, V128)
    };
}
/// `v128 -> i32`
macro_rules! vtest {
    ($t:ident, $op:ident) => {
        $t.v_unary(|dst, src| Instr::$op { dst, src }, I32)
    };
}
/// `(v128, v128) -> v128`, and the shifts `(v128, i32) -> v128`
macro_rules! vbin {
    ($t:ident, $op:ident) => {
        $t.v_binary(|dst, a, b| Instr::$op { dst, a, b })
    };
}
macro_rules! vload {
    ($t:ident, $op:ident, $m:expr) => {
        $t.load(
            |dst, addr, offset| Instr::$op { dst, addr, offset },
            None,
            $m,
            V128,
        )
    };
}
macro_rules! vload_lane {
    ($t:ident, $op:ident, $m:expr, $lane:expr) => {{
        let lane = $lane;
        $t.load_lane($m, |dst, src, addr| Instr::$op {
            dst,
            src,
            addr,
            lane,
        })
    }};
}
macro_rules! vstore_lane {
    ($t:ident, $op:ident, $m:expr, $lane:expr) => {{
        let lane = $lane;
        $t.store_lane($m, |addr, val, offset| Instr::$op {
            addr,
            val,
            offset,
            lane,
        })
    }};
}
macro_rules! vextract {
    ($t:ident, $op:ident, $lane:expr, $res:expr) => {{
        let lane = $lane;
        $t.v_unary(|dst, src| Instr::$op { dst, src, lane }, $res)
    }};
}
macro_rules! vreplace {
    ($t:ident, $op:ident, $lane:expr) => {{
        let lane = $lane;
        $t.v_binary(|dst, a, b| Instr::$op { dst, a, b, lane })
    }};
}

impl Translator<'_> {
    /// Translates a SIMD operator; any other operator is unsupported.
    pub(super) fn visit_simd(&mut self, op: O<'_>) -> R {
        let t = self;
        match op {
            O::V128Const { value } => t.v128_const(*value.bytes()),
            O::I8x16Shuffle { lanes } => t.shuffle(lanes),
            O::V128Bitselect => t.bitselect(),
            // Relaxed SIMD: where a 2.0 instruction's result is one the spec allows, that
            // instruction (deterministic on every host); the rest have rows of their own.
            O::I8x16RelaxedSwizzle => vbin!(t, I8x16Swizzle),
            O::I32x4RelaxedTruncF32x4S => vun!(t, I32x4TruncSatF32x4S),
            O::I32x4RelaxedTruncF32x4U => vun!(t, I32x4TruncSatF32x4U),
            O::I32x4RelaxedTruncF64x2SZero => vun!(t, I32x4TruncSatF64x2SZero),
            O::I32x4RelaxedTruncF64x2UZero => vun!(t, I32x4TruncSatF64x2UZero),
            O::I8x16RelaxedLaneselect
            | O::I16x8RelaxedLaneselect
            | O::I32x4RelaxedLaneselect
            | O::I64x2RelaxedLaneselect => t.bitselect(),
            O::F32x4RelaxedMin => vbin!(t, F32x4Min),
            O::F32x4RelaxedMax => vbin!(t, F32x4Max),
            O::F64x2RelaxedMin => vbin!(t, F64x2Min),
            O::F64x2RelaxedMax => vbin!(t, F64x2Max),
            O::I16x8RelaxedQ15mulrS => vbin!(t, I16x8Q15MulrSatS),
            O::F32x4RelaxedMadd => {
                t.v_ternary(|dst, a, b, c| Instr::F32x4RelaxedMadd { dst, a, b, c })
            }
            O::F32x4RelaxedNmadd => {
                t.v_ternary(|dst, a, b, c| Instr::F32x4RelaxedNmadd { dst, a, b, c })
            }
            O::F64x2RelaxedMadd => {
                t.v_ternary(|dst, a, b, c| Instr::F64x2RelaxedMadd { dst, a, b, c })
            }
            O::F64x2RelaxedNmadd => {
                t.v_ternary(|dst, a, b, c| Instr::F64x2RelaxedNmadd { dst, a, b, c })
            }
            O::I16x8RelaxedDotI8x16I7x16S => vbin!(t, I16x8RelaxedDotI8x16I7x16S),
            O::I32x4RelaxedDotI8x16I7x16AddS => {
                t.v_ternary(|dst, a, b, c| Instr::I32x4RelaxedDotI8x16I7x16AddS { dst, a, b, c })
            }

            O::V128Load { memarg } => vload!(t, V128Load, memarg),
            O::V128Load8x8S { memarg } => vload!(t, V128Load8x8S, memarg),
            O::V128Load8x8U { memarg } => vload!(t, V128Load8x8U, memarg),
            O::V128Load16x4S { memarg } => vload!(t, V128Load16x4S, memarg),
            O::V128Load16x4U { memarg } => vload!(t, V128Load16x4U, memarg),
            O::V128Load32x2S { memarg } => vload!(t, V128Load32x2S, memarg),
            O::V128Load32x2U { memarg } => vload!(t, V128Load32x2U, memarg),
            O::V128Load8Splat { memarg } => vload!(t, V128Load8Splat, memarg),
            O::V128Load16Splat { memarg } => vload!(t, V128Load16Splat, memarg),
            O::V128Load32Splat { memarg } => vload!(t, V128Load32Splat, memarg),
            O::V128Load64Splat { memarg } => vload!(t, V128Load64Splat, memarg),
            O::V128Load32Zero { memarg } => vload!(t, V128Load32Zero, memarg),
            O::V128Load64Zero { memarg } => vload!(t, V128Load64Zero, memarg),
            O::V128Store { memarg } => t.store(
                |addr, val, offset| Instr::V128Store { addr, val, offset },
                None,
                memarg,
            ),
            O::V128Load8Lane { memarg, lane } => vload_lane!(t, V128Load8Lane, memarg, lane),
            O::V128Load16Lane { memarg, lane } => vload_lane!(t, V128Load16Lane, memarg, lane),
            O::V128Load32Lane { memarg, lane } => vload_lane!(t, V128Load32Lane, memarg, lane),
            O::V128Load64Lane { memarg, lane } => vload_lane!(t, V128Load64Lane, memarg, lane),
            O::V128Store8Lane { memarg, lane } => vstore_lane!(t, V128Store8Lane, memarg, lane),
            O::V128Store16Lane { memarg, lane } => vstore_lane!(t, V128Store16Lane, memarg, lane),
            O::V128Store32Lane { memarg, lane } => vstore_lane!(t, V128Store32Lane, memarg, lane),
            O::V128Store64Lane { memarg, lane } => vstore_lane!(t, V128Store64Lane, memarg, lane),

            O::I8x16ExtractLaneS { lane } => vextract!(t, I8x16ExtractLaneS, lane, I32),
            O::I8x16ExtractLaneU { lane } => vextract!(t, I8x16ExtractLaneU, lane, I32),
            O::I16x8ExtractLaneS { lane } => vextract!(t, I16x8ExtractLaneS, lane, I32),
            O::I16x8ExtractLaneU { lane } => vextract!(t, I16x8ExtractLaneU, lane, I32),
            O::I32x4ExtractLane { lane } => vextract!(t, I32x4ExtractLane, lane, I32),
            O::I64x2ExtractLane { lane } => vextract!(t, I64x2ExtractLane, lane, I64),
            O::F32x4ExtractLane { lane } => vextract!(t, F32x4ExtractLane, lane, F32),
            O::F64x2ExtractLane { lane } => vextract!(t, F64x2ExtractLane, lane, F64),
            O::I8x16ReplaceLane { lane } => vreplace!(t, I8x16ReplaceLane, lane),
            O::I16x8ReplaceLane { lane } => vreplace!(t, I16x8ReplaceLane, lane),
            O::I32x4ReplaceLane { lane } => vreplace!(t, I32x4ReplaceLane, lane),
            O::I64x2ReplaceLane { lane } => vreplace!(t, I64x2ReplaceLane, lane),
            O::F32x4ReplaceLane { lane } => vreplace!(t, F32x4ReplaceLane, lane),
            O::F64x2ReplaceLane { lane } => vreplace!(t, F64x2ReplaceLane, lane),

            O::I8x16Splat => vun!(t, I8x16Splat),
            O::I16x8Splat => vun!(t, I16x8Splat),
            O::I32x4Splat => vun!(t, I32x4Splat),
            O::I64x2Splat => vun!(t, I64x2Splat),
            O::F32x4Splat => vun!(t, F32x4Splat),
            O::F64x2Splat => vun!(t, F64x2Splat),
            O::V128AnyTrue => vtest!(t, V128AnyTrue),
            O::I8x16AllTrue => vtest!(t, I8x16AllTrue),
            O::I8x16Bitmask => vtest!(t, I8x16Bitmask),
            O::I16x8AllTrue => vtest!(t, I16x8AllTrue),
            O::I16x8Bitmask => vtest!(t, I16x8Bitmask),
            O::I32x4AllTrue => vtest!(t, I32x4AllTrue),
            O::I32x4Bitmask => vtest!(t, I32x4Bitmask),
            O::I64x2AllTrue => vtest!(t, I64x2AllTrue),
            O::I64x2Bitmask => vtest!(t, I64x2Bitmask),
            O::V128Not => vun!(t, V128Not),
            O::I8x16Abs => vun!(t, I8x16Abs),
            O::I8x16Neg => vun!(t, I8x16Neg),
            O::I8x16Popcnt => vun!(t, I8x16Popcnt),
            O::I16x8ExtAddPairwiseI8x16S => vun!(t, I16x8ExtAddPairwiseI8x16S),
            O::I16x8ExtAddPairwiseI8x16U => vun!(t, I16x8ExtAddPairwiseI8x16U),
            O::I16x8Abs => vun!(t, I16x8Abs),
            O::I16x8Neg => vun!(t, I16x8Neg),
            O::I16x8ExtendLowI8x16S => vun!(t, I16x8ExtendLowI8x16S),
            O::I16x8ExtendHighI8x16S => vun!(t, I16x8ExtendHighI8x16S),
            O::I16x8ExtendLowI8x16U => vun!(t, I16x8ExtendLowI8x16U),
            O::I16x8ExtendHighI8x16U => vun!(t, I16x8ExtendHighI8x16U),
            O::I32x4ExtAddPairwiseI16x8S => vun!(t, I32x4ExtAddPairwiseI16x8S),
            O::I32x4ExtAddPairwiseI16x8U => vun!(t, I32x4ExtAddPairwiseI16x8U),
            O::I32x4Abs => vun!(t, I32x4Abs),
            O::I32x4Neg => vun!(t, I32x4Neg),
            O::I32x4ExtendLowI16x8S => vun!(t, I32x4ExtendLowI16x8S),
            O::I32x4ExtendHighI16x8S => vun!(t, I32x4ExtendHighI16x8S),
            O::I32x4ExtendLowI16x8U => vun!(t, I32x4ExtendLowI16x8U),
            O::I32x4ExtendHighI16x8U => vun!(t, I32x4ExtendHighI16x8U),
            O::I64x2Abs => vun!(t, I64x2Abs),
            O::I64x2Neg => vun!(t, I64x2Neg),
            O::I64x2ExtendLowI32x4S => vun!(t, I64x2ExtendLowI32x4S),
            O::I64x2ExtendHighI32x4S => vun!(t, I64x2ExtendHighI32x4S),
            O::I64x2ExtendLowI32x4U => vun!(t, I64x2ExtendLowI32x4U),
            O::I64x2ExtendHighI32x4U => vun!(t, I64x2ExtendHighI32x4U),
            O::F32x4Ceil => vun!(t, F32x4Ceil),
            O::F32x4Floor => vun!(t, F32x4Floor),
            O::F32x4Trunc => vun!(t, F32x4Trunc),
            O::F32x4Nearest => vun!(t, F32x4Nearest),
            O::F32x4Abs => vun!(t, F32x4Abs),
            O::F32x4Neg => vun!(t, F32x4Neg),
            O::F32x4Sqrt => vun!(t, F32x4Sqrt),
            O::F64x2Ceil => vun!(t, F64x2Ceil),
            O::F64x2Floor => vun!(t, F64x2Floor),
            O::F64x2Trunc => vun!(t, F64x2Trunc),
            O::F64x2Nearest => vun!(t, F64x2Nearest),
            O::F64x2Abs => vun!(t, F64x2Abs),
            O::F64x2Neg => vun!(t, F64x2Neg),
            O::F64x2Sqrt => vun!(t, F64x2Sqrt),
            O::I32x4TruncSatF32x4S => vun!(t, I32x4TruncSatF32x4S),
            O::I32x4TruncSatF32x4U => vun!(t, I32x4TruncSatF32x4U),
            O::F32x4ConvertI32x4S => vun!(t, F32x4ConvertI32x4S),
            O::F32x4ConvertI32x4U => vun!(t, F32x4ConvertI32x4U),
            O::I32x4TruncSatF64x2SZero => vun!(t, I32x4TruncSatF64x2SZero),
            O::I32x4TruncSatF64x2UZero => vun!(t, I32x4TruncSatF64x2UZero),
            O::F64x2ConvertLowI32x4S => vun!(t, F64x2ConvertLowI32x4S),
            O::F64x2ConvertLowI32x4U => vun!(t, F64x2ConvertLowI32x4U),
            O::F32x4DemoteF64x2Zero => vun!(t, F32x4DemoteF64x2Zero),
            O::F64x2PromoteLowF32x4 => vun!(t, F64x2PromoteLowF32x4),
            O::I8x16Swizzle => vbin!(t, I8x16Swizzle),
            O::I8x16Eq => vbin!(t, I8x16Eq),
            O::I8x16Ne => vbin!(t, I8x16Ne),
            O::I8x16LtS => vbin!(t, I8x16LtS),
            O::I8x16LtU => vbin!(t, I8x16LtU),
            O::I8x16GtS => vbin!(t, I8x16GtS),
            O::I8x16GtU => vbin!(t, I8x16GtU),
            O::I8x16LeS => vbin!(t, I8x16LeS),
            O::I8x16LeU => vbin!(t, I8x16LeU),
            O::I8x16GeS => vbin!(t, I8x16GeS),
            O::I8x16GeU => vbin!(t, I8x16GeU),
            O::I16x8Eq => vbin!(t, I16x8Eq),
            O::I16x8Ne => vbin!(t, I16x8Ne),
            O::I16x8LtS => vbin!(t, I16x8LtS),
            O::I16x8LtU => vbin!(t, I16x8LtU),
            O::I16x8GtS => vbin!(t, I16x8GtS),
            O::I16x8GtU => vbin!(t, I16x8GtU),
            O::I16x8LeS => vbin!(t, I16x8LeS),
            O::I16x8LeU => vbin!(t, I16x8LeU),
            O::I16x8GeS => vbin!(t, I16x8GeS),
            O::I16x8GeU => vbin!(t, I16x8GeU),
            O::I32x4Eq => vbin!(t, I32x4Eq),
            O::I32x4Ne => vbin!(t, I32x4Ne),
            O::I32x4LtS => vbin!(t, I32x4LtS),
            O::I32x4LtU => vbin!(t, I32x4LtU),
            O::I32x4GtS => vbin!(t, I32x4GtS),
            O::I32x4GtU => vbin!(t, I32x4GtU),
            O::I32x4LeS => vbin!(t, I32x4LeS),
            O::I32x4LeU => vbin!(t, I32x4LeU),
            O::I32x4GeS => vbin!(t, I32x4GeS),
            O::I32x4GeU => vbin!(t, I32x4GeU),
            O::I64x2Eq => vbin!(t, I64x2Eq),
            O::I64x2Ne => vbin!(t, I64x2Ne),
            O::I64x2LtS => vbin!(t, I64x2LtS),
            O::I64x2GtS => vbin!(t, I64x2GtS),
            O::I64x2LeS => vbin!(t, I64x2LeS),
            O::I64x2GeS => vbin!(t, I64x2GeS),
            O::F32x4Eq => vbin!(t, F32x4Eq),
            O::F32x4Ne => vbin!(t, F32x4Ne),
            O::F32x4Lt => vbin!(t, F32x4Lt),
            O::F32x4Gt => vbin!(t, F32x4Gt),
            O::F32x4Le => vbin!(t, F32x4Le),
            O::F32x4Ge => vbin!(t, F32x4Ge),
            O::F64x2Eq => vbin!(t, F64x2Eq),
            O::F64x2Ne => vbin!(t, F64x2Ne),
            O::F64x2Lt => vbin!(t, F64x2Lt),
            O::F64x2Gt => vbin!(t, F64x2Gt),
            O::F64x2Le => vbin!(t, F64x2Le),
            O::F64x2Ge => vbin!(t, F64x2Ge),
            O::V128And => vbin!(t, V128And),
            O::V128AndNot => vbin!(t, V128AndNot),
            O::V128Or => vbin!(t, V128Or),
            O::V128Xor => vbin!(t, V128Xor),
            O::I8x16NarrowI16x8S => vbin!(t, I8x16NarrowI16x8S),
            O::I8x16NarrowI16x8U => vbin!(t, I8x16NarrowI16x8U),
            O::I8x16Add => vbin!(t, I8x16Add),
            O::I8x16AddSatS => vbin!(t, I8x16AddSatS),
            O::I8x16AddSatU => vbin!(t, I8x16AddSatU),
            O::I8x16Sub => vbin!(t, I8x16Sub),
            O::I8x16SubSatS => vbin!(t, I8x16SubSatS),
            O::I8x16SubSatU => vbin!(t, I8x16SubSatU),
            O::I8x16MinS => vbin!(t, I8x16MinS),
            O::I8x16MinU => vbin!(t, I8x16MinU),
            O::I8x16MaxS => vbin!(t, I8x16MaxS),
            O::I8x16MaxU => vbin!(t, I8x16MaxU),
            O::I8x16AvgrU => vbin!(t, I8x16AvgrU),
            O::I16x8Q15MulrSatS => vbin!(t, I16x8Q15MulrSatS),
            O::I16x8NarrowI32x4S => vbin!(t, I16x8NarrowI32x4S),
            O::I16x8NarrowI32x4U => vbin!(t, I16x8NarrowI32x4U),
            O::I16x8Add => vbin!(t, I16x8Add),
            O::I16x8AddSatS => vbin!(t, I16x8AddSatS),
            O::I16x8AddSatU => vbin!(t, I16x8AddSatU),
            O::I16x8Sub => vbin!(t, I16x8Sub),
            O::I16x8SubSatS => vbin!(t, I16x8SubSatS),
            O::I16x8SubSatU => vbin!(t, I16x8SubSatU),
            O::I16x8Mul => vbin!(t, I16x8Mul),
            O::I16x8MinS => vbin!(t, I16x8MinS),
            O::I16x8MinU => vbin!(t, I16x8MinU),
            O::I16x8MaxS => vbin!(t, I16x8MaxS),
            O::I16x8MaxU => vbin!(t, I16x8MaxU),
            O::I16x8AvgrU => vbin!(t, I16x8AvgrU),
            O::I16x8ExtMulLowI8x16S => vbin!(t, I16x8ExtMulLowI8x16S),
            O::I16x8ExtMulHighI8x16S => vbin!(t, I16x8ExtMulHighI8x16S),
            O::I16x8ExtMulLowI8x16U => vbin!(t, I16x8ExtMulLowI8x16U),
            O::I16x8ExtMulHighI8x16U => vbin!(t, I16x8ExtMulHighI8x16U),
            O::I32x4Add => vbin!(t, I32x4Add),
            O::I32x4Sub => vbin!(t, I32x4Sub),
            O::I32x4Mul => vbin!(t, I32x4Mul),
            O::I32x4MinS => vbin!(t, I32x4MinS),
            O::I32x4MinU => vbin!(t, I32x4MinU),
            O::I32x4MaxS => vbin!(t, I32x4MaxS),
            O::I32x4MaxU => vbin!(t, I32x4MaxU),
            O::I32x4DotI16x8S => vbin!(t, I32x4DotI16x8S),
            O::I32x4ExtMulLowI16x8S => vbin!(t, I32x4ExtMulLowI16x8S),
            O::I32x4ExtMulHighI16x8S => vbin!(t, I32x4ExtMulHighI16x8S),
            O::I32x4ExtMulLowI16x8U => vbin!(t, I32x4ExtMulLowI16x8U),
            O::I32x4ExtMulHighI16x8U => vbin!(t, I32x4ExtMulHighI16x8U),
            O::I64x2Add => vbin!(t, I64x2Add),
            O::I64x2Sub => vbin!(t, I64x2Sub),
            O::I64x2Mul => vbin!(t, I64x2Mul),
            O::I64x2ExtMulLowI32x4S => vbin!(t, I64x2ExtMulLowI32x4S),
            O::I64x2ExtMulHighI32x4S => vbin!(t, I64x2ExtMulHighI32x4S),
            O::I64x2ExtMulLowI32x4U => vbin!(t, I64x2ExtMulLowI32x4U),
            O::I64x2ExtMulHighI32x4U => vbin!(t, I64x2ExtMulHighI32x4U),
            O::F32x4Add => vbin!(t, F32x4Add),
            O::F32x4Sub => vbin!(t, F32x4Sub),
            O::F32x4Mul => vbin!(t, F32x4Mul),
            O::F32x4Div => vbin!(t, F32x4Div),
            O::F32x4Min => vbin!(t, F32x4Min),
            O::F32x4Max => vbin!(t, F32x4Max),
            O::F32x4PMin => vbin!(t, F32x4PMin),
            O::F32x4PMax => vbin!(t, F32x4PMax),
            O::F64x2Add => vbin!(t, F64x2Add),
            O::F64x2Sub => vbin!(t, F64x2Sub),
            O::F64x2Mul => vbin!(t, F64x2Mul),
            O::F64x2Div => vbin!(t, F64x2Div),
            O::F64x2Min => vbin!(t, F64x2Min),
            O::F64x2Max => vbin!(t, F64x2Max),
            O::F64x2PMin => vbin!(t, F64x2PMin),
            O::F64x2PMax => vbin!(t, F64x2PMax),
            O::I8x16Shl => vbin!(t, I8x16Shl),
            O::I8x16ShrS => vbin!(t, I8x16ShrS),
            O::I8x16ShrU => vbin!(t, I8x16ShrU),
            O::I16x8Shl => vbin!(t, I16x8Shl),
            O::I16x8ShrS => vbin!(t, I16x8ShrS),
            O::I16x8ShrU => vbin!(t, I16x8ShrU),
            O::I32x4Shl => vbin!(t, I32x4Shl),
            O::I32x4ShrS => vbin!(t, I32x4ShrS),
            O::I32x4ShrU => vbin!(t, I32x4ShrU),
            O::I64x2Shl => vbin!(t, I64x2Shl),
            O::I64x2ShrS => vbin!(t, I64x2ShrS),
            O::I64x2ShrU => vbin!(t, I64x2ShrU),
            other => Err(format!("unsupported operator: {other:?}")),
        }
    }

    fn v_unary(&mut self, f: impl FnOnce(Dst, Reg) -> Instr, result: ValType) -> R {
        let src = self.pop_reg()?;
        let dst = self.push_temp(result)?;
        self.emit(f(dst, src));
        Ok(())
    }

    fn v_binary(&mut self, f: impl FnOnce(Dst, Reg, Reg) -> Instr) -> R {
        let b = self.pop()?;
        let a = self.pop()?;
        let (ra, rb) = (self.use_reg(a), self.use_reg(b));
        let dst = self.push_temp(V128)?;
        self.emit(f(dst, ra, rb));
        Ok(())
    }

    fn bitselect(&mut self) -> R {
        self.v_ternary(|dst, a, b, c| Instr::V128Bitselect { dst, a, b, c })
    }

    /// `(v128, v128, v128) -> v128`
    fn v_ternary(&mut self, f: impl FnOnce(Dst, Reg, Reg, Reg) -> Instr) -> R {
        let c = self.pop()?;
        let b = self.pop()?;
        let a = self.pop()?;
        let (a, b, c) = (self.use_reg(a), self.use_reg(b), self.use_reg(c));
        let dst = self.push_temp(V128)?;
        self.emit(f(dst, a, b, c));
        Ok(())
    }

    /// Emits the two `V128Imm` words holding `bytes`.
    fn emit_imm16(&mut self, bytes: [u8; 16]) {
        let (lo, hi) = bytes.split_at(8);
        for half in [lo, hi] {
            let mut word = [0u8; 8];
            word.copy_from_slice(half);
            self.emit(Instr::V128Imm {
                bytes: ImmBytes(word),
            });
        }
    }

    fn v128_const(&mut self, bytes: [u8; 16]) -> R {
        let dst = self.push_temp(V128)?;
        self.emit(Instr::V128Const { dst });
        self.emit_imm16(bytes);
        Ok(())
    }

    fn shuffle(&mut self, lanes: [u8; 16]) -> R {
        let b = self.pop()?;
        let a = self.pop()?;
        let (a, b) = (self.use_reg(a), self.use_reg(b));
        let dst = self.push_temp(V128)?;
        self.emit(Instr::I8x16Shuffle { dst, a, b });
        self.emit_imm16(lanes);
        Ok(())
    }

    /// `v128.loadN_lane`: the offset goes in a `Data` word after the instruction.
    fn load_lane(&mut self, m: MemArg, f: impl FnOnce(Dst, Reg, Reg) -> Instr) -> R {
        let target = self.mem_target(m)?;
        let v = self.pop()?;
        let a = self.pop()?;
        let src = self.use_reg(v);
        let (addr, offset) = self.access_start(target, a)?;
        let dst = self.push_temp(V128)?;
        self.emit(f(dst, src, addr));
        self.emit(Instr::Data { a: offset, b: 0 });
        self.access_end(target);
        Ok(())
    }

    fn store_lane(&mut self, m: MemArg, f: impl FnOnce(Reg, Reg, u32) -> Instr) -> R {
        let target = self.mem_target(m)?;
        let v = self.pop()?;
        let a = self.pop()?;
        let val = self.use_reg(v);
        let (addr, offset) = self.access_start(target, a)?;
        self.emit(f(addr, val, offset));
        self.access_end(target);
        Ok(())
    }
}
