//! gloam's `externref` heap: an arena, the roots, and a mark & sweep collector.
//!
//! # The rooting model, in five minutes
//!
//! Every `externref` is a [`VMGcRef`]: a non-zero `u32` index into the store's [`GcHeap`].
//! `0` is null, so a null `externref` in a frame cell, a table slot or a global is the
//! value 0 and `Option<VMGcRef>` is four bytes. An object is the host's value
//! (`Box<dyn Any + Send + Sync>`) plus a mark bit; freed slots go on a free list.
//!
//! An object stays alive while a *root* reaches it. There are five kinds of root:
//!
//! 1. **The LIFO root stack** ([`RootSet::push_lifo`]). The embedding API's `Rooted<T>`
//!    is an index into this stack plus the stack's *generation*. A `RootScope` remembers
//!    the stack's length when it opens and truncates back to it when it closes; every
//!    truncation that removes entries bumps the generation. A `Rooted` is valid only while
//!    the entry at its index still carries its generation, so using it after its scope
//!    ended is an error the API reports, never a dangling access. Each host call runs in
//!    an implicit scope, so references a host function creates die with the call unless
//!    returned to wasm or stored elsewhere.
//! 2. **Manual roots** ([`RootSet::add_manual`]): a slab of references that stay rooted
//!    until `unroot`. Each slot has its own generation, bumped on unroot, for the same
//!    use-after-free check. Forgetting to unroot leaks until the store is dropped.
//! 3. **Owned roots** ([`RootSet::add_owned`]): an RAII handle holds an `Arc` token; the
//!    root set keeps a `Weak` and drops the root at the next collection once the handle
//!    is gone. No store access is needed to release it.
//! 4. **Globals and tables** of `externref` type.
//! 5. **Wasm frames**: the translator records, for every call site (the only places a
//!    collection can happen while wasm is on the stack), which frame cells hold live
//!    `externref`s: a stack map. The collector walks every suspended wasm frame and marks
//!    the cells its map names. There is no conservative scanning.
//!
//! Allocation never collects: when the heap is full, [`GcHeap::alloc`] hands the value
//! back, and the embedder runs a collection (`store.gc()`) and retries.
//!
//! Collection ([`Gc::collect`]) marks every object a root reaches and sweeps the rest,
//! dropping their host data, so the host's `Drop` runs exactly once, when the object
//! becomes garbage. An `externref` has no outgoing references; an exception object (the
//! target of an `exnref`, allocated with [`Gc::alloc_with_edges`]) has the references of
//! its payload as fixed *edges* (exceptions are immutable), which marking follows
//! ([`RootKind::Edge`]). A thrown exception on its way to a handler or out to the host is
//! a root too ([`RootKind::PendingException`], supplied by the store).
//!
//! Every root operation and each phase of a collection is reported as a [`GcEvent`] to an
//! optional observer; the `gloam gc-trace` debugger is built on that stream.

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

use alloc::boxed::Box;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::fmt;
use core::num::NonZeroU32;

/// A reference to an object in a [`GcHeap`]: a non-zero slot index plus one.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VMGcRef(NonZeroU32);

impl VMGcRef {
    /// The raw cell value of this reference (never 0).
    pub fn as_raw(self) -> u32 {
        self.0.get()
    }

    /// Rebuilds a reference from a cell value; `0` (null) gives `None`.
    pub fn from_raw(raw: u32) -> Option<VMGcRef> {
        NonZeroU32::new(raw).map(VMGcRef)
    }

    fn slot(self) -> usize {
        (self.0.get() - 1) as usize
    }
}

impl fmt::Display for VMGcRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Host data stored in the heap.
pub type HostData = Box<dyn Any + Send + Sync>;

struct Slot {
    data: Option<HostData>,
    marked: bool,
    /// The objects this one references (an exception's payload); empty for `externref`s.
    edges: Box<[VMGcRef]>,
}

