//! Functions: `Func`, `TypedFunc`, and the traits that map Rust types to wasm types.

use crate::gc::{ExternRef, ManuallyRooted, Rooted};
use crate::store::{AsContext, AsContextMut, Caller};
use crate::values::{V128, Val};
use anyhow::{Result, anyhow, bail};
use gloam_interp::{FuncType, HostFunc, StoreInner, ValType};
use std::any::Any;
use std::marker::PhantomData;
use std::sync::Arc;

/// A function of a store: wasm or host.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Func {
    store_id: u64,
    addr: u32,
}

/// A host function over store data `T`, before it is placed in a store.
pub(crate) type TypedHost<T> =
    Arc<dyn Fn(&mut StoreInner, &mut T, &mut [u64]) -> Result<()> + Send + Sync>;

/// Erases `T` so the core can call the function. Each call runs in its own root scope:
/// references the host function roots are unrooted when it returns.
pub(crate) fn erase<T: 'static>(f: TypedHost<T>) -> HostFunc {
    Arc::new(
        move |inner: &mut StoreInner, data: &mut dyn Any, cells: &mut [u64]| {
            let data = data
                .downcast_mut::<T>()
                .ok_or_else(|| anyhow!("host function called with a store of another data type"))?;
            let scope = inner.gc.enter_scope();
            let result = f(inner, data, cells);
            inner.gc.exit_scope(scope);
            result
        },
    )
}

/// Cells for a call: on the host stack when small, so calls do not allocate.
pub(crate) enum CallCells {
    Inline([u64; 16], usize),
    Heap(Vec<u64>),
}

impl CallCells {
    pub(crate) fn new(n: usize) -> CallCells {
        if n <= 16 {
            CallCells::Inline([0; 16], n)
        } else {
            CallCells::Heap(vec![0; n])
        }
    }
    pub(crate) fn as_mut(&mut self) -> &mut [u64] {
        match self {
            CallCells::Inline(a, n) => &mut a[..*n],
            CallCells::Heap(v) => v,
        }
    }
}

impl Func {
    pub(crate) fn from_addr(store_id: u64, addr: u32) -> Func {
        Func { store_id, addr }
    }

    pub(crate) fn from_cell(store_id: u64, cell: u64) -> Option<Func> {
        (cell != 0).then(|| Func {
            store_id,
            addr: (cell - 1) as u32,
        })
    }

    pub(crate) fn addr(&self, store: &StoreInner) -> Result<u32> {
        if self.store_id != store.id() {
            bail!("function used with the wrong store");
        }
        Ok(self.addr)
    }

    pub(crate) fn cell(&self, store: &StoreInner) -> Result<u64> {
        Ok(self.addr(store)? as u64 + 1)
    }

    /// A host function with a dynamic signature.
    pub fn new<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Func {
        let ctx = store.as_context_mut();
        let host = erase(dynamic_host(ty.clone(), func));
        let addr = ctx.inner.add_host_func(ty, host);
        Func {
            store_id: ctx.inner.id(),
            addr,
        }
    }

    /// A host function whose signature comes from the closure's Rust types.
    pub fn wrap<T: 'static, Params, Results>(
        mut store: impl AsContextMut<Data = T>,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Func {
        let ctx = store.as_context_mut();
        let (ty, host) = func.into_host();
        let addr = ctx.inner.add_host_func(ty, erase(host));
        Func {
            store_id: ctx.inner.id(),
            addr,
        }
    }

    /// The function's signature.
    pub fn ty(&self, store: impl AsContext) -> FuncType {
        let ctx = store.as_context();
        match self.addr(ctx.inner) {
            Ok(addr) => ctx.inner.func_type(addr),
            Err(e) => panic!("{e}"),
        }
    }

