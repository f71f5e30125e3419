//! `externref` handles and rooting: `ExternRef`, `Rooted`, `RootScope`, `ManuallyRooted`,
//! `OwnedRooted`, `GcHeapOutOfMemory`. See `gloam_gc` for the model.

use crate::store::{AsContext, AsContextMut, Caller, Store, StoreContext, StoreContextMut};
use anyhow::{Result, anyhow, bail};
use gloam_gc::{LifoRoot, ManualRoot, VMGcRef};
use gloam_interp::StoreInner;
use std::any::Any;
use std::marker::PhantomData;
use std::sync::Arc;

pub use gloam_gc::{GcEvent, RootKind};

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Root {
    Lifo(LifoRoot),
    Manual(ManualRoot),
    Owned(VMGcRef),
}

/// A reference to host data that wasm can hold but not inspect (`externref`).
///
/// Handed around as [`Rooted<ExternRef>`] (rooted until its [`RootScope`] ends),
/// [`ManuallyRooted<ExternRef>`] (until `unroot`) or [`OwnedRooted<ExternRef>`] (until
/// dropped). Using a handle whose root is gone, or with another store, is an `Err`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ExternRef {
    store_id: u64,
    root: Root,
}

impl ExternRef {
    /// The heap reference behind this handle, if its root is still alive.
    pub(crate) fn gc_ref(&self, store: &StoreInner) -> Result<VMGcRef> {
        if self.store_id != store.id() {
            bail!("externref used with the wrong store");
        }
        let r = match self.root {
            Root::Lifo(root) => store.gc.lifo(root).ok_or_else(|| {
                anyhow!(
                    "attempt to use a `Rooted<ExternRef>` after its `RootScope` ended (unrooted)"
                )
            })?,
            Root::Manual(root) => store.gc.manual(root).ok_or_else(|| {
                anyhow!("attempt to use a `ManuallyRooted<ExternRef>` after `unroot`")
            })?,
            Root::Owned(r) => r,
        };
        if !store.gc.heap.contains(r) {
            bail!("externref refers to a freed object");
        }
        Ok(r)
    }

    fn alloc<T: 'static + Any + Send + Sync>(store: &mut StoreInner, value: T) -> Result<VMGcRef> {
        match store.gc.alloc(Box::new(value)) {
            Ok(r) => Ok(r),
            Err(back) => match back.downcast::<T>() {
                Ok(v) => Err(anyhow::Error::new(GcHeapOutOfMemory::new(*v))
                    .context("failed to allocate `externref`")),
                Err(_) => bail!("GC heap out of memory"),
            },
        }
    }

    /// Allocates `value` in the store's GC heap, rooted in the current scope.
    ///
    /// Never collects by itself: when the heap is full this fails with a
    /// [`GcHeapOutOfMemory<T>`] carrying `value` back; run `store.gc()` and retry.
    pub fn new<T>(mut store: impl AsContextMut, value: T) -> Result<Rooted<ExternRef>>
    where
        T: 'static + Any + Send + Sync,
    {
        let ctx = store.as_context_mut();
        let r = ExternRef::alloc(ctx.inner, value)?;
        Ok(Rooted::push(ctx.inner, r))
    }

    /// Like [`ExternRef::new`], but rooted until [`ManuallyRooted::unroot`].
    pub fn new_manually_rooted<T>(
        mut store: impl AsContextMut,
        value: T,
    ) -> Result<ManuallyRooted<ExternRef>>
    where
        T: 'static + Any + Send + Sync,
    {
        let ctx = store.as_context_mut();
        let r = ExternRef::alloc(ctx.inner, value)?;
        Ok(ManuallyRooted::add(ctx.inner, r))
    }

    /// Like [`ExternRef::new`], but rooted until the returned handle is dropped.
    pub fn new_owned<T>(mut store: impl AsContextMut, value: T) -> Result<OwnedRooted<ExternRef>>
    where
        T: 'static + Any + Send + Sync,
    {
        let ctx = store.as_context_mut();
        let r = ExternRef::alloc(ctx.inner, value)?;
        Ok(OwnedRooted::add(ctx.inner, r))
    }

    /// The host data this reference points to.
    pub fn data<'a, T: 'static>(
        &self,
        store: impl Into<StoreContext<'a, T>>,
    ) -> Result<&'a (dyn Any + Send + Sync)> {
        let ctx = store.into();
        let r = self.gc_ref(ctx.inner)?;
        ctx.inner
            .gc
            .heap
            .get(r)
            .ok_or_else(|| anyhow!("externref refers to a freed object"))
    }

    /// Mutable access to the host data.
    pub fn data_mut<'a, T: 'static>(
        &self,
        store: impl Into<StoreContextMut<'a, T>>,
    ) -> Result<&'a mut (dyn Any + Send + Sync)> {
        let ctx = store.into();
        let r = self.gc_ref(ctx.inner)?;
        ctx.inner
            .gc
            .heap
            .get_mut(r)
            .ok_or_else(|| anyhow!("externref refers to a freed object"))
    }

    /// Rebuilds a rooted reference from a raw heap index (as in `ValRaw::externref`);
    /// 0 gives `None`.
    ///
    /// # Safety
    ///
    /// `raw` must come from [`ExternRef::to_raw`] on this store with no collection since.
    /// gloam checks the index against the heap and never dereferences a dead slot, so a
    /// stale `raw` cannot cause undefined behaviour here, but it may name another object.
    pub unsafe fn from_raw(mut store: impl AsContextMut, raw: u32) -> Option<Rooted<ExternRef>> {
        let ctx = store.as_context_mut();
        let r = VMGcRef::from_raw(raw)?;
        ctx.inner
            .gc
            .heap
            .contains(r)
            .then(|| Rooted::push(ctx.inner, r))
    }

    /// The raw heap index of this reference (never 0), for `ValRaw::externref`.
    ///
    /// # Safety
    ///
    /// The raw value is not a root: it is only meaningful until the next collection.
    pub unsafe fn to_raw(&self, mut store: impl AsContextMut) -> Result<u32> {
        let ctx = store.as_context_mut();
        Ok(self.gc_ref(ctx.inner)?.as_raw())
    }
}

