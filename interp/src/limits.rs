//! Bounding what untrusted wasm may use: fuel, epoch interruption and the resource limiter.
//!
//! # Fuel
//!
//! With `RuntimeConfig::consume_fuel`, the translator starts every *fuel block* with a
//! `consume_fuel k` instruction, where `k` is the number of wasm operators in the block
//! that cost fuel. Every operator costs 1 except `nop`, `drop`, `block`, `loop`, `if`'s
//! `else`, `end`, `unreachable` and `return`, which cost 0 (wasmtime's rule). Operators in
//! unreachable code are never executed and cost nothing.
//!
//! A fuel block starts at the function entry, at a loop header, at the start of each arm
//! of an `if`, after every `end` (a join point) and after every `br_if` (its fall-through
//! path), so every path that enters a block runs its `consume_fuel` first and no path
//! leaves a block early except by a trap or a call. The rule that follows:
//!
//! - A call that returns normally consumed exactly the number of costing operators it
//!   executed (the callee's included).
//! - Before a block runs, if the remaining fuel is below `k`, execution traps with
//!   [`Trap::OutOfFuel`](crate::Trap::OutOfFuel) and the remaining fuel is left as it was.
//! - A block that traps in the middle (or whose call traps) has been charged in full.
//!
//! # Epochs
//!
//! With `RuntimeConfig::epoch_interruption`, the translator puts a `check_epoch`
//! instruction at every function entry and every loop header. It compares the engine's
//! epoch counter ([`Epoch`], bumped by `Engine::increment_epoch` from any thread) with the
//! store's deadline; at or past the deadline the store's [`EpochAction`] runs: a trap
//! ([`Trap::Interrupt`](crate::Trap::Interrupt)) or a host callback that may extend the
//! deadline.
//!
//! With both on, function entries and loop headers get one `check_epoch_consume_fuel`
//! (the epoch first: a stop there charges nothing).
//!
//! Both counters live in [`VMLimits`], a plain `repr(C)` struct inside the store, so a
//! compiled tier can read and update them through the store pointer with the same
//! semantics. The JIT does: its code gets pointers to the store's `VMLimits` and to the
//! engine's epoch counter in `native::VmCtx`, charges fuel there itself (so `get_fuel` is
//! exact whenever native code has exited), traps with the same trap when fuel is short,
//! and hands a check that found the deadline reached back to the executor as a step exit,
//! so the handler here runs the epoch action (see `exec/limits.rs`).
//!
//! # Resource limiter
//!
//! [`ResourceLimiter`] mirrors wasmtime's trait: the store consults it before any memory
//! or table grows (including the initial allocation at instantiation or creation) and
//! when it creates instances, memories and tables.

use crate::prelude::*;
use anyhow::Result;
use core::any::Any;

/// The engine's epoch counter. Targets without 64-bit atomics count in 32 bits.
#[derive(Debug, Default)]
pub struct Epoch {
    #[cfg(target_has_atomic = "64")]
    counter: core::sync::atomic::AtomicU64,
    #[cfg(not(target_has_atomic = "64"))]
    counter: core::sync::atomic::AtomicU32,
}

impl Epoch {
    /// The current epoch.
    #[inline(always)]
    pub fn get(&self) -> u64 {
        #[allow(clippy::useless_conversion)]
        u64::from(self.counter.load(core::sync::atomic::Ordering::Relaxed))
    }

    /// The counter's address, for a compiled tier that loads it with a plain aligned
    /// 64-bit load (atomic on the targets that have a JIT, and as relaxed as [`get`]);
    /// null where the counter is 32 bits (no 64-bit atomics, hence no JIT).
    ///
    /// [`get`]: Epoch::get
    pub fn as_ptr(&self) -> *const u64 {
        #[cfg(target_has_atomic = "64")]
        return self.counter.as_ptr();
        #[cfg(not(target_has_atomic = "64"))]
        return core::ptr::null();
    }