    /// Calls the function with dynamically typed arguments.
    pub fn call(
        &self,
        mut store: impl AsContextMut,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()> {
        let ctx = store.as_context_mut();
        let addr = self.addr(ctx.inner)?;
        let ty = ctx.inner.func_type(addr);
        if params.len() != ty.params().len() {
            bail!(
                "expected {} arguments, got {}",
                ty.params().len(),
                params.len()
            );
        }
        if results.len() != ty.results().len() {
            bail!(
                "expected {} results, got {}",
                ty.results().len(),
                results.len()
            );
        }
        // Values are laid out by cells: a v128 takes two.
        let mut cells = CallCells::new(cell_count(ty.params()).max(cell_count(ty.results())));
        let mut at = 0;
        for (i, (p, t)) in params.iter().zip(ty.params()).enumerate() {
            p.check_ty(ctx.inner, *t, &format!("argument {i}"))?;
            p.to_cells(ctx.inner, &mut cells.as_mut()[at..])?;
            at += t.cells();
        }
        gloam_interp::invoke(ctx.inner, ctx.data, addr, cells.as_mut())?;
        let mut at = 0;
        for (i, t) in ty.results().iter().enumerate() {
            results[i] = Val::from_cells(&cells.as_mut()[at..], *t, ctx.inner);
            at += t.cells();
        }
        Ok(())
    }

    /// A statically typed view of the function; fails if the types do not match.
    pub fn typed<P: WasmParams, R: WasmResults>(
        &self,
        store: impl AsContext,
    ) -> Result<TypedFunc<P, R>> {
        let ctx = store.as_context();
        let addr = self.addr(ctx.inner)?;
        let ty = ctx.inner.func_type(addr);
        let (want_p, want_r) = (P::valtypes(), R::valtypes());
        // Arguments of the requested types must be accepted, results of the function's
        // types must be of the requested ones.
        let fits = |have: &[ValType], want: &[ValType], covariant: bool| {
            have.len() == want.len()
                && have.iter().zip(want).all(|(h, w)| {
                    if covariant {
                        h.matches(*w)
                    } else {
                        w.matches(*h)
                    }
                })
        };
        if !fits(ty.params(), &want_p, false) || !fits(ty.results(), &want_r, true) {
            bail!(
                "type mismatch: function has type {ty}, requested {}",
                FuncType::new(want_p, want_r)
            );
        }
        Ok(TypedFunc {
            func: *self,
            _marker: PhantomData,
        })
    }
}

/// Cells taken by values of types `tys` (a v128 takes two).
fn cell_count(tys: &[ValType]) -> usize {
    tys.iter().map(|t| t.cells()).sum()
}

pub(crate) fn dynamic_host<T: 'static>(
    ty: FuncType,
    func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
) -> TypedHost<T> {
    Arc::new(
        move |inner: &mut StoreInner, data: &mut T, cells: &mut [u64]| {
            let mut at = 0;
            let mut params: Vec<Val> = Vec::with_capacity(ty.params().len());
            for t in ty.params() {
                params.push(Val::from_cells(&cells[at..], *t, inner));
                at += t.cells();
            }
            let mut results: Vec<Val> = ty
                .results()
                .iter()
                .map(|t| Val::default_for_ty(*t))
                .collect();
            func(
                Caller {
                    inner: &mut *inner,
                    data,
                },
                &params,
                &mut results,
            )?;
            let mut at = 0;
            for (i, (r, t)) in results.iter().zip(ty.results()).enumerate() {
                r.check_ty(inner, *t, &format!("host function result {i}"))?;
                r.to_cells(inner, &mut cells[at..])?;
                at += t.cells();
            }
            Ok(())
        },
    )
}

/// A function with static parameter and result types.
pub struct TypedFunc<P, R> {
    func: Func,
    _marker: PhantomData<fn(P) -> R>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P, R> Copy for TypedFunc<P, R> {}

impl<P: WasmParams, R: WasmResults> TypedFunc<P, R> {
    pub fn func(&self) -> &Func {
        &self.func
    }

