//! Typed function references (Wasm 3.0): `call_ref`, `return_call_ref`,
//! `ref.as_non_null`, `br_on_null` and `br_on_non_null`.
//!
//! A reference is one cell that is 0 exactly when null, so the two branches are the
//! 64-bit compare-with-zero branches every tier already runs.

use super::{Entry, R, Translator};
use crate::ops::{Instr, Reg, Target};
use crate::types::{FuncType, RefType, ValType};

impl Translator<'_> {
    /// Pops the function reference and the arguments of a call through a reference of
    /// type `ty_index`: the type, the reference's register and the arguments' base.
    fn ref_call_args(&mut self, ty_index: u32) -> R<(FuncType, Reg, Reg)> {
        let ty = self
            .module
            .types
            .get(ty_index as usize)
            .ok_or("bad type index")?
            .clone();
        let func = self.pop()?;
        let func = self.use_reg(func);
        let base = self.call_args(ty.params().len())?;
        Ok((ty, func, base))
    }

    pub(super) fn visit_call_ref(&mut self, ty_index: u32) -> R {
        let (ty, func, base) = self.ref_call_args(ty_index)?;
        self.emit(Instr::CallRef { func, base });
        self.push_results(ty.results())
    }

    pub(super) fn visit_return_call_ref(&mut self, ty_index: u32) -> R {
        let (_, func, base) = self.ref_call_args(ty_index)?;
        self.emit(Instr::ReturnCallRef { func, base });
        self.set_unreachable();
        Ok(())
    }

    pub(super) fn visit_ref_as_non_null(&mut self) -> R {
        let e = self.pop()?;
        let src = self.use_reg(e);
        let dst = self.push_temp(non_null(e.ty))?;
        self.emit(Instr::RefAsNonNull { dst, src });
        Ok(())
    }

    /// `br_on_null`: branches (without the reference) when it is null, else goes on with
    /// it, now known non-null.
    pub(super) fn visit_br_on_null(&mut self, depth: u32) -> R {
        let e = self.pop()?;
        let a = self.use_reg(e);
        self.branch_on_ref(depth, a, true)?;
        self.stack.push(Entry {
            ty: non_null(e.ty),
            ..e
        });
        Ok(())
    }

    /// `br_on_non_null`: branches with the reference when it is not null, else drops it
    /// and goes on.
    pub(super) fn visit_br_on_non_null(&mut self, depth: u32) -> R {
        let e = *self.stack.last().ok_or("operand stack underflow")?;
        let a = self.use_reg(e);
        self.branch_on_ref(depth, a, false)?;
        self.pop().map(drop)
    }

    /// A branch to `depth`, with the values on the operand stack, taken when the
    /// reference in `a` is null (`null`) or non-null (`!null`).
    fn branch_on_ref(&mut self, depth: u32, a: Reg, null: bool) -> R {
        let cond = |eq: bool| {
            let target = Target(0);
            if eq {
                Instr::BrI64EqImm { a, imm: 0, target }
            } else {
                Instr::BrI64NeImm { a, imm: 0, target }
            }
        };
        if self.branch_is_simple(depth)? {
            let idx = self.emit(cond(null));
            self.add_fixup(depth, idx)?;
        } else {
            let skip = self.emit(cond(!null));
            self.branch_copies(depth)?;
            self.jump(depth)?;
            self.patch_here(skip);
        }
        self.label();
        self.fuel_block();
        Ok(())
    }
}

/// The non-null version of reference type `ty`.
fn non_null(ty: ValType) -> ValType {
    match ty.as_ref() {
        Some(r) => ValType::from_ref(RefType::new(false, r.heap_type)),
        None => ty,
    }
}
