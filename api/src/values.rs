//! Values: `Val`, `ValRaw`, `V128`, and the `externref` handles.

use crate::exn::ExnRef;
use crate::func::Func;
use crate::gc::{ExternRef, Rooted};
use crate::store::AsContext;
use anyhow::{Result, bail};
use gloam_gc::VMGcRef;
use gloam_interp::{HeapType, StoreInner, ValType};

/// A 128-bit SIMD value.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct V128(u128);

impl V128 {
    /// The value as an integer: bits `8*i .. 8*i + 8` are byte `i` (lane order).
    pub fn as_u128(&self) -> u128 {
        self.0
    }

    /// The two frame cells of the value: bytes 0..8 and 8..16, as little-endian `u64`s.
    pub(crate) fn to_cells(self, cells: &mut [u64]) {
        cells[0] = self.0 as u64;
        cells[1] = (self.0 >> 64) as u64;
    }

    pub(crate) fn from_cells(cells: &[u64]) -> V128 {
        V128(cells[0] as u128 | (cells[1] as u128) << 64)
    }
}

impl From<u128> for V128 {
    fn from(v: u128) -> V128 {
        V128(v)
    }
}

/// A WebAssembly value.
#[derive(Clone, Debug)]
pub enum Val {
    I32(i32),
    I64(i64),
    /// An `f32`, as its bits (so NaN payloads survive).
    F32(u32),
    /// An `f64`, as its bits.
    F64(u64),
    V128(V128),
    FuncRef(Option<Func>),
    ExternRef(Option<Rooted<ExternRef>>),
    ExnRef(Option<Rooted<ExnRef>>),
}

macro_rules! accessors {
    ($($get:ident $unwrap:ident $variant:ident $t:ty;)*) => {$(
        /// The value if it has this type.
        pub fn $get(&self) -> Option<$t> {
            match self { Val::$variant(v) => Some(*v), _ => None }
        }
        /// The value; panics if it has another type.
        pub fn $unwrap(&self) -> $t {
            self.$get().unwrap_or_else(|| panic!("expected {}, found {:?}", stringify!($variant), self))
        }
    )*};
}

impl Val {
    accessors! {
        i32 unwrap_i32 I32 i32;
        i64 unwrap_i64 I64 i64;
        v128 unwrap_v128 V128 V128;
    }

    pub fn f32(&self) -> Option<f32> {
        match self {
            Val::F32(b) => Some(f32::from_bits(*b)),
            _ => None,
        }
    }

    pub fn unwrap_f32(&self) -> f32 {
        self.f32()
            .unwrap_or_else(|| panic!("expected F32, found {self:?}"))
    }

    pub fn f64(&self) -> Option<f64> {
        match self {
            Val::F64(b) => Some(f64::from_bits(*b)),
            _ => None,
        }
    }

    pub fn unwrap_f64(&self) -> f64 {
        self.f64()
            .unwrap_or_else(|| panic!("expected F64, found {self:?}"))
    }

    pub fn funcref(&self) -> Option<Option<&Func>> {
        match self {
            Val::FuncRef(f) => Some(f.as_ref()),
            _ => None,
        }
    }

    pub fn externref(&self) -> Option<Option<&Rooted<ExternRef>>> {
        match self {
            Val::ExternRef(r) => Some(r.as_ref()),
            _ => None,
        }
    }

    pub fn exnref(&self) -> Option<Option<&Rooted<ExnRef>>> {
        match self {
            Val::ExnRef(r) => Some(r.as_ref()),
            _ => None,
        }
    }

