//! `Store<T>` and the context types through which every API call reaches it.

use crate::engine::Engine;
use crate::externals::Extern;
use anyhow::{Result, bail};
use gloam_interp::StoreInner;
use gloam_interp::limits::{EpochAction, ResourceLimiter, UpdateDeadline};
use std::any::Any;

/// All wasm state of one "world": instances, memories, tables, globals, the externref
/// heap and the value stack, plus the embedder's data `T`.
pub struct Store<T: 'static> {
    pub(crate) inner: StoreInner,
    pub(crate) data: T,
    engine: Engine,
}

impl<T: 'static> Store<T> {
    pub fn new(engine: &Engine, data: T) -> Store<T> {
        Store {
            inner: StoreInner::new(engine.inner.clone()),
            data,
            engine: engine.clone(),
        }
    }

    pub fn data(&self) -> &T {
        &self.data
    }

    pub fn data_mut(&mut self) -> &mut T {
        &mut self.data
    }

    pub fn into_data(self) -> T {
        self.data
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Runs a garbage collection of the `externref` heap.
    pub fn gc(&mut self) {
        self.inner.collect_garbage();
    }

    /// Installs an observer that receives every root operation and collection step.
    pub fn set_gc_observer(&mut self, observer: impl FnMut(&crate::GcEvent) + Send + 'static) {
        self.inner.gc.set_observer(Some(Box::new(observer)));
    }

    /// Removes the GC observer.
    pub fn clear_gc_observer(&mut self) {
        self.inner.gc.set_observer(None);
    }

    /// Why the object with raw heap index `object` is alive: every root that reaches it
    /// directly, and every exception object whose payload holds it (`RootKind::Edge`;
    /// ask again about that one to follow the chain). Empty when nothing references the
    /// object (the next collection frees it) or it is not live.
    pub fn gc_why(&self, object: u32) -> Vec<crate::RootKind> {
        let heap = &self.inner.gc.heap;
        let mut why: Vec<crate::RootKind> = self
            .inner
            .gc_roots()
            .into_iter()
            .filter(|(r, _)| r.as_raw() == object)
            .map(|(_, kind)| kind)
            .collect();
        why.extend(
            heap.objects()
                .filter(|&o| heap.edges(o).iter().any(|e| e.as_raw() == object))
                .map(|from| crate::RootKind::Edge { from }),
        );
        why
    }

    /// Number of live `externref` objects in the heap.
    pub fn gc_live_objects(&self) -> usize {
        self.inner.gc.heap.live()
    }

    /// Sets the fuel left. An error unless the engine's `Config::consume_fuel` is on.
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        set_fuel(&mut self.inner, fuel)
    }

    /// The fuel left. An error unless the engine's `Config::consume_fuel` is on.
    pub fn get_fuel(&self) -> Result<u64> {
        get_fuel(&self.inner)
    }

    /// Sets the epoch deadline to the engine's current epoch plus `ticks_beyond_current`.
    /// Only meaningful with `Config::epoch_interruption`.
    pub fn set_epoch_deadline(&mut self, ticks_beyond_current: u64) {
        set_epoch_deadline(&mut self.inner, ticks_beyond_current);
    }

    /// Reaching the epoch deadline traps with [`Trap::Interrupt`](crate::Trap::Interrupt)
    /// (the default).
    pub fn epoch_deadline_trap(&mut self) {
        self.inner.limits.epoch_action = EpochAction::Trap;
    }

    /// Reaching the epoch deadline calls `callback`, which may use the store and returns
    /// how far to move the deadline ([`UpdateDeadline::Continue`]) or an error, which
    /// stops the wasm call with that error.
    pub fn epoch_deadline_callback(
        &mut self,
        mut callback: impl FnMut(StoreContextMut<'_, T>) -> Result<UpdateDeadline>
        + Send
        + Sync
        + 'static,
    ) {
        self.inner.limits.epoch_action = EpochAction::Callback(Box::new(
            move |inner: &mut StoreInner, data: &mut dyn Any| {
                let Some(data) = data.downcast_mut::<T>() else {
                    bail!("epoch callback called with a store of another data type");
                };
                callback(StoreContextMut { inner, data })
            },
        ));
    }

    /// Installs a resource limiter, found in the store's data by `limiter`. Memory and
    /// table growth (initial sizes included) and the counts of instances, memories and
    /// tables created afterwards are checked against it.
    pub fn limiter(
        &mut self,
        mut limiter: impl (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync + 'static,
    ) {
        self.inner.limits.limiter = Some(Box::new(move |data: &mut dyn Any| {
            // The core passes only this store's data, which is a `T`.
            let data = data
                .downcast_mut::<T>()
                .expect("the store's data has the store's data type");
            limiter(data)
        }));
    }
}

fn set_fuel(inner: &mut StoreInner, fuel: u64) -> Result<()> {
    if !inner.engine.config.consume_fuel {
        bail!("fuel is not configured in this store (enable `Config::consume_fuel`)");
    }
    inner.limits.vm.fuel = fuel;
    Ok(())
}

fn get_fuel(inner: &StoreInner) -> Result<u64> {
    if !inner.engine.config.consume_fuel {
        bail!("fuel is not configured in this store (enable `Config::consume_fuel`)");
    }
    Ok(inner.limits.vm.fuel)
}

fn set_epoch_deadline(inner: &mut StoreInner, ticks: u64) {
    inner.limits.vm.epoch_deadline = inner.engine.epoch.get().saturating_add(ticks);
}

impl<T: Default + 'static> Default for Store<T> {
    fn default() -> Store<T> {
        Store::new(&Engine::default(), T::default())
    }
}