/// An arena of host objects addressed by [`VMGcRef`].
pub struct GcHeap {
    slots: Vec<Slot>,
    free: Vec<u32>,
    live: usize,
    limit: usize,
}

impl Default for GcHeap {
    fn default() -> Self {
        GcHeap::new(usize::MAX)
    }
}

impl GcHeap {
    /// A heap that holds at most `limit` live objects.
    pub fn new(limit: usize) -> GcHeap {
        GcHeap {
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
            limit,
        }
    }

    /// Number of live objects.
    pub fn live(&self) -> usize {
        self.live
    }

    /// The maximum number of live objects.
    pub fn limit(&self) -> usize {
        self.limit
    }

    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
    }

    /// Number of slots (live or free) the arena holds.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    fn alloc(&mut self, data: HostData, edges: Box<[VMGcRef]>) -> Result<VMGcRef, HostData> {
        if self.live >= self.limit {
            return Err(data);
        }
        let index = match self.free.pop() {
            Some(i) => {
                let slot = &mut self.slots[i as usize];
                slot.data = Some(data);
                slot.edges = edges;
                i as usize
            }
            None => {
                if self.slots.len() >= (u32::MAX - 1) as usize {
                    return Err(data);
                }
                self.slots.push(Slot {
                    data: Some(data),
                    marked: false,
                    edges,
                });
                self.slots.len() - 1
            }
        };
        self.live += 1;
        let raw = NonZeroU32::new(index as u32 + 1).expect("index + 1 is non-zero");
        Ok(VMGcRef(raw))
    }

    /// The host data behind `r`, or `None` when `r` does not name a live object.
    pub fn get(&self, r: VMGcRef) -> Option<&(dyn Any + Send + Sync)> {
        self.slots.get(r.slot())?.data.as_deref()
    }

    /// Mutable access to the host data behind `r`.
    pub fn get_mut(&mut self, r: VMGcRef) -> Option<&mut (dyn Any + Send + Sync)> {
        self.slots.get_mut(r.slot())?.data.as_deref_mut()
    }

    /// The objects `r` references (see [`Gc::alloc_with_edges`]).
    pub fn edges(&self, r: VMGcRef) -> &[VMGcRef] {
        self.slots.get(r.slot()).map_or(&[], |s| &s.edges)
    }

    /// Whether `r` names a live object of this heap.
    pub fn contains(&self, r: VMGcRef) -> bool {
        self.get(r).is_some()
    }

    /// Whether the raw index `raw` (as in a cell) names a live object.
    pub fn contains_raw(&self, raw: u32) -> bool {
        VMGcRef::from_raw(raw).is_some_and(|r| self.contains(r))
    }

    /// Live objects, in slot order.
    pub fn objects(&self) -> impl Iterator<Item = VMGcRef> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.data.is_some())
            .map(|(i, _)| VMGcRef(NonZeroU32::new(i as u32 + 1).expect("index + 1 is non-zero")))
    }
}

/// What kind of root reached an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RootKind {
    /// The LIFO root stack (a `Rooted<T>`), at this index.
    Lifo { index: u32 },
    /// A manual root (`ManuallyRooted<T>`), at this slab index.
    Manual { index: u32 },
    /// An owned root (`OwnedRooted<T>`).
    Owned,
    /// A global of the store.
    Global { global: u32 },
    /// An element of a table of the store.
    Table { table: u32, index: u32 },
    /// A cell of a suspended wasm frame, named by its stack map.
    WasmFrame { func_index: u32, pc: u32, cell: u32 },
    /// Referenced by another object (the payload of exception object `from`).
    Edge { from: VMGcRef },
    /// The exception being thrown (on its way to a handler, or out to the host).
    PendingException,
}