    /// The value's type.
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FuncRef,
            Val::ExternRef(_) => ValType::ExternRef,
            Val::ExnRef(_) => ValType::ExnRef,
        }
    }

    /// The default (zero or null) value of a type. For a non-nullable reference type,
    /// which has no default, the null of its hierarchy (which the type rejects).
    pub fn default_for_ty(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(V128(0)),
            ty if extern_family(ty) => Val::ExternRef(None),
            ty if exn_family(ty) => Val::ExnRef(None),
            _ => Val::FuncRef(None),
        }
    }

    /// Whether the value is a value of type `ty` in `store`: a function reference
    /// matches `(ref $t)` only if the function has type `$t`, and null only nullable
    /// reference types.
    pub fn matches_ty(&self, store: impl AsContext, ty: &ValType) -> Result<bool> {
        self.matches_in(store.as_context().inner, *ty)
    }

    pub(crate) fn matches_in(&self, store: &StoreInner, ty: ValType) -> Result<bool> {
        let Some(r) = ty.as_ref() else {
            return Ok(self.ty() == ty);
        };
        let top = r.heap_type.top();
        Ok(match self {
            // Struct and array references (no top here) can only be null: any null
            // stands for theirs.
            Val::FuncRef(None) => r.nullable && top != Some(HeapType::Extern),
            Val::ExternRef(None) => r.nullable && top != Some(HeapType::Func),
            Val::FuncRef(Some(f)) => match r.heap_type {
                HeapType::Func => true,
                HeapType::ConcreteFunc(id) => store.funcs[f.addr(store)? as usize].type_id() == id,
                _ => false,
            },
            Val::ExternRef(Some(_)) => r.heap_type == HeapType::Extern,
            _ => false,
        })
    }

    /// An error unless the value is of type `ty` (see [`Val::matches_ty`]); `what`
    /// names the value in the message.
    pub(crate) fn check_ty(&self, store: &StoreInner, ty: ValType, what: &str) -> Result<()> {
        if !self.matches_in(store, ty)? {
            let got = match self {
                Val::FuncRef(None) | Val::ExternRef(None) => "null".to_string(),
                Val::FuncRef(Some(f)) => {
                    format!("a function of type {}", store.func_type(f.addr(store)?))
                }
                v => v.ty().to_string(),
            };
            bail!("{what}: expected {ty}, got {got}");
        }
        Ok(())
    }

    /// The value as one frame cell of `store`. References must belong to the store. A
    /// `v128` takes two cells: use [`Val::to_cells`] for values of any type.
    pub(crate) fn to_cell(&self, store: &StoreInner) -> Result<u64> {
        Ok(match self {
            Val::I32(v) => *v as u32 as u64,
            Val::I64(v) => *v as u64,
            Val::F32(v) => *v as u64,
            Val::F64(v) => *v,
            Val::V128(_) => bail!("internal error: a v128 value does not fit in one cell"),
            Val::FuncRef(None) | Val::ExternRef(None) | Val::ExnRef(None) => 0,
            Val::ExnRef(Some(r)) => r.raw_ref(store)?.as_raw() as u64,
            Val::FuncRef(Some(f)) => f.cell(store)?,
            Val::ExternRef(Some(r)) => r.gc_ref(store)?.as_raw() as u64,
        })
    }

    /// Writes the value's `ty().cells()` frame cells to the front of `cells`: one cell,
    /// or for a `v128` bytes 0..8 then 8..16 as little-endian `u64`s.
    pub(crate) fn to_cells(&self, store: &StoreInner, cells: &mut [u64]) -> Result<()> {
        match self {
            Val::V128(v) => v.to_cells(cells),
            other => cells[0] = other.to_cell(store)?,
        }
        Ok(())
    }

    /// Rebuilds a value of type `ty` from the front of `cells` (see [`Val::to_cells`]).
    pub(crate) fn from_cells(cells: &[u64], ty: ValType, store: &mut StoreInner) -> Val {
        match ty {
            ValType::V128 => Val::V128(V128::from_cells(cells)),
            _ => Val::from_cell(cells[0], ty, store),
        }
    }

    /// Rebuilds a value of a one-cell type `ty` from a frame cell of `store`. A non-null
    /// `externref` is rooted in the store's current scope.
    pub(crate) fn from_cell(cell: u64, ty: ValType, store: &mut StoreInner) -> Val {
        match ty {
            ValType::I32 => Val::I32(cell as u32 as i32),
            ValType::I64 => Val::I64(cell as i64),
            ValType::F32 => Val::F32(cell as u32),
            ValType::F64 => Val::F64(cell),
            ValType::V128 => Val::V128(V128::from_cells(&[cell, 0])),
            // (`noextern` holds only null, 0.)
            ty if extern_family(ty) => {
                Val::ExternRef(VMGcRef::from_raw(cell as u32).map(|r| Rooted::push(store, r)))
            }
            // (`noexn` holds only null, 0.)
            ty if exn_family(ty) => {
                Val::ExnRef(VMGcRef::from_raw(cell as u32).map(|r| Rooted::push_ref(store, r)))
            }
            // Function references (struct and array references, which no instruction
            // creates here, are null and read as a null funcref).
            _ => Val::FuncRef(Func::from_cell(store.id(), cell)),
        }
    }
}