    /// Advances the epoch by one; callable from any thread.
    pub fn increment(&self) {
        self.counter
            .fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    }
}

/// The per-store counters the executor checks. `repr(C)` so that a compiled tier can
/// address the fields at fixed offsets.
#[derive(Copy, Clone, Debug, Default)]
#[repr(C)]
pub struct VMLimits {
    /// Fuel left (meaningful only with `consume_fuel`).
    pub fuel: u64,
    /// The epoch at which a `check_epoch` stops execution.
    pub epoch_deadline: u64,
}

/// What a store's epoch-deadline callback asks for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpdateDeadline {
    /// Go on running; the new deadline is the current epoch plus this many ticks.
    Continue(u64),
}

/// A store's epoch-deadline callback, with the embedder's data as `&mut dyn Any`.
pub type EpochCallback =
    Box<dyn FnMut(&mut crate::StoreInner, &mut dyn Any) -> Result<UpdateDeadline> + Send + Sync>;

/// What happens when a `check_epoch` finds the deadline reached.
#[derive(Default)]
pub enum EpochAction {
    /// Trap with `Trap::Interrupt` (the default).
    #[default]
    Trap,
    /// Call the callback; its error becomes the call's error.
    Callback(EpochCallback),
}

/// Default most instances, tables or memories a store may hold (as wasmtime's).
pub const DEFAULT_INSTANCE_LIMIT: usize = 10_000;
/// See [`DEFAULT_INSTANCE_LIMIT`].
pub const DEFAULT_TABLE_LIMIT: usize = 10_000;
/// See [`DEFAULT_INSTANCE_LIMIT`].
pub const DEFAULT_MEMORY_LIMIT: usize = 10_000;

/// Decides whether memories and tables may grow and how many instances, tables and
/// memories a store may hold. The same methods, arguments and defaults as wasmtime's.
pub trait ResourceLimiter {
    /// A memory wants to grow from `current` to `desired` bytes (`maximum`: its declared
    /// maximum, if any). `Ok(false)` makes the growth fail (`memory.grow` returns -1, an
    /// instantiation fails); `Err` traps.
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// A memory growth failed for another reason than this limiter (over the maximum, out
    /// of host memory). `Ok` keeps the failure a `-1`; `Err` turns it into a trap.
    fn memory_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        let _ = error;
        Ok(())
    }

    /// A table wants to grow from `current` to `desired` elements; as `memory_growing`.
    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// As `memory_grow_failed`, for tables.
    fn table_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        let _ = error;
        Ok(())
    }

    /// Most instances the store may hold.
    fn instances(&self) -> usize {
        DEFAULT_INSTANCE_LIMIT
    }

    /// Most tables the store may hold (defined and host-created).
    fn tables(&self) -> usize {
        DEFAULT_TABLE_LIMIT
    }

    /// Most memories the store may hold (defined and host-created).
    fn memories(&self) -> usize {
        DEFAULT_MEMORY_LIMIT
    }
}

/// How a store reaches its limiter: a projection from the embedder's data.
pub type LimiterFn =
    Box<dyn (FnMut(&mut dyn Any) -> &mut dyn ResourceLimiter) + Send + Sync + 'static>;

/// A ready-made [`ResourceLimiter`] with fixed bounds, built by [`StoreLimitsBuilder`].
#[derive(Clone, Debug)]
pub struct StoreLimits {
    memory_size: Option<usize>,
    table_elements: Option<usize>,
    instances: usize,
    tables: usize,
    memories: usize,
    trap_on_grow_failure: bool,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            memory_size: None,
            table_elements: None,
            instances: DEFAULT_INSTANCE_LIMIT,
            tables: DEFAULT_TABLE_LIMIT,
            memories: DEFAULT_MEMORY_LIMIT,
            trap_on_grow_failure: false,
        }
    }
}