impl fmt::Display for RootKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RootKind::Lifo { index } => write!(f, "lifo[{index}]"),
            RootKind::Manual { index } => write!(f, "manual[{index}]"),
            RootKind::Owned => write!(f, "owned"),
            RootKind::Global { global } => write!(f, "global {global}"),
            RootKind::Table { table, index } => write!(f, "table {table}[{index}]"),
            RootKind::WasmFrame {
                func_index,
                pc,
                cell,
            } => {
                write!(
                    f,
                    "wasm frame of func {func_index} at pc {pc}, cell r{cell}"
                )
            }
            RootKind::Edge { from } => write!(f, "payload of exception object {}", from.as_raw()),
            RootKind::PendingException => write!(f, "pending exception"),
        }
    }
}

/// One step of rooting or collection, as reported to an observer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GcEvent {
    Alloc { object: VMGcRef, live: usize },
    OutOfMemory { live: usize, limit: usize },
    RootPush { kind: RootKind, object: VMGcRef },
    RootPop { kind: RootKind, object: VMGcRef },
    ScopeEnter { depth: u32, lifo_len: u32 },
    ScopeExit { depth: u32, popped: u32 },
    CollectStart { live: usize },
    Mark { object: VMGcRef, via: RootKind },
    Free { object: VMGcRef },
    CollectEnd { freed: usize, live: usize },
}

impl GcEvent {
    /// A short name of the event kind (`alloc`, `gc-start`, `free`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            GcEvent::Alloc { .. } => "alloc",
            GcEvent::OutOfMemory { .. } => "oom",
            GcEvent::RootPush { .. } => "root-push",
            GcEvent::RootPop { .. } => "root-pop",
            GcEvent::ScopeEnter { .. } => "scope-enter",
            GcEvent::ScopeExit { .. } => "scope-exit",
            GcEvent::CollectStart { .. } => "gc-start",
            GcEvent::Mark { .. } => "mark",
            GcEvent::Free { .. } => "free",
            GcEvent::CollectEnd { .. } => "gc-end",
        }
    }
}

impl fmt::Display for GcEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<11}", self.name())?;
        match self {
            GcEvent::Alloc { object, live } => write!(f, " {object} (live {live})"),
            GcEvent::OutOfMemory { live, limit } => write!(f, " heap full ({live}/{limit})"),
            GcEvent::RootPush { kind, object } | GcEvent::RootPop { kind, object } => {
                write!(f, " {object} {kind}")
            }
            GcEvent::ScopeEnter { depth, lifo_len } => {
                write!(f, " depth {depth} (lifo {lifo_len})")
            }
            GcEvent::ScopeExit { depth, popped } => write!(f, " depth {depth} (popped {popped})"),
            GcEvent::CollectStart { live } => write!(f, " live {live}"),
            GcEvent::Mark { object, via } => write!(f, " {object} via {via}"),
            GcEvent::Free { object } => write!(f, " {object} (host data dropped)"),
            GcEvent::CollectEnd { freed, live } => write!(f, " freed {freed}, live {live}"),
        }
    }
}

/// Receives [`GcEvent`]s.
pub type Observer = Box<dyn FnMut(&GcEvent) + Send>;

#[derive(Copy, Clone)]
struct LifoEntry {
    object: VMGcRef,
    generation: u64,
}

#[derive(Copy, Clone)]
struct ManualEntry {
    object: Option<VMGcRef>,
    generation: u64,
}

/// The host-side roots: LIFO stack, manual slab, owned roots.
#[derive(Default)]
pub struct RootSet {
    lifo: Vec<LifoEntry>,
    generation: u64,
    scope_depth: u32,
    manual: Vec<ManualEntry>,
    manual_free: Vec<u32>,
    owned: Vec<(Weak<()>, VMGcRef)>,
}

/// Identifies a LIFO root: index and generation.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct LifoRoot {
    pub index: u32,
    pub generation: u64,
}

/// Identifies a manual root: slab index and generation.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct ManualRoot {
    pub index: u32,
    pub generation: u64,
}

/// The heap, the host roots and the observer of one store.
#[derive(Default)]
pub struct Gc {
    pub heap: GcHeap,
    pub roots: RootSet,
    observer: Option<Observer>,
    collections: u64,
}

