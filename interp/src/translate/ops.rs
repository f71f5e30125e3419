//! One line per wasm operator: each maps to a translator helper and bytecode constructor.

use super::{Kind, R, Translator};
use crate::ops::{Instr, Reg};
use crate::prelude::*;
use crate::types::ValType::{self, *};
use wasmparser::Operator as O;

macro_rules! un {
    ($t:ident, $op:ident, $res:expr) => {
        $t.unary(|dst, src| Instr::$op { dst, src }, $res)
    };
}
macro_rules! bin {
    ($t:ident, $op:ident, $res:expr) => {
        $t.binary(|dst, a, b| Instr::$op { dst, a, b }, None, None, $res)
    };
    // An immediate form for a constant right operand.
    ($t:ident, $op:ident, $imm:ident, $res:expr) => {
        $t.binary(
            |dst, a, b| Instr::$op { dst, a, b },
            Some(|dst, a, imm| Instr::$imm { dst, a, imm }),
            None,
            $res,
        )
    };
    // ... and for a constant left operand, with the operands swapped.
    ($t:ident, $op:ident, $imm:ident, $swapped:ident, $res:expr) => {
        $t.binary(
            |dst, a, b| Instr::$op { dst, a, b },
            Some(|dst, a, imm| Instr::$imm { dst, a, imm }),
            Some(|dst, a, imm| Instr::$swapped { dst, a, imm }),
            $res,
        )
    };
}
macro_rules! load {
    ($t:ident, $op:ident, $fused:ident, $m:expr, $ty:expr) => {
        $t.load(
            |dst, addr, offset| Instr::$op { dst, addr, offset },
            Some(|dst, addr, imm| Instr::$fused { dst, addr, imm }),
            $m,
            $ty,
        )
    };
}
macro_rules! store {
    ($t:ident, $op:ident, $fused:ident, $m:expr) => {
        $t.store(
            |addr, val, offset| Instr::$op { addr, val, offset },
            Some(|addr, val, imm| Instr::$fused { addr, val, imm }),
            $m,
        )
    };
}

