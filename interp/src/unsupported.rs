//! Function-body validation that also refuses what gloam does not build yet.
//!
//! Typed function references need wasmparser's `GC` feature (recursion groups, and Wasm
//! 3.0's constant expressions are gated on it), which also lets the GC proposal's
//! instructions and heap types through. `Module::new` validates every body here, one
//! operator at a time, and turns those constructs into a "not supported" compile error,
//! so that they never reach the (lazy) translator.

use crate::prelude::*;
use crate::types::{HeapType, ValType};
use wasmparser::{FuncValidator, FunctionBody, Operator as O, WasmModuleResources};

fn err(e: wasmparser::BinaryReaderError) -> String {
    e.to_string()
}

/// Validates `body` with `v`, refusing GC-proposal instructions and heap types
/// (`heaps`: the module's heap types by type index).
pub(crate) fn validate_body<R: WasmModuleResources>(
    v: &mut FuncValidator<R>,
    body: &FunctionBody<'_>,
    heaps: &[HeapType],
    features: wasmparser::WasmFeatures,
) -> Result<(), String> {
    validate_body_with(v, body, heaps, features, |_| {})
}

/// Validates one body (no translation) and returns the validator's allocations for the
/// next. First with wasmparser's own operator loop and the GC proposal off for the body:
/// that refuses every GC instruction and heap type itself, so a body it accepts is one
/// [`validate_body`] accepts too, at a fraction of the cost. Only a body it rejects goes
/// through [`validate_body`] (with `GC` on, as the module has it), whose verdict and
/// message ("not supported" for GC constructs) are the ones reported.
pub(crate) fn validate_body_fast(
    func: wasmparser::FuncToValidate<wasmparser::ValidatorResources>,
    allocs: wasmparser::FuncValidatorAllocations,
    body: &FunctionBody<'_>,
    heaps: &[HeapType],
    features: wasmparser::WasmFeatures,
) -> (Result<(), String>, wasmparser::FuncValidatorAllocations) {
    let mut without_gc = features;
    without_gc.remove(wasmparser::WasmFeatures::GC);
    let quick = wasmparser::FuncToValidate {
        resources: func.resources.clone(),
        index: func.index,
        ty: func.ty,
        features: without_gc,
    };
    let mut v = quick.into_validator(allocs);
    if v.validate(body).is_ok() {
        return (Ok(()), v.into_allocations());
    }
    let mut v = func.into_validator(v.into_allocations());
    let result = validate_body(&mut v, body, heaps, features);
    (result, v.into_allocations())
}

/// [`validate_body`], handing every operator to `each` once it has passed validation:
/// one decoding of the body serves validation and translation.
pub(crate) fn validate_body_with<R: WasmModuleResources>(
    v: &mut FuncValidator<R>,
    body: &FunctionBody<'_>,
    heaps: &[HeapType],
    features: wasmparser::WasmFeatures,
    mut each: impl FnMut(O<'_>),
) -> Result<(), String> {
    let mut reader = body.get_binary_reader();
    for _ in 0..reader.read_var_u32().map_err(err)? {
        let offset = reader.original_position();
        let count = reader.read().map_err(err)?;
        let ty: wasmparser::ValType = reader.read().map_err(err)?;
        v.define_locals(offset, count, ty).map_err(err)?;
        ValType::from_wasmparser(ty, heaps).map_err(|e| at(e, offset))?;
    }
    reader.set_features(features);
    let top = v.get_control_frame(0).map(|f| f.kind);
    let mut both = Both {
        v,
        heaps,
        each: &mut each,
        offset: 0,
        top,
    };
    // The reader takes the control frames from the validator (as wasmparser's own
    // `FuncValidator::validate` loop does), not from an `OperatorsReader`'s copy.
    while !reader.eof() {
        both.offset = reader.original_position();
        match reader.visit_operator(&mut both) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(e) => return Err(err(e)),
        }
    }
    reader.finish_expression(&both).map_err(err)
}

/// The visitor [`validate_body_with`] decodes each operator into: the validator's
/// method for it, then (if valid) the [`Operator`](O) built from the same immediates,
/// checked by [`check_operator`] and handed on. One decoding and no second dispatch on
/// the operator for validation (as `FuncValidator::op` would do).
struct Both<'v, 'h, 'e, R> {
    v: &'v mut FuncValidator<R>,
    heaps: &'h [HeapType],
    /// Behind `dyn`: one copy of the (large) visitor per resource type, not one per
    /// caller's closure as well.
    each: &'e mut dyn FnMut(O<'_>),
    /// The offset of the operator being visited.
    offset: u64,
    /// The kind of the validator's innermost control frame (`None` after the body's
    /// final `end`), refreshed after each operator that pushes or pops frames.
    top: Option<wasmparser::FrameKind>,
}

impl<R: WasmModuleResources> Both<'_, '_, '_, R> {
    /// After the validator accepted `op`: gloam's own check, then `each`.
    #[inline(always)]
    fn accept(&mut self, op: O<'_>) -> Result<(), String> {
        if changes_frames(&op) {
            self.top = self.v.get_control_frame(0).map(|f| f.kind);
        }
        debug_assert_eq!(self.top, self.v.get_control_frame(0).map(|f| f.kind));
        if needs_check(&op) {
            check_operator(&op, self.heaps).map_err(|e| at(e, self.offset))?;
        }
        (self.each)(op);
        Ok(())
    }
}