/// Whether `ty` is a reference type of the `extern` hierarchy.
fn extern_family(ty: ValType) -> bool {
    ty.as_ref()
        .is_some_and(|r| r.heap_type.top() == Some(HeapType::Extern))
}

/// `exnref`, `(ref exn)` and `(ref null noexn)`.
fn exn_family(ty: ValType) -> bool {
    ty.as_ref()
        .is_some_and(|r| r.heap_type.top() == Some(HeapType::Exn))
}

macro_rules! val_from {
    ($($t:ty => $variant:ident $(. $conv:ident())?;)*) => {$(
        impl From<$t> for Val {
            fn from(v: $t) -> Val { Val::$variant(v $(.$conv())?) }
        }
    )*};
}
val_from! {
    i32 => I32;
    i64 => I64;
    f32 => F32.to_bits();
    f64 => F64.to_bits();
    V128 => V128;
    Func => FuncRef.into();
    Option<Func> => FuncRef;
    Rooted<ExternRef> => ExternRef.into();
    Option<Rooted<ExternRef>> => ExternRef;
    Rooted<ExnRef> => ExnRef.into();
    Option<Rooted<ExnRef>> => ExnRef;
}

/// An untyped value in the layout host code can move around cheaply: 16 bytes, little
/// endian lanes for `v128`, and the low bits for 32-bit values.
#[derive(Copy, Clone, Default, PartialEq, Eq)]
pub struct ValRaw {
    lo: u64,
    hi: u64,
}

impl std::fmt::Debug for ValRaw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ValRaw({:#x}, {:#x})", self.lo, self.hi)
    }
}

impl ValRaw {
    pub fn i32(v: i32) -> ValRaw {
        ValRaw {
            lo: v as u32 as u64,
            hi: 0,
        }
    }
    pub fn i64(v: i64) -> ValRaw {
        ValRaw {
            lo: v as u64,
            hi: 0,
        }
    }
    pub fn u32(v: u32) -> ValRaw {
        ValRaw {
            lo: v as u64,
            hi: 0,
        }
    }
    pub fn u64(v: u64) -> ValRaw {
        ValRaw { lo: v, hi: 0 }
    }
    /// An `f32` given as its bits.
    pub fn f32(bits: u32) -> ValRaw {
        ValRaw {
            lo: bits as u64,
            hi: 0,
        }
    }
    /// An `f64` given as its bits.
    pub fn f64(bits: u64) -> ValRaw {
        ValRaw { lo: bits, hi: 0 }
    }
    pub fn v128(v: u128) -> ValRaw {
        ValRaw {
            lo: v as u64,
            hi: (v >> 64) as u64,
        }
    }
    /// An `externref`: its raw heap index, 0 for null.
    pub fn externref(raw: u32) -> ValRaw {
        ValRaw {
            lo: raw as u64,
            hi: 0,
        }
    }
    pub fn get_i32(self) -> i32 {
        self.lo as u32 as i32
    }
    pub fn get_i64(self) -> i64 {
        self.lo as i64
    }
    pub fn get_u32(self) -> u32 {
        self.lo as u32
    }
    pub fn get_u64(self) -> u64 {
        self.lo
    }
    pub fn get_f32(self) -> u32 {
        self.lo as u32
    }
    pub fn get_f64(self) -> u64 {
        self.lo
    }
    pub fn get_v128(self) -> u128 {
        (self.hi as u128) << 64 | self.lo as u128
    }
    pub fn get_externref(self) -> u32 {
        self.lo as u32
    }
}