/// A GC reference rooted on the store's LIFO root stack until the enclosing
/// [`RootScope`] (or host call) ends. `Copy`; carries its store id and a generation.
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

impl<T> std::fmt::Debug for Rooted<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Rooted").field(&self.inner.root).finish()
    }
}

impl<T> Rooted<T> {
    /// Roots `r` in the store's current scope.
    pub(crate) fn push_ref(store: &mut StoreInner, r: VMGcRef) -> Self {
        let root = store.gc.push_lifo(r);
        Rooted {
            inner: ExternRef {
                store_id: store.id(),
                root: Root::Lifo(root),
            },
            _marker: PhantomData,
        }
    }

    /// The heap reference behind this handle, if its root is still alive.
    pub(crate) fn raw_ref(&self, store: &StoreInner) -> Result<VMGcRef> {
        self.inner.gc_ref(store)
    }
}

impl std::ops::Deref for Rooted<ExternRef> {
    type Target = ExternRef;
    fn deref(&self) -> &ExternRef {
        &self.inner
    }
}

impl Rooted<ExternRef> {
    pub(crate) fn push(store: &mut StoreInner, r: VMGcRef) -> Self {
        Rooted::push_ref(store, r)
    }

    /// Converts to a manual root (this `Rooted` stays valid until its scope ends).
    pub fn to_manually_rooted(
        &self,
        mut store: impl AsContextMut,
    ) -> Result<ManuallyRooted<ExternRef>> {
        let ctx = store.as_context_mut();
        let r = self.gc_ref(ctx.inner)?;
        Ok(ManuallyRooted::add(ctx.inner, r))
    }

    /// Whether two handles refer to the same object.
    pub fn ref_eq(
        store: impl AsContext,
        a: &Rooted<ExternRef>,
        b: &Rooted<ExternRef>,
    ) -> Result<bool> {
        let ctx = store.as_context();
        Ok(a.gc_ref(ctx.inner)? == b.gc_ref(ctx.inner)?)
    }
}

/// A GC reference rooted until [`ManuallyRooted::unroot`]. Forgetting to unroot leaks the
/// object until the store is dropped (debug builds warn at store drop).
pub struct ManuallyRooted<T> {
    inner: ExternRef,
    _marker: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for ManuallyRooted<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ManuallyRooted")
            .field(&self.inner.root)
            .finish()
    }
}

impl<T> std::ops::Deref for ManuallyRooted<T> {
    type Target = ExternRef;
    fn deref(&self) -> &ExternRef {
        &self.inner
    }
}

impl ManuallyRooted<ExternRef> {
    pub(crate) fn add(store: &mut StoreInner, r: VMGcRef) -> Self {
        let root = store.gc.add_manual(r);
        ManuallyRooted {
            inner: ExternRef {
                store_id: store.id(),
                root: Root::Manual(root),
            },
            _marker: PhantomData,
        }
    }

    /// A second, independent manual root of the same object.
    pub fn clone(&self, mut store: impl AsContextMut) -> Result<ManuallyRooted<ExternRef>> {
        let ctx = store.as_context_mut();
        let r = self.gc_ref(ctx.inner)?;
        Ok(ManuallyRooted::add(ctx.inner, r))
    }

    /// A LIFO-rooted handle to the same object; this manual root stays.
    pub fn to_rooted(&self, mut store: impl AsContextMut) -> Result<Rooted<ExternRef>> {
        let ctx = store.as_context_mut();
        let r = self.gc_ref(ctx.inner)?;
        Ok(Rooted::push(ctx.inner, r))
    }

