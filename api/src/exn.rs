//! Exception handling in the embedding API: `Tag`, `TagType`, `ExnRef`,
//! `ThrownException`, and throwing from the host.
//!
//! As in wasmtime: an exception that leaves a wasm call uncaught makes the call return the
//! error [`ThrownException`], and the exception itself waits in the store
//! ([`Store::take_pending_exception`]). A host function throws by returning the error of
//! [`Store::throw`] / [`Caller::throw`] (or by passing on the `ThrownException` a call
//! back into wasm returned): the exception then unwinds the wasm that called it, where a
//! `try_table` can catch it. Differences from wasmtime, for a smaller API: `ExnRef::new`
//! takes the tag directly (no `ExnRefPre`/`ExnType`), and a tag's type is its payload's
//! [`FuncType`].

use crate::gc::Rooted;
use crate::store::{AsContext, AsContextMut, Caller, Store, StoreContextMut};
use crate::values::Val;
use anyhow::{Result, bail};
use gloam_interp::{FuncType, StoreInner};

pub use gloam_interp::ThrownException;

/// The type of a tag: the types of an exception's payload (a function type with no
/// results).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagType {
    ty: FuncType,
}

impl TagType {
    /// A tag type with payload `ty.params()`; `ty` must have no results.
    pub fn new(ty: FuncType) -> TagType {
        TagType { ty }
    }

    /// The payload as a function type (params = payload, no results).
    pub fn ty(&self) -> &FuncType {
        &self.ty
    }
}

/// An exception tag of a store: what `throw` names and `catch` matches.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Tag {
    store_id: u64,
    addr: u32,
}

impl Tag {
    /// A new tag, distinct from every other (even of the same type).
    pub fn new(mut store: impl AsContextMut, ty: &TagType) -> Result<Tag> {
        let ctx = store.as_context_mut();
        if !ty.ty.results().is_empty() {
            bail!("a tag type has no results");
        }
        let addr = ctx.inner.add_tag(ty.ty.clone());
        Ok(Tag {
            store_id: ctx.inner.id(),
            addr,
        })
    }

    pub(crate) fn from_addr(store_id: u64, addr: u32) -> Tag {
        Tag { store_id, addr }
    }

    pub(crate) fn addr(&self, store: &StoreInner) -> Result<u32> {
        if self.store_id != store.id() {
            bail!("tag used with the wrong store");
        }
        Ok(self.addr)
    }

    /// The tag's type.
    pub fn ty(&self, store: impl AsContext) -> TagType {
        let ctx = store.as_context();
        let addr = self.addr(ctx.inner).unwrap_or_else(|e| panic!("{e}"));
        TagType::new(ctx.inner.tag_type(addr).clone())
    }

    /// Whether `a` and `b` are the same tag.
    pub fn eq(a: &Tag, b: &Tag, _store: impl AsContext) -> bool {
        a == b
    }
}

/// A reference to an exception (`exnref`), handed around as [`Rooted<ExnRef>`].
#[derive(Debug)]
pub enum ExnRef {}

impl ExnRef {
    /// A new exception of `tag` with payload `fields` (of the tag's types), rooted in the
    /// current scope. Fails with the heap full (run `store.gc()` and retry).
    pub fn new(mut store: impl AsContextMut, tag: &Tag, fields: &[Val]) -> Result<Rooted<ExnRef>> {
        let ctx = store.as_context_mut();
        let addr = tag.addr(ctx.inner)?;
        let ty = ctx.inner.tag_type(addr).clone();
        if ty.params().len() != fields.len() {
            bail!(
                "exception payload: expected {} values, got {}",
                ty.params().len(),
                fields.len()
            );
        }
        let mut cells = vec![0u64; gloam_interp::exn::payload_cells(ty.params())];
        let mut at = 0;
        for (v, t) in fields.iter().zip(ty.params()) {
            if v.ty() != *t {
                bail!("exception payload: expected a {t}, got a {}", v.ty());
            }
            v.to_cells(ctx.inner, &mut cells[at..])?;
            at += t.cells();
        }
        // The fields' references are rooted by `fields` while the heap may collect.
        let r = ctx
            .inner
            .alloc_exn(addr, cells.into_boxed_slice())
            .ok_or_else(|| {
                anyhow::anyhow!("GC heap out of memory: cannot allocate an exception")
            })?;
        Ok(Rooted::push_ref(ctx.inner, r))
    }
}

impl Rooted<ExnRef> {
    fn object<'a>(&self, store: &'a StoreInner) -> Result<&'a gloam_interp::ExnObject> {
        let r = self.raw_ref(store)?;
        match store.exn(r) {
            Some(o) => Ok(o),
            None => bail!("exnref refers to a freed object"),
        }
    }

    /// The exception's tag.
    pub fn tag(&self, store: impl AsContext) -> Result<Tag> {
        let ctx = store.as_context();
        let tag = self.object(ctx.inner)?.tag;
        Ok(Tag::from_addr(ctx.inner.id(), tag))
    }

    /// Payload value `index`.
    pub fn field(&self, mut store: impl AsContextMut, index: usize) -> Result<Val> {
        let fields = self.fields(&mut store)?;
        match fields.into_iter().nth(index) {
            Some(v) => Ok(v),
            None => bail!("exception has no field {index}"),
        }
    }

    /// The payload values (references rooted in the current scope).
    pub fn fields(&self, mut store: impl AsContextMut) -> Result<Vec<Val>> {
        let ctx = store.as_context_mut();
        let obj = self.object(ctx.inner)?;
        let (tag, payload) = (obj.tag, obj.payload.clone());
        let ty = ctx.inner.tag_type(tag).clone();
        let mut out = Vec::with_capacity(ty.params().len());
        let mut at = 0;
        for t in ty.params() {
            out.push(Val::from_cells(&payload[at..], *t, ctx.inner));
            at += t.cells();
        }
        Ok(out)
    }
}

fn throw<R>(store: &mut StoreInner, exn: &Rooted<ExnRef>) -> Result<R> {
    let r = exn.raw_ref(store)?;
    Err(store.set_pending_exn(r))
}

fn take(store: &mut StoreInner) -> Option<Rooted<ExnRef>> {
    let r = store.take_pending_exn()?;
    Some(Rooted::push_ref(store, r))
}

macro_rules! throw_api {
    ($($ty:ty),*) => {$(
        impl<T: 'static> $ty {
            /// Makes `exn` the pending exception and returns the [`ThrownException`] error
            /// to return from a host function (or a call), which throws it into the
            /// calling wasm.
            pub fn throw<R>(&mut self, exn: Rooted<ExnRef>) -> Result<R> {
                throw(self.as_context_mut().inner, &exn)
            }

            /// Takes the exception a call left uncaught (it returned
            /// [`ThrownException`]), rooted in the current scope.
            pub fn take_pending_exception(&mut self) -> Option<Rooted<ExnRef>> {
                take(self.as_context_mut().inner)
            }

            /// Whether an exception is pending.
            pub fn has_pending_exception(&self) -> bool {
                self.as_context().inner.has_pending_exn()
            }
        }
    )*};
}
throw_api!(Store<T>, Caller<'_, T>, StoreContextMut<'_, T>);