    /// Calls the function. A trap is an `Err` whose root cause is a [`Trap`](crate::Trap).
    pub fn call(&self, mut store: impl AsContextMut, params: P) -> Result<R> {
        let ctx = store.as_context_mut();
        let addr = self.func.addr(ctx.inner)?;
        let mut cells = CallCells::new(P::cells().max(R::cells()));
        params.store_cells(ctx.inner, cells.as_mut())?;
        gloam_interp::invoke(ctx.inner, ctx.data, addr, cells.as_mut())?;
        R::load_cells(cells.as_mut(), ctx.inner)
    }
}

/// A Rust type that is a wasm value type.
pub trait WasmTy: Sized + 'static {
    fn valtype() -> ValType;
    #[doc(hidden)]
    fn to_cell(self, store: &StoreInner) -> Result<u64>;
    #[doc(hidden)]
    fn from_cell(cell: u64, store: &mut StoreInner) -> Result<Self>;
    /// Writes the value's `valtype().cells()` cells to the front of `cells`.
    #[doc(hidden)]
    fn to_cells(self, store: &StoreInner, cells: &mut [u64]) -> Result<()> {
        cells[0] = self.to_cell(store)?;
        Ok(())
    }
    #[doc(hidden)]
    fn from_cells(cells: &[u64], store: &mut StoreInner) -> Result<Self> {
        Self::from_cell(cells[0], store)
    }
}

/// A `v128` takes two cells: bytes 0..8 and 8..16.
impl WasmTy for V128 {
    fn valtype() -> ValType {
        ValType::V128
    }
    fn to_cell(self, _: &StoreInner) -> Result<u64> {
        bail!("internal error: a v128 value does not fit in one cell")
    }
    fn from_cell(_: u64, _: &mut StoreInner) -> Result<Self> {
        bail!("internal error: a v128 value does not fit in one cell")
    }
    fn to_cells(self, _: &StoreInner, cells: &mut [u64]) -> Result<()> {
        V128::to_cells(self, cells);
        Ok(())
    }
    fn from_cells(cells: &[u64], _: &mut StoreInner) -> Result<Self> {
        Ok(V128::from_cells(cells))
    }
}

macro_rules! wasm_ty_num {
    ($($t:ty => $vt:ident, |$v:ident| $to:expr, |$c:ident| $from:expr;)*) => {$(
        impl WasmTy for $t {
            fn valtype() -> ValType { ValType::$vt }
            fn to_cell(self, _: &StoreInner) -> Result<u64> { let $v = self; Ok($to) }
            fn from_cell($c: u64, _: &mut StoreInner) -> Result<Self> { Ok($from) }
        }
    )*};
}
wasm_ty_num! {
    i32 => I32, |v| v as u32 as u64, |c| c as u32 as i32;
    u32 => I32, |v| v as u64, |c| c as u32;
    i64 => I64, |v| v as u64, |c| c as i64;
    u64 => I64, |v| v, |c| c;
    f32 => F32, |v| v.to_bits() as u64, |c| f32::from_bits(c as u32);
    f64 => F64, |v| v.to_bits(), |c| f64::from_bits(c);
}

impl WasmTy for Option<Func> {
    fn valtype() -> ValType {
        ValType::FuncRef
    }
    fn to_cell(self, store: &StoreInner) -> Result<u64> {
        self.map_or(Ok(0), |f| f.cell(store))
    }
    fn from_cell(cell: u64, store: &mut StoreInner) -> Result<Self> {
        Ok(Func::from_cell(store.id(), cell))
    }
}

impl WasmTy for Option<Rooted<ExternRef>> {
    fn valtype() -> ValType {
        ValType::ExternRef
    }
    fn to_cell(self, store: &StoreInner) -> Result<u64> {
        Val::ExternRef(self).to_cell(store)
    }
    fn from_cell(cell: u64, store: &mut StoreInner) -> Result<Self> {
        match Val::from_cell(cell, ValType::ExternRef, store) {
            Val::ExternRef(r) => Ok(r),
            _ => unreachable!("from_cell returns the requested type"),
        }
    }
}

impl WasmTy for Rooted<ExternRef> {
    fn valtype() -> ValType {
        ValType::ExternRef
    }
    fn to_cell(self, store: &StoreInner) -> Result<u64> {
        Some(self).to_cell(store)
    }
    fn from_cell(cell: u64, store: &mut StoreInner) -> Result<Self> {
        Option::<Rooted<ExternRef>>::from_cell(cell, store)?
            .ok_or_else(|| anyhow!("null externref where a non-null reference was expected"))
    }
}