/// Builds a [`StoreLimits`]; unset bounds are unlimited (or wasmtime's default counts).
#[derive(Clone, Debug, Default)]
pub struct StoreLimitsBuilder(StoreLimits);

impl StoreLimitsBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Most bytes any one linear memory may have.
    pub fn memory_size(mut self, bytes: usize) -> Self {
        self.0.memory_size = Some(bytes);
        self
    }

    /// Most elements any one table may have.
    pub fn table_elements(mut self, elements: usize) -> Self {
        self.0.table_elements = Some(elements);
        self
    }

    /// Most instances in the store.
    pub fn instances(mut self, n: usize) -> Self {
        self.0.instances = n;
        self
    }

    /// Most tables in the store.
    pub fn tables(mut self, n: usize) -> Self {
        self.0.tables = n;
        self
    }

    /// Most memories in the store.
    pub fn memories(mut self, n: usize) -> Self {
        self.0.memories = n;
        self
    }

    /// Make a denied or failed growth a trap instead of a `-1` result.
    pub fn trap_on_grow_failure(mut self, trap: bool) -> Self {
        self.0.trap_on_grow_failure = trap;
        self
    }

    pub fn build(self) -> StoreLimits {
        self.0
    }
}

impl ResourceLimiter for StoreLimits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool> {
        let allow = self.memory_size.is_none_or(|max| desired <= max);
        if !allow && self.trap_on_grow_failure {
            anyhow::bail!("forcing trap when growing memory to {desired} bytes");
        }
        Ok(allow)
    }

    fn memory_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        if self.trap_on_grow_failure {
            return Err(error.context("forcing a memory growth failure to be a trap"));
        }
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool> {
        let allow = self.table_elements.is_none_or(|max| desired <= max);
        if !allow && self.trap_on_grow_failure {
            anyhow::bail!("forcing trap when growing table to {desired} elements");
        }
        Ok(allow)
    }

    fn table_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        if self.trap_on_grow_failure {
            return Err(error.context("forcing a table growth failure to be a trap"));
        }
        Ok(())
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn tables(&self) -> usize {
        self.tables
    }

    fn memories(&self) -> usize {
        self.memories
    }
}

/// The store's limit state: counters, epoch action and limiter.
#[derive(Default)]
pub struct StoreLimitState {
    pub vm: VMLimits,
    pub epoch_action: EpochAction,
    pub limiter: Option<LimiterFn>,
}

impl core::fmt::Debug for StoreLimitState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StoreLimitState")
            .field("vm", &self.vm)
            .field("limiter", &self.limiter.is_some())
            .finish()
    }
}

/// Formats a limit error message (kept in one place for the API and the store).
pub(crate) fn count_error(what: &str, limit: usize) -> anyhow::Error {
    anyhow::anyhow!("resource limit exceeded: {what} count too high at {limit}")
}

impl crate::StoreInner {
    /// The store's limiter, if it has one, seen through the embedder's data.
    fn limiter<'a>(&'a mut self, data: &'a mut dyn Any) -> Option<&'a mut dyn ResourceLimiter> {
        let f = self.limits.limiter.as_mut()?;
        Some(f(data))
    }