impl Gc {
    pub fn new(limit: usize) -> Gc {
        Gc {
            heap: GcHeap::new(limit),
            ..Gc::default()
        }
    }

    /// Installs (or removes) the event observer.
    pub fn set_observer(&mut self, observer: Option<Observer>) {
        self.observer = observer;
    }

    /// Whether an observer is installed.
    pub fn observed(&self) -> bool {
        self.observer.is_some()
    }

    fn emit(&mut self, event: impl FnOnce() -> GcEvent) {
        if let Some(o) = &mut self.observer {
            o(&event());
        }
    }

    /// Number of collections run so far.
    pub fn collections(&self) -> u64 {
        self.collections
    }

    /// Allocates an object. When the heap is full the value comes back as `Err`.
    pub fn alloc(&mut self, data: HostData) -> Result<VMGcRef, HostData> {
        self.alloc_with_edges(data, Box::new([]))
    }

    /// Allocates an object that references `edges` (an exception object and the
    /// references in its payload): while it is reachable, so are they.
    pub fn alloc_with_edges(
        &mut self,
        data: HostData,
        edges: Box<[VMGcRef]>,
    ) -> Result<VMGcRef, HostData> {
        match self.heap.alloc(data, edges) {
            Ok(object) => {
                let live = self.heap.live;
                self.emit(|| GcEvent::Alloc { object, live });
                Ok(object)
            }
            Err(data) => {
                let (live, limit) = (self.heap.live, self.heap.limit);
                self.emit(|| GcEvent::OutOfMemory { live, limit });
                Err(data)
            }
        }
    }

    // ---- LIFO roots --------------------------------------------------------------------

    /// Pushes a LIFO root.
    pub fn push_lifo(&mut self, object: VMGcRef) -> LifoRoot {
        let index = self.roots.lifo.len() as u32;
        let generation = self.roots.generation;
        self.roots.lifo.push(LifoEntry { object, generation });
        self.emit(|| GcEvent::RootPush {
            kind: RootKind::Lifo { index },
            object,
        });
        LifoRoot { index, generation }
    }

    /// The object of a LIFO root, if the root is still in scope.
    pub fn lifo(&self, root: LifoRoot) -> Option<VMGcRef> {
        let e = self.roots.lifo.get(root.index as usize)?;
        (e.generation == root.generation).then_some(e.object)
    }

    /// Opens a scope: returns the LIFO length to restore when it closes.
    pub fn enter_scope(&mut self) -> usize {
        self.roots.scope_depth += 1;
        let (depth, len) = (self.roots.scope_depth, self.roots.lifo.len());
        self.emit(|| GcEvent::ScopeEnter {
            depth,
            lifo_len: len as u32,
        });
        len
    }

    /// Closes a scope opened at LIFO length `len`, unrooting everything pushed since.
    pub fn exit_scope(&mut self, len: usize) {
        let depth = self.roots.scope_depth;
        self.roots.scope_depth = depth.saturating_sub(1);
        let popped = self.roots.lifo.len().saturating_sub(len);
        if popped > 0 {
            if self.observer.is_some() {
                for index in (len..self.roots.lifo.len()).rev() {
                    let object = self.roots.lifo[index].object;
                    let kind = RootKind::Lifo {
                        index: index as u32,
                    };
                    self.emit(|| GcEvent::RootPop { kind, object });
                }
            }
            self.roots.lifo.truncate(len);
            self.roots.generation += 1;
        }
        self.emit(|| GcEvent::ScopeExit {
            depth,
            popped: popped as u32,
        });
    }

    /// Number of LIFO roots.
    pub fn lifo_len(&self) -> usize {
        self.roots.lifo.len()
    }

    // ---- manual and owned roots --------------------------------------------------------