impl Translator<'_> {
    #[inline(always)]
    pub(super) fn visit_op(&mut self, op: O<'_>) -> R {
        let t = self;
        match op {
            O::Unreachable => {
                t.emit(Instr::Unreachable {});
                t.set_unreachable();
                Ok(())
            }
            O::Nop => Ok(()),
            O::Block { blockty } => t.enter(super::CtrlKind::Block, blockty),
            O::Loop { blockty } => t.enter(super::CtrlKind::Loop, blockty),
            O::If { blockty } => t.visit_if(blockty),
            O::Else => t.visit_else(),
            O::End => t.visit_end(),
            O::Br { relative_depth } => t.visit_br(relative_depth),
            O::BrIf { relative_depth } => t.visit_br_if(relative_depth),
            O::BrTable { targets } => t.visit_br_table(targets),
            O::Return => {
                t.emit_return()?;
                t.set_unreachable();
                Ok(())
            }
            O::Call { function_index } => t.visit_call(function_index),
            O::ReturnCall { function_index } => t.visit_return_call(function_index),
            O::ReturnCallIndirect {
                type_index,
                table_index,
            } => t.visit_return_call_indirect(type_index, table_index),
            O::CallRef { type_index } => t.visit_call_ref(type_index),
            O::ReturnCallRef { type_index } => t.visit_return_call_ref(type_index),
            O::RefAsNonNull => t.visit_ref_as_non_null(),
            O::BrOnNull { relative_depth } => t.visit_br_on_null(relative_depth),
            O::BrOnNonNull { relative_depth } => t.visit_br_on_non_null(relative_depth),
            O::CallIndirect {
                type_index,
                table_index,
            } => t.visit_call_indirect(type_index, table_index),
            O::Throw { tag_index } => t.visit_throw(tag_index),
            O::ThrowRef => t.visit_throw_ref(),
            O::TryTable { try_table } => t.visit_try_table(try_table),
            O::Drop => t.pop().map(drop),
            O::Select | O::TypedSelect { .. } => t.visit_select(),
            O::TypedSelectMulti { .. } => Err("multi-value select is not supported".into()),

            O::LocalGet { local_index } => {
                let i = local_index as usize;
                match (t.local_regs.get(i), t.local_types.get(i)) {
                    (Some(&r), Some(&ty)) => t.push(Kind::Local(r), ty).map(drop),
                    _ => Err(format!("no local {local_index}")),
                }
            }
            O::LocalSet { local_index } => t.local_set(local_index, false),
            O::LocalTee { local_index } => t.local_set(local_index, true),
            O::GlobalGet { global_index } => {
                let ty = t.global_type(global_index)?;
                let dst = t.push_temp(ty)?;
                t.emit(if ty == V128 {
                    Instr::V128GlobalGet {
                        dst,
                        global: global_index,
                    }
                } else {
                    Instr::GlobalGet {
                        dst,
                        global: global_index,
                    }
                });
                Ok(())
            }
            O::GlobalSet { global_index } => {
                let v128 = t.global_type(global_index)? == V128;
                let src = t.pop_reg()?;
                t.emit(if v128 {
                    Instr::V128GlobalSet {
                        src,
                        global: global_index,
                    }
                } else {
                    Instr::GlobalSet {
                        src,
                        global: global_index,
                    }
                });
                Ok(())
            }

            O::I32Load { memarg } => load!(t, I32Load, I32LoadAdd, memarg, I32),
            O::I64Load { memarg } => load!(t, I64Load, I64LoadAdd, memarg, I64),
            O::F32Load { memarg } => load!(t, F32Load, F32LoadAdd, memarg, F32),
            O::F64Load { memarg } => load!(t, F64Load, F64LoadAdd, memarg, F64),
            O::I32Load8S { memarg } => load!(t, I32Load8S, I32Load8SAdd, memarg, I32),
            O::I32Load8U { memarg } => load!(t, I32Load8U, I32Load8UAdd, memarg, I32),
            O::I32Load16S { memarg } => load!(t, I32Load16S, I32Load16SAdd, memarg, I32),
            O::I32Load16U { memarg } => load!(t, I32Load16U, I32Load16UAdd, memarg, I32),
            O::I64Load8S { memarg } => load!(t, I64Load8S, I64Load8SAdd, memarg, I64),
            O::I64Load8U { memarg } => load!(t, I64Load8U, I64Load8UAdd, memarg, I64),
            O::I64Load16S { memarg } => load!(t, I64Load16S, I64Load16SAdd, memarg, I64),
            O::I64Load16U { memarg } => load!(t, I64Load16U, I64Load16UAdd, memarg, I64),
            O::I64Load32S { memarg } => load!(t, I64Load32S, I64Load32SAdd, memarg, I64),
            O::I64Load32U { memarg } => load!(t, I64Load32U, I64Load32UAdd, memarg, I64),
            O::I32Store { memarg } => store!(t, I32Store, I32StoreAdd, memarg),
            O::I64Store { memarg } => store!(t, I64Store, I64StoreAdd, memarg),
            O::F32Store { memarg } => store!(t, F32Store, F32StoreAdd, memarg),
            O::F64Store { memarg } => store!(t, F64Store, F64StoreAdd, memarg),
            O::I32Store8 { memarg } => store!(t, I32Store8, I32Store8Add, memarg),
            O::I32Store16 { memarg } => store!(t, I32Store16, I32Store16Add, memarg),
            O::I64Store8 { memarg } => store!(t, I64Store8, I64Store8Add, memarg),
            O::I64Store16 { memarg } => store!(t, I64Store16, I64Store16Add, memarg),
            O::I64Store32 { memarg } => store!(t, I64Store32, I64Store32Add, memarg),
            O::MemorySize { mem } => {
                let ty = t.memory_index_type(mem)?;
                let dst = t.push_temp(ty)?;
                t.emit(Instr::MemorySize { dst, mem });
                Ok(())
            }
            O::MemoryGrow { mem } => {
                let ty = t.memory_index_type(mem)?;
                let delta = t.pop_reg()?;
                let dst = t.push_temp(ty)?;
                t.emit(Instr::MemoryGrow { dst, delta, mem });
                Ok(())
            }
            O::MemoryFill { mem } => {
                t.memory_index_type(mem)?;
                let [dst, val, len] = t.pop3()?;
                let mem = u16::try_from(mem).map_err(|_| "memory index too large")?;
                t.emit(Instr::MemoryFill { dst, val, len, mem });
                Ok(())
            }
            O::MemoryCopy { dst_mem, src_mem } => {
                let [dst, src, len] = t.pop3()?;
                t.emit(Instr::MemoryCopy { dst, src, len });
                t.emit(Instr::Data {
                    a: dst_mem,
                    b: src_mem,
                });
                Ok(())
            }
            O::MemoryInit { data_index, mem } => {
                let [dst, src, len] = t.pop3()?;
                t.emit(Instr::MemoryInit {
                    dst,
                    src,
                    len,
                    seg: data_index,
                });
                t.emit(Instr::Data { a: mem, b: 0 });
                Ok(())
            }
            O::DataDrop { data_index } => {
                t.emit(Instr::DataDrop { seg: data_index });
                Ok(())
            }

            O::I32Const { value } => t.push_const(value as u32 as u64, I32),
            O::I64Const { value } => t.push_const(value as u64, I64),
            O::F32Const { value } => t.push_const(value.bits() as u64, F32),
            O::F64Const { value } => t.push_const(value.bits(), F64),

            O::RefNull { hty } => {
                let heap = crate::types::heap_type(hty, &t.module.heap_types)?;
                let ty = match heap.top() {
                    Some(crate::types::HeapType::Extern) => ExternRef,
                    Some(crate::types::HeapType::Exn) => ExnRef,
                    _ => FuncRef,
                };
                t.push_const(0, ty)
            }
            O::RefIsNull => un!(t, RefIsNull, I32),
            O::RefFunc { function_index } => {
                let dst = t.push_temp(FuncRef)?;
                t.emit(Instr::RefFunc {
                    dst,
                    func: function_index,
                });
                Ok(())
            }
            O::TableGet { table } => {
                let ty = t.table_type(table)?;
                let index = t.pop_reg()?;
                let dst = t.push_temp(ty)?;
                t.emit(Instr::TableGet { dst, index, table });
                Ok(())
            }
            O::TableSet { table } => {
                let val = t.pop()?;
                let index = t.pop()?;
                let (index, val) = (t.use_reg(index), t.use_reg(val));
                t.emit(Instr::TableSet { index, val, table });
                Ok(())
            }
            O::TableSize { table } => {
                let dst = t.push_temp(t.table_index_type(table)?)?;
                t.emit(Instr::TableSize { dst, table });
                Ok(())
            }
            O::TableGrow { table } => {
                let delta = t.pop()?;
                let init = t.pop()?;
                let (init, delta) = (t.use_reg(init), t.use_reg(delta));
                let dst = t.push_temp(t.table_index_type(table)?)?;
                let table = u16::try_from(table).map_err(|_| "table index too large")?;
                t.emit(Instr::TableGrow {
                    dst,
                    init,
                    delta,
                    table,
                });
                Ok(())
            }
            O::TableFill { table } => {
                let [dst, val, len] = t.pop3()?;
                let table = u16::try_from(table).map_err(|_| "table index too large")?;
                t.emit(Instr::TableFill {
                    dst,
                    val,
                    len,
                    table,
                });
                Ok(())
            }
            O::TableCopy {
                dst_table,
                src_table,
            } => {
                let [dst, src, len] = t.pop3()?;
                t.emit(Instr::TableCopy { dst, src, len });
                t.emit(Instr::Data {
                    a: dst_table,
                    b: src_table,
                });
                Ok(())
            }
            O::TableInit { elem_index, table } => {
                let [dst, src, len] = t.pop3()?;
                t.emit(Instr::TableInit { dst, src, len });
                t.emit(Instr::Data {
                    a: table,
                    b: elem_index,
                });
                Ok(())
            }
            O::ElemDrop { elem_index } => {
                t.emit(Instr::ElemDrop { seg: elem_index });
                Ok(())
            }

            O::I32Eqz => un!(t, I32Eqz, I32),
            O::I32Eq => bin!(t, I32Eq, I32EqImm, I32EqImm, I32),
            O::I32Ne => bin!(t, I32Ne, I32NeImm, I32NeImm, I32),
            O::I32LtS => bin!(t, I32LtS, I32LtSImm, I32GtSImm, I32),
            O::I32LtU => bin!(t, I32LtU, I32LtUImm, I32GtUImm, I32),
            O::I32GtS => bin!(t, I32GtS, I32GtSImm, I32LtSImm, I32),
            O::I32GtU => bin!(t, I32GtU, I32GtUImm, I32LtUImm, I32),
            O::I32LeS => bin!(t, I32LeS, I32LeSImm, I32GeSImm, I32),
            O::I32LeU => bin!(t, I32LeU, I32LeUImm, I32GeUImm, I32),
            O::I32GeS => bin!(t, I32GeS, I32GeSImm, I32LeSImm, I32),
            O::I32GeU => bin!(t, I32GeU, I32GeUImm, I32LeUImm, I32),
            O::I64Eqz => un!(t, I64Eqz, I32),
            O::I64Eq => bin!(t, I64Eq, I64EqImm, I64EqImm, I32),
            O::I64Ne => bin!(t, I64Ne, I64NeImm, I64NeImm, I32),
            O::I64LtS => bin!(t, I64LtS, I64LtSImm, I64GtSImm, I32),
            O::I64LtU => bin!(t, I64LtU, I64LtUImm, I64GtUImm, I32),
            O::I64GtS => bin!(t, I64GtS, I64GtSImm, I64LtSImm, I32),
            O::I64GtU => bin!(t, I64GtU, I64GtUImm, I64LtUImm, I32),
            O::I64LeS => bin!(t, I64LeS, I64LeSImm, I64GeSImm, I32),
            O::I64LeU => bin!(t, I64LeU, I64LeUImm, I64GeUImm, I32),
            O::I64GeS => bin!(t, I64GeS, I64GeSImm, I64LeSImm, I32),
            O::I64GeU => bin!(t, I64GeU, I64GeUImm, I64LeUImm, I32),
            O::F32Eq => bin!(t, F32Eq, I32),
            O::F32Ne => bin!(t, F32Ne, I32),
            O::F32Lt => bin!(t, F32Lt, I32),
            O::F32Gt => bin!(t, F32Gt, I32),
            O::F32Le => bin!(t, F32Le, I32),
            O::F32Ge => bin!(t, F32Ge, I32),
            O::F64Eq => bin!(t, F64Eq, I32),
            O::F64Ne => bin!(t, F64Ne, I32),
            O::F64Lt => bin!(t, F64Lt, I32),
            O::F64Gt => bin!(t, F64Gt, I32),
            O::F64Le => bin!(t, F64Le, I32),
            O::F64Ge => bin!(t, F64Ge, I32),

            O::I32Clz => un!(t, I32Clz, I32),
            O::I32Ctz => un!(t, I32Ctz, I32),
            O::I32Popcnt => un!(t, I32Popcnt, I32),
            O::I32Add => bin!(t, I32Add, I32AddImm, I32AddImm, I32),
            O::I32Sub => bin!(t, I32Sub, I32SubImm, I32),
            O::I32Mul => bin!(t, I32Mul, I32MulImm, I32MulImm, I32),
            O::I32DivS => bin!(t, I32DivS, I32),
            O::I32DivU => bin!(t, I32DivU, I32),
            O::I32RemS => bin!(t, I32RemS, I32),
            O::I32RemU => bin!(t, I32RemU, I32),
            O::I32And => bin!(t, I32And, I32AndImm, I32AndImm, I32),
            O::I32Or => bin!(t, I32Or, I32OrImm, I32OrImm, I32),
            O::I32Xor => bin!(t, I32Xor, I32XorImm, I32XorImm, I32),
            O::I32Shl => bin!(t, I32Shl, I32ShlImm, I32),
            O::I32ShrS => bin!(t, I32ShrS, I32ShrSImm, I32),
            O::I32ShrU => bin!(t, I32ShrU, I32ShrUImm, I32),
            O::I32Rotl => bin!(t, I32Rotl, I32RotlImm, I32),
            O::I32Rotr => bin!(t, I32Rotr, I32RotrImm, I32),
            O::I64Clz => un!(t, I64Clz, I64),
            O::I64Ctz => un!(t, I64Ctz, I64),
            O::I64Popcnt => un!(t, I64Popcnt, I64),
            O::I64Add => bin!(t, I64Add, I64AddImm, I64AddImm, I64),
            O::I64Sub => bin!(t, I64Sub, I64SubImm, I64),
            O::I64Mul => bin!(t, I64Mul, I64MulImm, I64MulImm, I64),
            O::I64DivS => bin!(t, I64DivS, I64),
            O::I64DivU => bin!(t, I64DivU, I64),
            O::I64RemS => bin!(t, I64RemS, I64),
            O::I64RemU => bin!(t, I64RemU, I64),
            O::I64And => bin!(t, I64And, I64AndImm, I64AndImm, I64),
            O::I64Or => bin!(t, I64Or, I64OrImm, I64OrImm, I64),
            O::I64Xor => bin!(t, I64Xor, I64XorImm, I64XorImm, I64),
            O::I64Shl => bin!(t, I64Shl, I64ShlImm, I64),
            O::I64ShrS => bin!(t, I64ShrS, I64ShrSImm, I64),
            O::I64ShrU => bin!(t, I64ShrU, I64ShrUImm, I64),
            O::I64Rotl => bin!(t, I64Rotl, I64RotlImm, I64),
            O::I64Rotr => bin!(t, I64Rotr, I64RotrImm, I64),

            O::F32Abs => un!(t, F32Abs, F32),
            O::F32Neg => un!(t, F32Neg, F32),
            O::F32Ceil => un!(t, F32Ceil, F32),
            O::F32Floor => un!(t, F32Floor, F32),
            O::F32Trunc => un!(t, F32Trunc, F32),
            O::F32Nearest => un!(t, F32Nearest, F32),
            O::F32Sqrt => un!(t, F32Sqrt, F32),
            O::F32Add => bin!(t, F32Add, F32),
            O::F32Sub => bin!(t, F32Sub, F32),
            O::F32Mul => bin!(t, F32Mul, F32),
            O::F32Div => bin!(t, F32Div, F32),
            O::F32Min => bin!(t, F32Min, F32),
            O::F32Max => bin!(t, F32Max, F32),
            O::F32Copysign => bin!(t, F32Copysign, F32),
            O::F64Abs => un!(t, F64Abs, F64),
            O::F64Neg => un!(t, F64Neg, F64),
            O::F64Ceil => un!(t, F64Ceil, F64),
            O::F64Floor => un!(t, F64Floor, F64),
            O::F64Trunc => un!(t, F64Trunc, F64),
            O::F64Nearest => un!(t, F64Nearest, F64),
            O::F64Sqrt => un!(t, F64Sqrt, F64),
            O::F64Add => bin!(t, F64Add, F64),
            O::F64Sub => bin!(t, F64Sub, F64),
            O::F64Mul => bin!(t, F64Mul, F64),
            O::F64Div => bin!(t, F64Div, F64),
            O::F64Min => bin!(t, F64Min, F64),
            O::F64Max => bin!(t, F64Max, F64),
            O::F64Copysign => bin!(t, F64Copysign, F64),

            O::I32WrapI64 => un!(t, I32WrapI64, I32),
            O::I32TruncF32S => un!(t, I32TruncF32S, I32),
            O::I32TruncF32U => un!(t, I32TruncF32U, I32),
            O::I32TruncF64S => un!(t, I32TruncF64S, I32),
            O::I32TruncF64U => un!(t, I32TruncF64U, I32),
            O::I64ExtendI32S => un!(t, I64ExtendI32S, I64),
            O::I64ExtendI32U => un!(t, I64ExtendI32U, I64),
            O::I64TruncF32S => un!(t, I64TruncF32S, I64),
            O::I64TruncF32U => un!(t, I64TruncF32U, I64),
            O::I64TruncF64S => un!(t, I64TruncF64S, I64),
            O::I64TruncF64U => un!(t, I64TruncF64U, I64),
            O::F32ConvertI32S => un!(t, F32ConvertI32S, F32),
            O::F32ConvertI32U => un!(t, F32ConvertI32U, F32),
            O::F32ConvertI64S => un!(t, F32ConvertI64S, F32),
            O::F32ConvertI64U => un!(t, F32ConvertI64U, F32),
            O::F32DemoteF64 => un!(t, F32DemoteF64, F32),
            O::F64ConvertI32S => un!(t, F64ConvertI32S, F64),
            O::F64ConvertI32U => un!(t, F64ConvertI32U, F64),
            O::F64ConvertI64S => un!(t, F64ConvertI64S, F64),
            O::F64ConvertI64U => un!(t, F64ConvertI64U, F64),
            O::F64PromoteF32 => un!(t, F64PromoteF32, F64),
            O::I32ReinterpretF32 => t.retype(I32),
            O::I64ReinterpretF64 => t.retype(I64),
            O::F32ReinterpretI32 => t.retype(F32),
            O::F64ReinterpretI64 => t.retype(F64),
            O::I32Extend8S => un!(t, I32Extend8S, I32),
            O::I32Extend16S => un!(t, I32Extend16S, I32),
            O::I64Extend8S => un!(t, I64Extend8S, I64),
            O::I64Extend16S => un!(t, I64Extend16S, I64),
            O::I64Extend32S => un!(t, I64Extend32S, I64),
            O::I32TruncSatF32S => un!(t, I32TruncSatF32S, I32),
            O::I32TruncSatF32U => un!(t, I32TruncSatF32U, I32),
            O::I32TruncSatF64S => un!(t, I32TruncSatF64S, I32),
            O::I32TruncSatF64U => un!(t, I32TruncSatF64U, I32),
            O::I64TruncSatF32S => un!(t, I64TruncSatF32S, I64),
            O::I64TruncSatF32U => un!(t, I64TruncSatF32U, I64),
            O::I64TruncSatF64S => un!(t, I64TruncSatF64S, I64),
            O::I64TruncSatF64U => un!(t, I64TruncSatF64U, I64),

            other => t.visit_simd(other),
        }
    }

    fn pop3(&mut self) -> R<[Reg; 3]> {
        let c = self.pop()?;
        let b = self.pop()?;
        let a = self.pop()?;
        Ok([self.use_reg(a), self.use_reg(b), self.use_reg(c)])
    }

    /// The type of addresses into memory `mem`: `i64` for a 64-bit memory.
    fn memory_index_type(&self, mem: u32) -> R<ValType> {
        match self.module.memories.get(mem as usize) {
            Some(m) if m.memory64 => Ok(I64),
            Some(_) => Ok(I32),
            None => Err(format!("no memory {mem}")),
        }
    }

    /// The type of indices into table `table`: `i64` for a 64-bit table.
    fn table_index_type(&self, table: u32) -> R<ValType> {
        match self.module.tables.get(table as usize) {
            Some(t) if t.ty.table64 => Ok(I64),
            Some(_) => Ok(I32),
            None => Err(format!("no table {table}")),
        }
    }

    fn global_type(&self, index: u32) -> R<ValType> {
        self.module
            .global_types
            .get(index as usize)
            .map(|g| g.content)
            .ok_or_else(|| format!("no global {index}"))
    }

    fn table_type(&self, index: u32) -> R<ValType> {
        self.module
            .tables
            .get(index as usize)
            .map(|t| t.ty.element)
            .ok_or_else(|| format!("no table {index}"))
    }
}
