//! The executor's side of exception handling (see `crate::exn`): `throw`, `throw_ref`,
//! and unwinding to a handler.
//!
//! Unwinding walks the frames of the current invocation, innermost first. In each it
//! looks the pc of the instruction the exception came out of (the `throw`, or the call
//! that was active) up in the function's handler table (`CompiledFunc::catches_at`); the
//! first matching catch clause wins, its values go to the label's cells and execution
//! continues at the label. Frames without one are popped, native ones included (native
//! code never has handlers and keeps its values in the frame cells, so popping it is all
//! it takes). Past the invocation's entry frame the exception becomes the store's pending
//! exception and leaves as [`ThrownException`](crate::ThrownException). The normal path
//! pays nothing: `try_table` emits no code.
#![allow(non_snake_case)]

use super::{Executor, Exit, Frame, Step};
use crate::ops::Reg;
use crate::prelude::*;
use crate::translate::Catch;
use crate::trap::Trap;
use gloam_gc::VMGcRef;

impl Executor<'_> {
    pub(super) fn Throw(&mut self, tag: u32, base: Reg) -> Step {
        let addr = self.store.instances[self.inst as usize].tags[tag as usize];
        let n = crate::exn::payload_cells(self.store.tags[addr as usize].ty.params());
        let at = self.base + base.0 as usize;
        let payload: Box<[u64]> = self.store.stack[at..at + n].into();
        // Allocating may collect (GC stress, or a full heap): the frame is suspended like
        // a caller's so the stack map of this throw, which covers the payload, applies.
        self.store.frames.push(Frame {
            func: self.func,
            pc: self.pc as u32,
            base: self.base,
            inst: self.inst,
        });
        if self.gc_stress {
            self.store.collect_garbage();
        }
        let exn = self.store.alloc_exn(addr, payload);
        self.store.frames.pop();
        let exn = exn.ok_or_else(|| {
            Exit::Error(anyhow::anyhow!(
                "GC heap out of memory: cannot allocate an exception"
            ))
        })?;
        self.throw_exn(exn, false)
    }

    pub(super) fn ThrowRef(&mut self, exn: Reg) -> Step {
        match VMGcRef::from_raw(self.get(exn) as u32) {
            Some(r) => self.throw_exn(r, false),
            None => Err(Exit::Trap(Trap::NullReference)),
        }
    }

    /// Throws `exn` from the current instruction (with `from_caller`, from the call in the
    /// current frame's caller: a host function the frame tail-called threw it). Continues
    /// at the handler (`Ok`), or leaves the invocation with the exception pending.
    pub(super) fn throw_exn(&mut self, exn: VMGcRef, from_caller: bool) -> Step {
        let Some(tag) = self.store.exn(exn).map(|o| o.tag) else {
            return Err(Exit::Error(anyhow::anyhow!(
                "internal error: an exnref names no exception object"
            )));
        };
        let mut pc = self.pc.saturating_sub(1) as u32;
        let mut search = !from_caller;
        loop {
            if search && let Some(c) = self.find_catch(pc, tag) {
                self.land(exn, c);
                return Ok(());
            }
            search = true;
            if self.store.frames.len() == self.entry_depth {
                return Err(Exit::Error(self.store.set_pending_exn(exn)));
            }
            let Some(fr) = self.store.frames.pop() else {
                return Err(Exit::Error(self.store.set_pending_exn(exn)));
            };
            self.func = fr.func;
            self.code = self.func().units();
            self.pc = fr.pc as usize;
            self.base = fr.base;
            self.refresh_regs();
            if fr.inst != self.inst {
                self.inst = fr.inst;
                self.module = &*self.store.instances[fr.inst as usize].module;
                self.refresh_memory();
            }
            pc = fr.pc.saturating_sub(1);
        }
    }

    /// The first catch clause of the current function that takes an exception of store
    /// tag `tag` thrown at code index `pc`.
    fn find_catch(&self, pc: u32, tag: u32) -> Option<Catch> {
        let tags = &self.store.instances[self.inst as usize].tags;
        self.func()
            .catches_at(pc)
            .find(|c| c.tag.is_none_or(|t| tags[t as usize] == tag))
            .copied()
    }

    /// Delivers `exn` to catch clause `c` of the current frame: payload (for a tagged
    /// catch) then the `exnref` (for a `_ref` catch) into the label's cells, and a jump.
    fn land(&mut self, exn: VMGcRef, c: Catch) {
        let at = self.base + c.dst as usize;
        let mut n = 0;
        if c.tag.is_some() {
            let store = &mut *self.store;
            let obj = store.gc.heap.get(exn);
            if let Some(obj) = obj.and_then(|d| d.downcast_ref::<crate::exn::ExnObject>()) {
                n = obj.payload.len();
                store.stack[at..at + n].copy_from_slice(&obj.payload);
            }
        }
        if c.with_ref {
            self.store.stack[at + n] = exn.as_raw() as u64;
        }
        self.pc = c.target as usize;
    }
}