/// The methods of [`Both`]: `$validator` is how to reach the validator's visitor.
macro_rules! both_methods {
    ($validator:ident; $( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*))*) => {
        $(
            #[inline(always)]
            fn $visit(&mut self $($(, $arg: $argty)*)?) -> Result<(), String> {
                if let Err(e) = self.v.$validator(self.offset).$visit($($($arg.clone()),*)?) {
                    return Err(err(e));
                }
                self.accept(O::$op $({ $($arg),* })?)
            }
        )*
    };
}

macro_rules! both_visit_methods {
    ($($t:tt)*) => { both_methods!(visitor; $($t)*); };
}

macro_rules! both_simd_methods {
    ($($t:tt)*) => { both_methods!(simd_visitor; $($t)*); };
}

/// The validator's control frames: the innermost one's kind.
impl<R: WasmModuleResources> wasmparser::FrameStack for Both<'_, '_, '_, R> {
    #[inline(always)]
    fn current_frame(&self) -> Option<wasmparser::FrameKind> {
        self.top
    }
}

/// Whether the validator pushes or pops control frames for `op` (its only such
/// operators), so [`Both::top`] must be refreshed. Inlined into each visit method,
/// where the variant is known.
#[inline(always)]
fn changes_frames(op: &O<'_>) -> bool {
    matches!(
        op,
        O::Block { .. }
            | O::Loop { .. }
            | O::If { .. }
            | O::Else
            | O::End
            | O::TryTable { .. }
            | O::Try { .. }
            | O::Catch { .. }
            | O::CatchAll
            | O::Delegate { .. }
    )
}

#[allow(clippy::clone_on_copy)]
impl<'a, R: WasmModuleResources> wasmparser::VisitOperator<'a> for Both<'_, '_, '_, R> {
    type Output = Result<(), String>;

    fn simd_visitor(
        &mut self,
    ) -> Option<&mut dyn wasmparser::VisitSimdOperator<'a, Output = Self::Output>> {
        Some(self)
    }

    wasmparser::for_each_visit_operator!(both_visit_methods);
}

#[allow(clippy::clone_on_copy)]
impl<'a, R: WasmModuleResources> wasmparser::VisitSimdOperator<'a> for Both<'_, '_, '_, R> {
    wasmparser::for_each_visit_simd_operator!(both_simd_methods);
}

fn at(e: String, offset: u64) -> String {
    format!("{e} (at offset {offset:#x})")
}

/// Whether `op` is an instruction of the GC proposal (which gloam does not build yet).
#[inline(always)]
fn is_gc_operator(op: &O<'_>) -> bool {
    matches!(
        op,
        O::RefEq
            | O::StructNew { .. }
            | O::StructNewDefault { .. }
            | O::StructGet { .. }
            | O::StructGetS { .. }
            | O::StructGetU { .. }
            | O::StructSet { .. }
            | O::ArrayNew { .. }
            | O::ArrayNewDefault { .. }
            | O::ArrayNewFixed { .. }
            | O::ArrayNewData { .. }
            | O::ArrayNewElem { .. }
            | O::ArrayGet { .. }
            | O::ArrayGetS { .. }
            | O::ArrayGetU { .. }
            | O::ArraySet { .. }
            | O::ArrayLen
            | O::ArrayFill { .. }
            | O::ArrayCopy { .. }
            | O::ArrayInitData { .. }
            | O::ArrayInitElem { .. }
            | O::RefTestNonNull { .. }
            | O::RefTestNullable { .. }
            | O::RefCastNonNull { .. }
            | O::RefCastNullable { .. }
            | O::BrOnCast { .. }
            | O::BrOnCastFail { .. }
            | O::AnyConvertExtern
            | O::ExternConvertAny
            | O::RefI31
            | O::I31GetS
            | O::I31GetU
    )
}

/// Whether [`check_operator`] may refuse `op`: a GC-proposal instruction or one naming a
/// type. Inlined (the two `matches!` become one test of the opcode), so the common
/// operators pay no call.
#[inline(always)]
fn needs_check(op: &O<'_>) -> bool {
    is_gc_operator(op)
        || matches!(
            op,
            O::RefNull { .. }
                | O::TypedSelect { .. }
                | O::Block {
                    blockty: wasmparser::BlockType::Type(_)
                }
                | O::Loop {
                    blockty: wasmparser::BlockType::Type(_)
                }
                | O::If {
                    blockty: wasmparser::BlockType::Type(_)
                }
        )
}

/// Refuses an operator of the GC proposal, or one naming a heap type gloam does not
/// support.
#[inline(never)]
fn check_operator(op: &O<'_>, heaps: &[HeapType]) -> Result<(), String> {
    let gc = is_gc_operator(op);
    if gc {
        return Err(format!(
            "instruction {op:?} is not supported (GC proposal: not built yet)"
        ));
    }
    match op {
        O::RefNull { hty } => crate::types::heap_type(*hty, heaps).map(drop),
        O::TypedSelect { ty } => ValType::from_wasmparser(*ty, heaps).map(drop),
        O::Block { blockty } | O::Loop { blockty } | O::If { blockty } => match blockty {
            wasmparser::BlockType::Type(ty) => ValType::from_wasmparser(*ty, heaps).map(drop),
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}