    pub fn add_manual(&mut self, object: VMGcRef) -> ManualRoot {
        let index = match self.roots.manual_free.pop() {
            Some(i) => i,
            None => {
                self.roots.manual.push(ManualEntry {
                    object: None,
                    generation: 0,
                });
                self.roots.manual.len() as u32 - 1
            }
        };
        let entry = &mut self.roots.manual[index as usize];
        entry.object = Some(object);
        let generation = entry.generation;
        self.emit(|| GcEvent::RootPush {
            kind: RootKind::Manual { index },
            object,
        });
        ManualRoot { index, generation }
    }

    /// The object of a manual root, if it was not unrooted.
    pub fn manual(&self, root: ManualRoot) -> Option<VMGcRef> {
        let e = self.roots.manual.get(root.index as usize)?;
        if e.generation == root.generation {
            e.object
        } else {
            None
        }
    }

    /// Unroots a manual root; returns whether it was rooted.
    pub fn remove_manual(&mut self, root: ManualRoot) -> bool {
        let Some(object) = self.manual(root) else {
            return false;
        };
        let e = &mut self.roots.manual[root.index as usize];
        e.object = None;
        e.generation += 1;
        self.roots.manual_free.push(root.index);
        let index = root.index;
        self.emit(|| GcEvent::RootPop {
            kind: RootKind::Manual { index },
            object,
        });
        true
    }

    /// Number of manual roots not yet unrooted.
    pub fn manual_count(&self) -> usize {
        self.roots
            .manual
            .iter()
            .filter(|e| e.object.is_some())
            .count()
    }

    /// Adds an owned root alive while `token` has strong references.
    pub fn add_owned(&mut self, token: &Arc<()>, object: VMGcRef) {
        self.roots.owned.push((Arc::downgrade(token), object));
        self.emit(|| GcEvent::RootPush {
            kind: RootKind::Owned,
            object,
        });
    }

    // ---- collection --------------------------------------------------------------------

    /// The host-side roots with their kinds.
    pub fn host_roots(&self) -> Vec<(VMGcRef, RootKind)> {
        let mut out = Vec::new();
        for (i, e) in self.roots.lifo.iter().enumerate() {
            out.push((e.object, RootKind::Lifo { index: i as u32 }));
        }
        for (i, e) in self.roots.manual.iter().enumerate() {
            if let Some(o) = e.object {
                out.push((o, RootKind::Manual { index: i as u32 }));
            }
        }
        for (token, o) in &self.roots.owned {
            if token.strong_count() > 0 {
                out.push((*o, RootKind::Owned));
            }
        }
        out
    }

