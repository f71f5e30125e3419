//! Values: `Val`, `ValRaw`, `V128`, and the `externref` handles.

use crate::func::Func;
use crate::store::{AsContextMut, Caller, Store, StoreContext, StoreContextMut};
use anyhow::{Result, bail};
use gloam_gc::VMGcRef;
use gloam_interp::{StoreInner, ValType};
use std::any::Any;
use std::marker::PhantomData;

/// A 128-bit SIMD value.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct V128(u128);

impl V128 {
    pub fn as_u128(&self) -> u128 {
        self.0
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
        }
    }

    /// The default (zero or null) value of a type.
    pub fn default_for_ty(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(V128(0)),
            ValType::FuncRef => Val::FuncRef(None),
            ValType::ExternRef => Val::ExternRef(None),
        }
    }

    /// The value as a frame cell of `store`. References must belong to the store.
    pub(crate) fn to_cell(&self, store: &StoreInner) -> Result<u64> {
        Ok(match self {
            Val::I32(v) => *v as u32 as u64,
            Val::I64(v) => *v as u64,
            Val::F32(v) => *v as u64,
            Val::F64(v) => *v,
            Val::V128(_) => bail!("v128 values are not supported by the interpreter yet"),
            Val::FuncRef(None) | Val::ExternRef(None) => 0,
            Val::FuncRef(Some(f)) => f.cell(store)?,
            Val::ExternRef(Some(r)) => r.cell(store)? as u64,
        })
    }

    /// Rebuilds a value of type `ty` from a frame cell of `store`.
    pub(crate) fn from_cell(cell: u64, ty: ValType, store: &StoreInner) -> Val {
        match ty {
            ValType::I32 => Val::I32(cell as u32 as i32),
            ValType::I64 => Val::I64(cell as i64),
            ValType::F32 => Val::F32(cell as u32),
            ValType::F64 => Val::F64(cell),
            ValType::V128 => Val::V128(V128(cell as u128)),
            ValType::FuncRef => Val::FuncRef(Func::from_cell(store.id(), cell)),
            ValType::ExternRef => {
                Val::ExternRef(VMGcRef::from_raw(cell as u32).map(|r| Rooted::new(store.id(), r)))
            }
        }
    }
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

/// A reference to host data that wasm can hold but not inspect (`externref`).
///
/// Created with [`ExternRef::new`]; handed around as [`Rooted<ExternRef>`].
#[derive(Copy, Clone, Debug)]
pub struct ExternRef {
    store_id: u64,
    gc_ref: VMGcRef,
}

/// A handle to a GC object owned by a store. It records the store it came from, so use
/// with another store is an error.
#[derive(Debug)]
pub struct Rooted<T> {
    inner: ExternRef,
    _marker: PhantomData<fn() -> T>,
}

impl<T> Clone for Rooted<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Rooted<T> {}

impl<T> std::ops::Deref for Rooted<T> {
    type Target = ExternRef;
    fn deref(&self) -> &ExternRef {
        &self.inner
    }
}

impl Rooted<ExternRef> {
    fn new(store_id: u64, gc_ref: VMGcRef) -> Self {
        Rooted {
            inner: ExternRef { store_id, gc_ref },
            _marker: PhantomData,
        }
    }

    fn cell(&self, store: &StoreInner) -> Result<u32> {
        self.inner.check(store)?;
        Ok(self.inner.gc_ref.as_raw())
    }
}

impl<'a, T: 'static> From<&'a Store<T>> for StoreContext<'a, T> {
    fn from(s: &'a Store<T>) -> Self {
        StoreContext {
            inner: &s.inner,
            data: &s.data,
        }
    }
}
impl<'a, T: 'static> From<&'a mut Store<T>> for StoreContext<'a, T> {
    fn from(s: &'a mut Store<T>) -> Self {
        StoreContext {
            inner: &s.inner,
            data: &s.data,
        }
    }
}
impl<'a, T: 'static> From<&'a Caller<'_, T>> for StoreContext<'a, T> {
    fn from(c: &'a Caller<'_, T>) -> Self {
        StoreContext {
            inner: c.inner,
            data: c.data,
        }
    }
}
impl<'a, T: 'static> From<&'a mut Caller<'_, T>> for StoreContext<'a, T> {
    fn from(c: &'a mut Caller<'_, T>) -> Self {
        StoreContext {
            inner: c.inner,
            data: c.data,
        }
    }
}
impl<'a, T: 'static> From<&'a StoreContextMut<'_, T>> for StoreContext<'a, T> {
    fn from(c: &'a StoreContextMut<'_, T>) -> Self {
        StoreContext {
            inner: c.inner,
            data: c.data,
        }
    }
}