    /// Moves the root to the LIFO stack: unroots this handle, returns a `Rooted`.
    pub fn into_rooted(self, mut store: impl AsContextMut) -> Result<Rooted<ExternRef>> {
        let ctx = store.as_context_mut();
        let r = self.gc_ref(ctx.inner)?;
        let rooted = Rooted::push(ctx.inner, r);
        self.unroot(ctx);
        Ok(rooted)
    }

    /// Removes the root. The object is freed by a later collection if nothing else
    /// reaches it. Unrooting twice (through a copy of the handle) does nothing.
    pub fn unroot(self, mut store: impl AsContextMut) {
        let ctx = store.as_context_mut();
        if let Root::Manual(root) = self.inner.root
            && self.inner.store_id == ctx.inner.id()
        {
            ctx.inner.gc.remove_manual(root);
        }
    }
}

/// A GC reference rooted until this handle (and its clones) are dropped; dropping needs
/// no store access. The form wasmtime moved to for long-lived references.
pub struct OwnedRooted<T> {
    inner: ExternRef,
    token: Arc<()>,
    _marker: PhantomData<fn() -> T>,
}

impl<T> Clone for OwnedRooted<T> {
    fn clone(&self) -> Self {
        OwnedRooted {
            inner: self.inner,
            token: self.token.clone(),
            _marker: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for OwnedRooted<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("OwnedRooted")
            .field(&self.inner.root)
            .finish()
    }
}

impl<T> std::ops::Deref for OwnedRooted<T> {
    type Target = ExternRef;
    fn deref(&self) -> &ExternRef {
        &self.inner
    }
}

impl OwnedRooted<ExternRef> {
    pub(crate) fn add(store: &mut StoreInner, r: VMGcRef) -> Self {
        let token = Arc::new(());
        store.gc.add_owned(&token, r);
        OwnedRooted {
            inner: ExternRef {
                store_id: store.id(),
                root: Root::Owned(r),
            },
            token,
            _marker: PhantomData,
        }
    }

    /// A LIFO-rooted handle to the same object.
    pub fn to_rooted(&self, mut store: impl AsContextMut) -> Result<Rooted<ExternRef>> {
        let ctx = store.as_context_mut();
        let r = self.gc_ref(ctx.inner)?;
        Ok(Rooted::push(ctx.inner, r))
    }
}

/// A scope of the LIFO root stack: every `Rooted` created through it (or while it is the
/// innermost scope) is unrooted when it is dropped.
pub struct RootScope<C: AsContextMut> {
    store: C,
    len: usize,
}

impl<C: AsContextMut> RootScope<C> {
    pub fn new(mut store: C) -> RootScope<C> {
        let len = store.as_context_mut().inner.gc.enter_scope();
        RootScope { store, len }
    }
}

impl<C: AsContextMut> Drop for RootScope<C> {
    fn drop(&mut self) {
        self.store.as_context_mut().inner.gc.exit_scope(self.len);
    }
}

impl<C: AsContextMut> AsContext for RootScope<C> {
    type Data = C::Data;
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        self.store.as_context()
    }
}

impl<C: AsContextMut> AsContextMut for RootScope<C> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, C::Data> {
        self.store.as_context_mut()
    }
}

impl<'a, T: 'static> From<&'a Store<T>> for StoreContext<'a, T> {
    fn from(s: &'a Store<T>) -> Self {
        s.as_context()
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
        c.as_context()
    }
}
impl<'a, T: 'static> From<&'a mut Caller<'_, T>> for StoreContext<'a, T> {
    fn from(c: &'a mut Caller<'_, T>) -> Self {
        StoreContext {
            inner: &*c.inner,
            data: &*c.data,
        }
    }
}
impl<'a, T: 'static> From<&'a StoreContextMut<'_, T>> for StoreContext<'a, T> {
    fn from(c: &'a StoreContextMut<'_, T>) -> Self {
        c.as_context()
    }
}
impl<'a, C: AsContextMut> From<&'a RootScope<C>> for StoreContext<'a, C::Data> {
    fn from(s: &'a RootScope<C>) -> Self {
        s.as_context()
    }
}
impl<'a, T: 'static> From<&'a mut Store<T>> for StoreContextMut<'a, T> {
    fn from(s: &'a mut Store<T>) -> Self {
        s.as_context_mut()
    }
}
impl<'a, T: 'static> From<&'a mut Caller<'_, T>> for StoreContextMut<'a, T> {
    fn from(c: &'a mut Caller<'_, T>) -> Self {
        c.as_context_mut()
    }
}
impl<'a, C: AsContextMut> From<&'a mut RootScope<C>> for StoreContextMut<'a, C::Data> {
    fn from(s: &'a mut RootScope<C>) -> Self {
        s.as_context_mut()
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