    /// Marks from the host roots and `extra` roots (globals, tables, wasm frames), then
    /// frees every unmarked object. Returns the number freed.
    pub fn collect(&mut self, extra: impl IntoIterator<Item = (VMGcRef, RootKind)>) -> usize {
        self.collections += 1;
        let live = self.heap.live;
        self.emit(|| GcEvent::CollectStart { live });
        // Owned roots whose handles are gone stop being roots now.
        self.roots.owned.retain(|(t, o)| {
            let alive = t.strong_count() > 0;
            if !alive && let Some(obs) = &mut self.observer {
                obs(&GcEvent::RootPop {
                    kind: RootKind::Owned,
                    object: *o,
                });
            }
            alive
        });
        let host = self.host_roots();
        let mut work: Vec<(VMGcRef, RootKind)> = host.into_iter().chain(extra).collect();
        // Roots in order, then the objects reached through edges (breadth first).
        let mut next = 0;
        while let Some((object, via)) = work.get(next).cloned() {
            next += 1;
            let Some(slot) = self.heap.slots.get_mut(object.slot()) else {
                continue;
            };
            if slot.data.is_none() || slot.marked {
                continue;
            }
            slot.marked = true;
            work.extend(
                slot.edges
                    .iter()
                    .map(|&e| (e, RootKind::Edge { from: object })),
            );
            self.emit(|| GcEvent::Mark { object, via });
        }
        let mut freed = 0;
        for i in 0..self.heap.slots.len() {
            let slot = &mut self.heap.slots[i];
            if slot.marked {
                slot.marked = false;
            } else if let Some(data) = slot.data.take() {
                slot.edges = Box::new([]);
                self.heap.free.push(i as u32);
                self.heap.live -= 1;
                freed += 1;
                // The host's `Drop` runs here, exactly once.
                drop(data);
                let object = VMGcRef(NonZeroU32::new(i as u32 + 1).expect("non-zero"));
                self.emit(|| GcEvent::Free { object });
            }
        }
        let live = self.heap.live;
        self.emit(|| GcEvent::CollectEnd { freed, live });
        freed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct DropCounter(Arc<AtomicUsize>);
    impl Drop for DropCounter {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn alloc_limit_returns_value() {
        let mut gc = Gc::new(1);
        gc.alloc(Box::new(1u32)).unwrap();
        let back = gc.alloc(Box::new(3u64)).unwrap_err();
        assert_eq!(back.downcast_ref::<u64>(), Some(&3));
    }

    #[test]
    fn lifo_scopes_and_generations() {
        let mut gc = Gc::default();
        let a = gc.alloc(Box::new(1u8)).unwrap();
        let outer = gc.push_lifo(a);
        let len = gc.enter_scope();
        let inner = gc.push_lifo(a);
        assert_eq!(gc.lifo(inner), Some(a));
        gc.exit_scope(len);
        assert_eq!(gc.lifo(inner), None, "use after scope is detected");
        // A new root at the same index has a new generation.
        let again = gc.push_lifo(a);
        assert_eq!(again.index, inner.index);
        assert_eq!(gc.lifo(inner), None);
        assert_eq!(gc.lifo(again), Some(a));
        assert_eq!(gc.lifo(outer), Some(a));
    }

    #[test]
    fn sweep_drops_unreachable_exactly_once() {
        let drops = Arc::new(AtomicUsize::new(0));
        let mut gc = Gc::default();
        let kept = gc.alloc(Box::new(DropCounter(drops.clone()))).unwrap();
        let _gone = gc.alloc(Box::new(DropCounter(drops.clone()))).unwrap();
        let m = gc.add_manual(kept);
        assert_eq!(gc.collect([]), 1);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert_eq!(gc.collect([]), 0);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert!(gc.remove_manual(m));
        assert!(!gc.remove_manual(m), "double unroot is refused");
        assert_eq!(gc.manual(m), None);
        assert_eq!(gc.collect([]), 1);
        assert_eq!(drops.load(Ordering::SeqCst), 2);
        assert_eq!(gc.heap.live(), 0);
    }

    #[test]
    fn extra_roots_and_owned_roots() {
        let mut gc = Gc::default();
        let a = gc.alloc(Box::new(1u8)).unwrap();
        let b = gc.alloc(Box::new(2u8)).unwrap();
        let token = Arc::new(());
        gc.add_owned(&token, b);
        assert_eq!(gc.collect([(a, RootKind::Global { global: 0 })]), 0);
        drop(token);
        assert_eq!(gc.collect([(a, RootKind::Global { global: 0 })]), 1);
        assert!(gc.heap.contains(a));
        assert!(!gc.heap.contains(b));
    }

    #[test]
    fn events_are_reported() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        let mut gc = Gc::default();
        gc.set_observer(Some(Box::new(move |e: &GcEvent| {
            sink.lock().unwrap().push(e.name())
        })));
        let a = gc.alloc(Box::new(1u8)).unwrap();
        let len = gc.enter_scope();
        gc.push_lifo(a);
        gc.exit_scope(len);
        gc.collect([]);
        assert_eq!(
            *log.lock().unwrap(),
            [
                "alloc",
                "scope-enter",
                "root-push",
                "root-pop",
                "scope-exit",
                "gc-start",
                "free",
                "gc-end"
            ]
        );
    }
}