impl<T: 'static + std::fmt::Debug> std::fmt::Debug for Store<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("id", &self.inner.id())
            .field("data", &self.data)
            .finish()
    }
}

/// A shared borrow of a store.
pub struct StoreContext<'a, T: 'static> {
    pub(crate) inner: &'a StoreInner,
    pub(crate) data: &'a T,
}

/// An exclusive borrow of a store.
pub struct StoreContextMut<'a, T: 'static> {
    pub(crate) inner: &'a mut StoreInner,
    pub(crate) data: &'a mut T,
}

impl<'a, T: 'static> StoreContext<'a, T> {
    pub fn data(&self) -> &'a T {
        self.data
    }
}

impl<'a, T: 'static> StoreContextMut<'a, T> {
    pub fn data(&self) -> &T {
        self.data
    }
    pub fn data_mut(&mut self) -> &mut T {
        self.data
    }

    /// Runs a garbage collection of the `externref` heap.
    pub fn gc(&mut self) {
        self.inner.collect_garbage();
    }

    /// As [`Store::set_fuel`].
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        set_fuel(self.inner, fuel)
    }

    /// As [`Store::get_fuel`].
    pub fn get_fuel(&self) -> Result<u64> {
        get_fuel(self.inner)
    }

    /// As [`Store::set_epoch_deadline`].
    pub fn set_epoch_deadline(&mut self, ticks_beyond_current: u64) {
        set_epoch_deadline(self.inner, ticks_beyond_current);
    }
}

/// Things that can be read as a store: `Store`, contexts, `Caller`, and references to them.
pub trait AsContext {
    type Data: 'static;
    fn as_context(&self) -> StoreContext<'_, Self::Data>;
}

/// Things that can be used as a mutable store.
pub trait AsContextMut: AsContext {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, Self::Data>;
}

impl<T: 'static> AsContext for Store<T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext {
            inner: &self.inner,
            data: &self.data,
        }
    }
}
impl<T: 'static> AsContextMut for Store<T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut {
            inner: &mut self.inner,
            data: &mut self.data,
        }
    }
}
impl<T: 'static> AsContext for StoreContext<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext {
            inner: self.inner,
            data: self.data,
        }
    }
}
impl<T: 'static> AsContext for StoreContextMut<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext {
            inner: self.inner,
            data: self.data,
        }
    }
}
impl<T: 'static> AsContextMut for StoreContextMut<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut {
            inner: self.inner,
            data: self.data,
        }
    }
}
impl<C: AsContext + ?Sized> AsContext for &C {
    type Data = C::Data;
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        (**self).as_context()
    }
}
impl<C: AsContext + ?Sized> AsContext for &mut C {
    type Data = C::Data;
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        (**self).as_context()
    }
}
impl<C: AsContextMut + ?Sized> AsContextMut for &mut C {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, C::Data> {
        (**self).as_context_mut()
    }
}

/// The store as seen by a host function, plus the instance that called it.
pub struct Caller<'a, T: 'static> {
    pub(crate) inner: &'a mut StoreInner,
    pub(crate) data: &'a mut T,
}

impl<T: 'static> Caller<'_, T> {
    pub fn data(&self) -> &T {
        self.data
    }

    pub fn data_mut(&mut self) -> &mut T {
        self.data
    }

    /// Runs a garbage collection; references held by the wasm frames below stay alive.
    pub fn gc(&mut self) {
        self.inner.collect_garbage();
    }

    /// As [`Store::set_fuel`].
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        set_fuel(self.inner, fuel)
    }

    /// As [`Store::get_fuel`].
    pub fn get_fuel(&self) -> Result<u64> {
        get_fuel(self.inner)
    }

    /// As [`Store::set_epoch_deadline`].
    pub fn set_epoch_deadline(&mut self, ticks_beyond_current: u64) {
        set_epoch_deadline(self.inner, ticks_beyond_current);
    }

    /// An export of the calling instance, e.g. its `memory`.
    pub fn get_export(&mut self, name: &str) -> Option<Extern> {
        let inst = self.inner.caller_instance()?;
        let addr = self.inner.instance_export(inst, name)?;
        Some(Extern::from_addr(self.inner.id(), addr))
    }
}

impl<T: 'static> AsContext for Caller<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext {
            inner: self.inner,
            data: self.data,
        }
    }
}
impl<T: 'static> AsContextMut for Caller<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut {
            inner: self.inner,
            data: self.data,
        }
    }
}