impl WasmTy for Option<Rooted<crate::ExnRef>> {
    fn valtype() -> ValType {
        ValType::ExnRef
    }
    fn to_cell(self, store: &StoreInner) -> Result<u64> {
        Val::ExnRef(self).to_cell(store)
    }
    fn from_cell(cell: u64, store: &mut StoreInner) -> Result<Self> {
        match Val::from_cell(cell, ValType::ExnRef, store) {
            Val::ExnRef(r) => Ok(r),
            _ => unreachable!("from_cell returns the requested type"),
        }
    }
}

impl WasmTy for Option<ManuallyRooted<ExternRef>> {
    fn valtype() -> ValType {
        ValType::ExternRef
    }
    fn to_cell(self, store: &StoreInner) -> Result<u64> {
        match self {
            Some(r) => Ok(r.gc_ref(store)?.as_raw() as u64),
            None => Ok(0),
        }
    }
    fn from_cell(cell: u64, store: &mut StoreInner) -> Result<Self> {
        Ok(gloam_gc::VMGcRef::from_raw(cell as u32).map(|r| ManuallyRooted::add(store, r)))
    }
}

impl WasmTy for ManuallyRooted<ExternRef> {
    fn valtype() -> ValType {
        ValType::ExternRef
    }
    fn to_cell(self, store: &StoreInner) -> Result<u64> {
        Some(self).to_cell(store)
    }
    fn from_cell(cell: u64, store: &mut StoreInner) -> Result<Self> {
        Option::<ManuallyRooted<ExternRef>>::from_cell(cell, store)?
            .ok_or_else(|| anyhow!("null externref where a non-null reference was expected"))
    }
}

/// A list of wasm values: `()`, a single [`WasmTy`], or a tuple of them.
pub trait WasmParams: Sized {
    fn valtypes() -> Vec<ValType>;
    /// Frame cells the values take (a v128 takes two).
    #[doc(hidden)]
    fn cells() -> usize;
    #[doc(hidden)]
    fn store_cells(self, store: &StoreInner, cells: &mut [u64]) -> Result<()>;
    #[doc(hidden)]
    fn load_cells(cells: &[u64], store: &mut StoreInner) -> Result<Self>;
}

/// Result lists have the same shapes as parameter lists.
pub trait WasmResults: WasmParams {}
impl<T: WasmParams> WasmResults for T {}

impl<T: WasmTy> WasmParams for T {
    fn valtypes() -> Vec<ValType> {
        vec![T::valtype()]
    }
    fn cells() -> usize {
        T::valtype().cells()
    }
    fn store_cells(self, store: &StoreInner, cells: &mut [u64]) -> Result<()> {
        self.to_cells(store, cells)
    }
    fn load_cells(cells: &[u64], store: &mut StoreInner) -> Result<Self> {
        T::from_cells(cells, store)
    }
}