impl ExternRef {
    /// Allocates `value` in the store's externref heap.
    pub fn new<T>(mut store: impl AsContextMut, value: T) -> Result<Rooted<ExternRef>>
    where
        T: 'static + Any + Send + Sync,
    {
        let ctx = store.as_context_mut();
        let id = ctx.inner.id();
        match ctx.inner.gc.alloc(Box::new(value)) {
            Ok(r) => Ok(Rooted::new(id, r)),
            Err(back) => {
                let value = back.downcast::<T>().map(|b| *b);
                match value {
                    Ok(v) => Err(anyhow::Error::new(GcHeapOutOfMemory::new(v))),
                    Err(_) => bail!("GC heap out of memory"),
                }
            }
        }
    }

    fn check(&self, store: &StoreInner) -> Result<()> {
        if self.store_id != store.id() {
            bail!("externref used with the wrong store");
        }
        if !store.gc.contains(self.gc_ref) {
            bail!("externref no longer refers to a live object");
        }
        Ok(())
    }

    /// The host data this reference points to.
    pub fn data<'a, T: 'static>(
        &self,
        store: impl Into<StoreContext<'a, T>>,
    ) -> Result<&'a (dyn Any + Send + Sync)> {
        let ctx = store.into();
        self.check(ctx.inner)?;
        ctx.inner
            .gc
            .get(self.gc_ref)
            .ok_or_else(|| anyhow::anyhow!("dangling externref"))
    }

    /// Mutable access to the host data.
    pub fn data_mut<'a, T: 'static>(
        &self,
        store: impl Into<StoreContextMut<'a, T>>,
    ) -> Result<&'a mut (dyn Any + Send + Sync)> {
        let ctx = store.into();
        self.check(ctx.inner)?;
        ctx.inner
            .gc
            .get_mut(self.gc_ref)
            .ok_or_else(|| anyhow::anyhow!("dangling externref"))
    }

    /// The raw heap index (0 is never returned), for `ValRaw::externref`.
    pub fn to_raw(&self, store: impl AsContextMut) -> Result<u32> {
        let mut store = store;
        self.check(store.as_context_mut().inner)?;
        Ok(self.gc_ref.as_raw())
    }

    /// Rebuilds a reference from a raw heap index; 0 gives `None`.
    pub fn from_raw(mut store: impl AsContextMut, raw: u32) -> Option<Rooted<ExternRef>> {
        let ctx = store.as_context_mut();
        let r = VMGcRef::from_raw(raw)?;
        ctx.inner
            .gc
            .contains(r)
            .then(|| Rooted::new(ctx.inner.id(), r))
    }
}

impl<'a, T: 'static> From<&'a mut Store<T>> for StoreContextMut<'a, T> {
    fn from(s: &'a mut Store<T>) -> Self {
        StoreContextMut {
            inner: &mut s.inner,
            data: &mut s.data,
        }
    }
}
impl<'a, T: 'static> From<&'a mut Caller<'_, T>> for StoreContextMut<'a, T> {
    fn from(c: &'a mut Caller<'_, T>) -> Self {
        StoreContextMut {
            inner: c.inner,
            data: c.data,
        }
    }
}

/// Returned when the GC heap is full; carries the value that could not be allocated.
pub struct GcHeapOutOfMemory<T> {
    inner: T,
}

impl<T> GcHeapOutOfMemory<T> {
    pub(crate) fn new(inner: T) -> Self {
        GcHeapOutOfMemory { inner }
    }

    /// The value that was not allocated.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T> std::fmt::Debug for GcHeapOutOfMemory<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GcHeapOutOfMemory")
    }
}

impl<T> std::fmt::Display for GcHeapOutOfMemory<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GC heap out of memory")
    }
}

impl<T: 'static + Send + Sync> std::error::Error for GcHeapOutOfMemory<T> {}