    /// Grows memory `mem` (a store address) by `delta` pages, consulting the limiter as
    /// wasmtime does: the limiter first, then the memory's maximum and the host
    /// allocation (whose failures go to `memory_grow_failed`). `Ok(None)` is a failed
    /// growth (`memory.grow` returns -1); `Err` is an error the limiter raised.
    pub fn grow_memory(&mut self, data: &mut dyn Any, mem: u32, delta: u64) -> Result<Option<u64>> {
        let m = &self.memories[mem as usize];
        let old = m.pages();
        if delta == 0 {
            return Ok(Some(old));
        }
        let page = crate::WASM_PAGE_SIZE;
        let to_usize = |bytes: u64| usize::try_from(bytes).unwrap_or(usize::MAX);
        let current = to_usize(old * page);
        let desired = old
            .checked_add(delta)
            .and_then(|p| p.checked_mul(page))
            .map_or(usize::MAX, to_usize);
        let maximum = m.ty.max.map(|p| to_usize(p.saturating_mul(page)));
        if let Some(limiter) = self.limiter(data)
            && !limiter.memory_growing(current, desired, maximum)?
        {
            return Ok(None);
        }
        match self.memories[mem as usize].grow(delta) {
            Some(old) => Ok(Some(old)),
            None => {
                if let Some(limiter) = self.limiter(data) {
                    limiter.memory_grow_failed(anyhow::anyhow!(
                        "failed to grow memory from {current} to {desired} bytes"
                    ))?;
                }
                Ok(None)
            }
        }
    }

    /// Grows table `table` (a store address) by `delta` elements set to `init`; as
    /// [`grow_memory`](Self::grow_memory).
    pub fn grow_table(
        &mut self,
        data: &mut dyn Any,
        table: u32,
        delta: u64,
        init: u64,
    ) -> Result<Option<u64>> {
        let t = &self.tables[table as usize];
        let old = t.elements.len() as u64;
        if delta == 0 {
            return Ok(Some(old));
        }
        let to_usize = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        let desired = old.checked_add(delta).map_or(usize::MAX, to_usize);
        let maximum = t.ty.max.map(to_usize);
        if let Some(limiter) = self.limiter(data)
            && !limiter.table_growing(old as usize, desired, maximum)?
        {
            return Ok(None);
        }
        match self.tables[table as usize].grow(delta, init) {
            Some(old) => Ok(Some(old)),
            None => {
                if let Some(limiter) = self.limiter(data) {
                    limiter.table_grow_failed(anyhow::anyhow!(
                        "failed to grow table from {old} to {desired} elements"
                    ))?;
                }
                Ok(None)
            }
        }
    }

    /// Creates a memory of type `ty`, asking the limiter for its count and initial size.
    pub fn new_memory(&mut self, data: &mut dyn Any, ty: crate::MemoryType) -> Result<u32> {
        let count = self.memories.len();
        if let Some(limiter) = self.limiter(data) {
            let max = limiter.memories();
            if count >= max {
                return Err(count_error("memory", max));
            }
            let page = crate::WASM_PAGE_SIZE;
            let to_usize = |bytes: u64| usize::try_from(bytes).unwrap_or(usize::MAX);
            let desired = to_usize(ty.min.saturating_mul(page));
            let maximum = ty.max.map(|p| to_usize(p.saturating_mul(page)));
            if !limiter.memory_growing(0, desired, maximum)? {
                anyhow::bail!(
                    "memory minimum size of {} pages exceeds memory limits",
                    ty.min
                );
            }
        }
        self.add_memory(ty)
    }

    /// Creates a table of type `ty` filled with `init`, asking the limiter first.
    pub fn new_table(
        &mut self,
        data: &mut dyn Any,
        ty: crate::TableType,
        init: u64,
    ) -> Result<u32> {
        let count = self.tables.len();
        if let Some(limiter) = self.limiter(data) {
            let max = limiter.tables();
            if count >= max {
                return Err(count_error("table", max));
            }
            let to_usize = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
            if !limiter.table_growing(0, to_usize(ty.min), ty.max.map(to_usize))? {
                anyhow::bail!(
                    "table minimum size of {} elements exceeds table limits",
                    ty.min
                );
            }
        }
        self.add_table(ty, init)
    }

    /// Checks the limiter's instance count before an instantiation.
    pub(crate) fn check_instance_count(&mut self, data: &mut dyn Any) -> Result<()> {
        let count = self.instances.len();
        if let Some(limiter) = self.limiter(data) {
            let max = limiter.instances();
            if count >= max {
                return Err(count_error("instance", max));
            }
        }
        Ok(())
    }
}
