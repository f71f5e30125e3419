//! Exception handling (Wasm 3.0): tags, exception objects and the pending exception.
//!
//! - A *tag* is a store object ([`TagInst`]) with a payload type; instances refer to tags
//!   by store address, so two instances importing the same tag catch each other's
//!   exceptions, and two definitions of the same type never match.
//! - An *exception* is a GC heap object ([`ExnObject`]: tag address and payload cells)
//!   allocated by `throw` (or by the host, `ExnRef::new`). An `exnref` is its heap index,
//!   like an `externref`, so stack maps, globals and tables root both alike. The payload's
//!   `externref`s and `exnref`s are the object's edges ([`gloam_gc::Gc::alloc_with_edges`]):
//!   a caught exception keeps them alive while it is referenced.
//! - While an exception unwinds it lives in a Rust local of the executor (no collection
//!   can run then). When it leaves an entry of the executor uncaught it becomes the store's
//!   *pending exception* (a GC root) and the call returns [`ThrownException`]; a host
//!   function that returns that error (with the exception still pending) rethrows it into
//!   the wasm that called it. The host throws its own with `Store::throw`.
//!
//! The executor's side (handler tables, unwinding) is in `exec/mod.rs` (`throw_exn`) and
//! `translate` (`try_table`).

use crate::prelude::*;
use crate::store::StoreInner;
use crate::types::{FuncType, ValType};
use core::fmt;
use gloam_gc::VMGcRef;

/// A tag of a store.
#[derive(Clone, Debug)]
pub struct TagInst {
    /// The payload type (params; no results).
    pub ty: FuncType,
    /// The engine-wide id of `ty`.
    pub type_id: u32,
}

/// An exception: the heap data behind an `exnref`.
#[derive(Clone, Debug)]
pub struct ExnObject {
    /// Store address of the tag.
    pub tag: u32,
    /// The payload, laid out as frame cells (a `v128` takes two).
    pub payload: Box<[u64]>,
}

/// The error a call returns when a wasm exception escaped it (or a host function
/// returns to rethrow one): the exception itself is the store's pending exception
/// (`Store::take_pending_exception`). Not a [`Trap`](crate::Trap): a trap cannot be
/// caught by wasm, an exception can.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ThrownException;

impl fmt::Display for ThrownException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("uncaught wasm exception (see `Store::take_pending_exception`)")
    }
}

impl core::error::Error for ThrownException {}

impl StoreInner {
    /// Adds a tag with payload type `ty` (a host-made tag: its type is a rec group of
    /// its own); returns its address.
    pub fn add_tag(&mut self, ty: FuncType) -> u32 {
        let type_id = self.engine.register_type(&ty);
        self.add_tag_with_id(ty, type_id)
    }

    /// Adds a tag whose payload type `ty` has canonical id `type_id` (a module's tag: the
    /// id of its type within its rec group, so that tag imports match as 3.0 says).
    pub fn add_tag_with_id(&mut self, ty: FuncType, type_id: u32) -> u32 {
        self.tags.push(TagInst { ty, type_id });
        self.tags.len() as u32 - 1
    }

    /// Allocates an exception of tag `tag` with `payload` (cells matching the tag's
    /// type). When the heap is full, collects once (the caller must have made every live
    /// reference a root: suspended frames and `extra`) and retries; `None` if it is still
    /// full.
    pub fn alloc_exn(&mut self, tag: u32, payload: Box<[u64]>) -> Option<VMGcRef> {
        let mut edges = Vec::new();
        let mut cell = 0;
        for ty in self.tags[tag as usize].ty.params() {
            if ty.is_gc_ref()
                && let Some(r) = VMGcRef::from_raw(payload[cell] as u32)
            {
                edges.push(r);
            }
            cell += ty.cells();
        }
        let edges = edges.into_boxed_slice();
        let obj = ExnObject { tag, payload };
        match self.gc.alloc_with_edges(Box::new(obj), edges.clone()) {
            Ok(r) => Some(r),
            Err(back) => {
                let roots = edges
                    .iter()
                    .map(|&e| (e, gloam_gc::RootKind::PendingException));
                let mut all = self.non_host_roots();
                all.extend(roots);
                self.gc.collect(all);
                self.gc.alloc_with_edges(back, edges).ok()
            }
        }
    }

    /// The exception behind a non-null `exnref`.
    pub fn exn(&self, r: VMGcRef) -> Option<&ExnObject> {
        self.gc.heap.get(r)?.downcast_ref::<ExnObject>()
    }

    /// Makes `exn` the pending exception and returns the error that carries it out.
    pub fn set_pending_exn(&mut self, exn: VMGcRef) -> anyhow::Error {
        self.pending_exn = Some(exn);
        anyhow::Error::new(ThrownException)
    }

    /// Takes the pending exception, if `e` is the [`ThrownException`] that announces one.
    pub fn take_pending_exn_for(&mut self, e: &anyhow::Error) -> Option<VMGcRef> {
        if e.is::<ThrownException>() {
            self.pending_exn.take()
        } else {
            None
        }
    }

    /// Takes the pending exception.
    pub fn take_pending_exn(&mut self) -> Option<VMGcRef> {
        self.pending_exn.take()
    }

    /// Whether an exception is pending.
    pub fn has_pending_exn(&self) -> bool {
        self.pending_exn.is_some()
    }

    /// The payload's values' types of tag `tag`.
    pub fn tag_type(&self, tag: u32) -> &FuncType {
        &self.tags[tag as usize].ty
    }
}

/// Cells of a payload of types `tys`.
pub fn payload_cells(tys: &[ValType]) -> usize {
    tys.iter().map(|t| t.cells()).sum()
}