macro_rules! wasm_params_tuple {
    ($n:literal; $($t:ident $i:tt),*) => {
        #[allow(unused_variables, unused_mut, unused_assignments, clippy::unused_unit)]
        impl<$($t: WasmTy),*> WasmParams for ($($t,)*) {
            fn valtypes() -> Vec<ValType> { vec![$($t::valtype()),*] }
            fn cells() -> usize { 0 $(+ $t::valtype().cells())* }
            fn store_cells(self, store: &StoreInner, cells: &mut [u64]) -> Result<()> {
                let mut at = 0;
                $(self.$i.to_cells(store, &mut cells[at..])?; at += $t::valtype().cells();)*
                Ok(())
            }
            fn load_cells(cells: &[u64], store: &mut StoreInner) -> Result<Self> {
                let mut at = 0;
                Ok(($({
                    let v = $t::from_cells(&cells[at..], store)?;
                    at += $t::valtype().cells();
                    v
                },)*))
            }
        }
    };
}
wasm_params_tuple!(0;);
wasm_params_tuple!(1; A 0);
wasm_params_tuple!(2; A 0, B 1);
wasm_params_tuple!(3; A 0, B 1, C 2);
wasm_params_tuple!(4; A 0, B 1, C 2, D 3);
wasm_params_tuple!(5; A 0, B 1, C 2, D 3, E 4);
wasm_params_tuple!(6; A 0, B 1, C 2, D 3, E 4, F 5);
wasm_params_tuple!(7; A 0, B 1, C 2, D 3, E 4, F 5, G 6);
wasm_params_tuple!(8; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
wasm_params_tuple!(9; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
wasm_params_tuple!(10; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
wasm_params_tuple!(11; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
wasm_params_tuple!(12; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);

/// What a host closure may return: results, or `Result` of results (an `Err` traps).
pub trait WasmRet {
    #[doc(hidden)]
    fn valtypes() -> Vec<ValType>;
    #[doc(hidden)]
    fn into_cells(self, store: &StoreInner, cells: &mut [u64]) -> Result<()>;
}

impl<R: WasmResults> WasmRet for R {
    fn valtypes() -> Vec<ValType> {
        R::valtypes()
    }
    fn into_cells(self, store: &StoreInner, cells: &mut [u64]) -> Result<()> {
        self.store_cells(store, cells)
    }
}

impl<R: WasmResults> WasmRet for Result<R> {
    fn valtypes() -> Vec<ValType> {
        R::valtypes()
    }
    fn into_cells(self, store: &StoreInner, cells: &mut [u64]) -> Result<()> {
        self?.store_cells(store, cells)
    }
}

/// A Rust closure usable as a host function, with or without a leading `Caller`.
pub trait IntoFunc<T, Params, Results>: Send + Sync + 'static {
    #[doc(hidden)]
    fn into_host(self) -> (FuncType, TypedHost<T>);
}

macro_rules! into_func {
    ($($a:ident)*) => {
        #[allow(non_snake_case, unused_variables, unused_mut, unused_assignments)]
        impl<T: 'static, F, $($a: WasmTy,)* R: WasmRet> IntoFunc<T, ($($a,)*), R> for F
        where
            F: Fn($($a),*) -> R + Send + Sync + 'static,
        {
            fn into_host(self) -> (FuncType, TypedHost<T>) {
                let ty = FuncType::new(vec![$($a::valtype()),*], R::valtypes());
                let f = Arc::new(move |inner: &mut StoreInner, _: &mut T, cells: &mut [u64]| {
                    let mut at = 0;
                    $(let $a = $a::from_cells(&cells[at..], inner)?; at += $a::valtype().cells();)*
                    (self)($($a),*).into_cells(inner, cells)
                });
                (ty, f)
            }
        }

        #[allow(non_snake_case, unused_variables, unused_mut, unused_assignments)]
        impl<T: 'static, F, $($a: WasmTy,)* R: WasmRet> IntoFunc<T, (Caller<'_, T>, $($a,)*), R> for F
        where
            F: Fn(Caller<'_, T>, $($a),*) -> R + Send + Sync + 'static,
        {
            fn into_host(self) -> (FuncType, TypedHost<T>) {
                let ty = FuncType::new(vec![$($a::valtype()),*], R::valtypes());
                let f = Arc::new(move |inner: &mut StoreInner, data: &mut T, cells: &mut [u64]| {
                    let mut at = 0;
                    $(let $a = $a::from_cells(&cells[at..], inner)?; at += $a::valtype().cells();)*
                    let r = (self)(Caller { inner: &mut *inner, data }, $($a),*);
                    r.into_cells(inner, cells)
                });
                (ty, f)
            }
        }
    };
}
into_func!();
into_func!(A1);
into_func!(A1 A2);
into_func!(A1 A2 A3);
into_func!(A1 A2 A3 A4);
into_func!(A1 A2 A3 A4 A5);
into_func!(A1 A2 A3 A4 A5 A6);
into_func!(A1 A2 A3 A4 A5 A6 A7);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10);
