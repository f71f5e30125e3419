//! Runtime objects of one store: functions, instances, memories, tables, globals, the
//! externref heap and the value stack.
//!
//! Everything is addressed by a `u32` index into the store's vectors; instances map their
//! own index spaces onto these addresses. Nothing here knows the embedder's data type:
//! host functions receive it as `&mut dyn Any`.

use crate::engine::EngineCore;
use crate::exec::Frame;
use crate::module::{ExportKind, ImportKind, Module, SegmentMode};
use crate::prelude::*;
use crate::trap::Trap;
use crate::types::{FuncType, GlobalType, MemoryType, TableType, WASM_PAGE_SIZE};
use alloc::sync::Arc;
use anyhow::{Result, anyhow, bail};
use core::any::Any;
use core::sync::atomic::Ordering;
use gloam_gc::{Gc, RootKind, VMGcRef};

/// A host function as the core sees it. `cells` holds the arguments on entry and receives
/// the results (its length is the larger of the two counts, in cells).
pub type HostFunc =
    Arc<dyn Fn(&mut StoreInner, &mut dyn Any, &mut [u64]) -> Result<()> + Send + Sync>;

pub enum FuncEntity {
    Wasm {
        instance: u32,
        index: u32,
        type_id: u32,
    },
    Host {
        type_id: u32,
        ty: FuncType,
        func: HostFunc,
    },
}

impl FuncEntity {
    pub fn type_id(&self) -> u32 {
        match self {
            FuncEntity::Wasm { type_id, .. } | FuncEntity::Host { type_id, .. } => *type_id,
        }
    }
}

pub struct MemoryInst {
    pub data: Vec<u8>,
    pub ty: MemoryType,
}

impl MemoryInst {
    /// Largest number of pages a memory may have: 4 GiB, also for a 64-bit memory (the
    /// executor's accesses index with 32 bits: see the `addr64` row), and what the host's
    /// address space allows.
    fn page_limit(&self) -> u64 {
        let arch = (usize::MAX as u64 / WASM_PAGE_SIZE).min(65536);
        self.ty.max.unwrap_or(65536).min(arch)
    }

    pub fn pages(&self) -> u64 {
        self.data.len() as u64 / WASM_PAGE_SIZE
    }

    /// Grows by `delta` pages; returns the old size in pages, or `None` on failure.
    pub fn grow(&mut self, delta: u64) -> Option<u64> {
        let old = self.pages();
        let new = old.checked_add(delta)?;
        if new > self.page_limit() {
            return None;
        }
        let bytes = usize::try_from(new * WASM_PAGE_SIZE).ok()?;
        let extra = bytes - self.data.len();
        if extra > LAZY_ZERO_BYTES {
            // A big growth takes a fresh zeroed allocation: the allocator gets untouched
            // zero pages from the OS, so a huge `memory.grow` or minimum costs address
            // space, not resident memory, until the program writes to it.
            let mut grown = zeroed_bytes(bytes)?;
            grown[..self.data.len()].copy_from_slice(&self.data);
            self.data = grown;
        } else {
            self.data.try_reserve_exact(extra).ok()?;
            self.data.resize(bytes, 0);
        }
        Some(old)
    }
}

/// Growths larger than this allocate zeroed memory instead of writing the zeros.
const LAZY_ZERO_BYTES: usize = 16 << 20;

/// `len` zero bytes from the allocator's zeroed allocation, or `None` when it fails.
fn zeroed_bytes(len: usize) -> Option<Vec<u8>> {
    let layout = core::alloc::Layout::array::<u8>(len).ok()?;
    if layout.size() == 0 {
        return Some(Vec::new());
    }
    // SAFETY: the layout has a non-zero size.
    let ptr = unsafe { alloc::alloc::alloc_zeroed(layout) };
    if ptr.is_null() {
        return None;
    }
    // SAFETY: `ptr` comes from the global allocator with `layout` (size `len`, align 1,
    // which is `Vec<u8>`'s layout for capacity `len`), and all `len` bytes are
    // initialized (zeroed).
    Some(unsafe { Vec::from_raw_parts(ptr, len, len) })
}

pub struct TableInst {
    pub elements: Vec<u64>,
    pub ty: TableType,
}

/// Most elements a table may have, whatever its declared maximum.
pub const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

impl TableInst {
    /// Grows by `delta` elements set to `init`; returns the old size, or `None`.
    pub fn grow(&mut self, delta: u64, init: u64) -> Option<u64> {
        let old = self.elements.len() as u64;
        let new = old.checked_add(delta)?;
        if new
            > self
                .ty
                .max
                .unwrap_or(u32::MAX as u64)
                .min(MAX_TABLE_ELEMENTS)
        {
            return None;
        }
        self.elements.try_reserve_exact(delta as usize).ok()?;
        self.elements.resize(new as usize, init);
        Some(old)
    }
}

pub struct GlobalInst {
    pub ty: GlobalType,
    /// The value's cell; for a `v128`, its first cell (bytes 0..8).
    pub value: u64,
    /// The second cell of a `v128` (bytes 8..16); 0 for every other type.
    pub hi: u64,
}

/// A module instantiated in a store.
pub struct InstanceData {
    pub module: Arc<Module>,
    pub funcs: Vec<u32>,
    pub tables: Vec<u32>,
    pub memories: Vec<u32>,
    pub globals: Vec<u32>,
    /// Evaluated element segments; a dropped segment is empty.
    pub elems: Vec<Box<[u64]>>,
    /// Whether each data segment was dropped.
    pub data_dropped: Vec<bool>,
    /// Store addresses of the instance's tags.
    pub tags: Vec<u32>,
}

/// An address of an external value in a store.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ExternAddr {
    Func(u32),
    Table(u32),
    Memory(u32),
    Global(u32),
    Tag(u32),
}

/// The next store id. Targets without 64-bit atomics (e.g. 32-bit Cortex-M) count in 32
/// bits, so ids repeat only after 2^32 stores.
fn next_store_id() -> u64 {
    #[cfg(target_has_atomic = "64")]
    {
        static NEXT: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(1);
        NEXT.fetch_add(1, Ordering::Relaxed)
    }
    #[cfg(not(target_has_atomic = "64"))]
    {
        static NEXT: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(1);
        u64::from(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// The type-erased part of a store.
pub struct StoreInner {
    id: u64,
    pub engine: Arc<EngineCore>,
    pub funcs: Vec<FuncEntity>,
    pub instances: Vec<InstanceData>,
    pub memories: Vec<MemoryInst>,
    pub tables: Vec<TableInst>,
    pub globals: Vec<GlobalInst>,
    pub tags: Vec<crate::exn::TagInst>,
    pub gc: Gc,
    pub(crate) stack: Vec<u64>,
    /// First free cell of `stack`: where the next call from the host puts its frame.
    pub(crate) stack_top: usize,
    pub(crate) frames: Vec<Frame>,
    /// Fuel, epoch deadline and resource limiter (see `limits`).
    pub limits: crate::limits::StoreLimitState,
    /// The exception leaving a call uncaught (see `exn`), a GC root.
    pub(crate) pending_exn: Option<VMGcRef>,
}

impl StoreInner {
    pub fn new(engine: Arc<EngineCore>) -> StoreInner {
        let limit = engine.config.gc_heap_limit;
        StoreInner {
            id: next_store_id(),
            engine,
            funcs: Vec::new(),
            instances: Vec::new(),
            memories: Vec::new(),
            tables: Vec::new(),
            globals: Vec::new(),
            tags: Vec::new(),
            gc: Gc::new(limit),
            stack: Vec::new(),
            stack_top: 0,
            frames: Vec::new(),
            limits: Default::default(),
            pending_exn: None,
        }
    }

    /// A process-unique id; API handles carry it so a handle from another store is caught.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Runs a garbage collection: marks from the host roots, `externref` globals and
    /// tables, and every suspended wasm frame (through their stack maps), then sweeps.
    /// Returns the number of objects freed.
    pub fn collect_garbage(&mut self) -> usize {
        let roots = self.non_host_roots();
        self.gc.collect(roots)
    }

    /// Every root of the heap with its kind, without collecting: host roots, globals,
    /// tables and wasm frames. What `gloam gc-trace --why` reads.
    pub fn gc_roots(&self) -> Vec<(VMGcRef, RootKind)> {
        let mut roots = self.gc.host_roots();
        roots.extend(self.non_host_roots());
        roots
    }

    pub(crate) fn non_host_roots(&self) -> Vec<(VMGcRef, RootKind)> {
        let mut roots: Vec<(VMGcRef, RootKind)> = Vec::new();
        if let Some(r) = self.pending_exn {
            roots.push((r, RootKind::PendingException));
        }
        for (i, g) in self.globals.iter().enumerate() {
            if g.ty.content.is_gc_ref()
                && let Some(r) = VMGcRef::from_raw(g.value as u32)
            {
                roots.push((r, RootKind::Global { global: i as u32 }));
            }
        }
        for (t, table) in self.tables.iter().enumerate() {
            if table.ty.element.is_gc_ref() {
                for (i, e) in table.elements.iter().enumerate() {
                    if let Some(r) = VMGcRef::from_raw(*e as u32) {
                        roots.push((
                            r,
                            RootKind::Table {
                                table: t as u32,
                                index: i as u32,
                            },
                        ));
                    }
                }
            }
        }
        crate::exec::frame_roots(self, &mut roots);
        roots
    }

    /// The instance of the wasm function that called the running host function, if any.
    pub fn caller_instance(&self) -> Option<u32> {
        self.frames.last().map(|f| f.inst())
    }

    pub fn add_host_func(&mut self, ty: FuncType, func: HostFunc) -> u32 {
        let type_id = self.engine.register_type(&ty);
        self.funcs.push(FuncEntity::Host { type_id, ty, func });
        self.funcs.len() as u32 - 1
    }

    /// The type of function `addr`.
    pub fn func_type(&self, addr: u32) -> FuncType {
        match &self.funcs[addr as usize] {
            FuncEntity::Host { ty, .. } => ty.clone(),
            FuncEntity::Wasm {
                instance, index, ..
            } => self.instances[*instance as usize]
                .module
                .func_type(*index)
                .clone(),
        }
    }

    pub fn add_memory(&mut self, ty: MemoryType) -> Result<u32> {
        if ty.shared {
            bail!("shared memories are not supported yet");
        }
        let mut mem = MemoryInst {
            data: Vec::new(),
            ty,
        };
        if mem.grow(ty.min).is_none() {
            bail!("failed to allocate a memory of {} pages", ty.min);
        }
        self.memories.push(mem);
        Ok(self.memories.len() as u32 - 1)
    }

    pub fn add_table(&mut self, ty: TableType, init: u64) -> Result<u32> {
        let mut table = TableInst {
            elements: Vec::new(),
            ty,
        };
        if table.grow(ty.min, init).is_none() {
            bail!("failed to allocate a table of {} elements", ty.min);
        }
        self.tables.push(table);
        Ok(self.tables.len() as u32 - 1)
    }

    pub fn add_global(&mut self, ty: GlobalType, value: u64) -> u32 {
        self.add_global_cells(ty, [value, 0])
    }

    /// Adds a global whose value is given as two cells (see [`GlobalInst::hi`]).
    pub fn add_global_cells(&mut self, ty: GlobalType, [value, hi]: [u64; 2]) -> u32 {
        self.globals.push(GlobalInst { ty, value, hi });
        self.globals.len() as u32 - 1
    }

    /// Exports of instance `inst` by name.
    pub fn instance_export(&self, inst: u32, name: &str) -> Option<ExternAddr> {
        let data = &self.instances[inst as usize];
        let e = data.module.exports.iter().find(|e| e.name == name)?;
        let i = e.index as usize;
        Some(match e.kind {
            ExportKind::Func => ExternAddr::Func(data.funcs[i]),
            ExportKind::Table => ExternAddr::Table(data.tables[i]),
            ExportKind::Memory => ExternAddr::Memory(data.memories[i]),
            ExportKind::Global => ExternAddr::Global(data.globals[i]),
            ExportKind::Tag => ExternAddr::Tag(data.tags[i]),
        })
    }

    /// Checks that `addr` may satisfy `import` of `module`.
    fn check_import(&self, module: &Module, kind: &ImportKind, addr: ExternAddr) -> Result<()> {
        match (kind, addr) {
            (ImportKind::Func(t), ExternAddr::Func(f)) => {
                let want = module.type_ids[*t as usize];
                let have = self.funcs[f as usize].type_id();
                if want != have {
                    bail!(
                        "function types incompatible: expected {}, found {}",
                        module.types[*t as usize],
                        self.func_type(f)
                    );
                }
            }
            (ImportKind::Table(want), ExternAddr::Table(t)) => {
                let have = &self.tables[t as usize];
                let size = have.elements.len() as u64;
                if want.element != have.ty.element
                    || want.table64 != have.ty.table64
                    || !limits_match(size, have.ty.max, want.min, want.max)
                {
                    bail!("table types incompatible");
                }
            }
            (ImportKind::Memory(want), ExternAddr::Memory(m)) => {
                let have = &self.memories[m as usize];
                if want.memory64 != have.ty.memory64
                    || !limits_match(have.pages(), have.ty.max, want.min, want.max)
                {
                    bail!("memory types incompatible");
                }
            }
            (ImportKind::Global(want), ExternAddr::Global(g)) => {
                // Immutable globals are covariant; mutable ones need the same type.
                let have = self.globals[g as usize].ty;
                let ok = have.mutable == want.mutable
                    && if want.mutable {
                        have.content == want.content
                    } else {
                        have.content.matches(want.content)
                    };
                if !ok {
                    bail!("global types incompatible");
                }
            }
            (ImportKind::Tag(t), ExternAddr::Tag(tag)) => {
                if self.tags[tag as usize].type_id != module.type_ids[*t as usize] {
                    bail!("tag types incompatible");
                }
            }
            _ => bail!("import kind mismatch"),
        }
        Ok(())
    }

    /// Instantiates `module` with `imports` (in import order), runs the start function
    /// and returns the instance index. `data` is the embedder's store data, for host
    /// functions the start function may call.
    pub fn instantiate(
        &mut self,
        data: &mut dyn Any,
        module: &Arc<Module>,
        imports: &[ExternAddr],
    ) -> Result<u32> {
        if imports.len() != module.imports.len() {
            bail!(
                "expected {} imports, found {}",
                module.imports.len(),
                imports.len()
            );
        }
        for (import, addr) in module.imports.iter().zip(imports) {
            self.check_import(module, &import.ty, *addr).map_err(|e| {
                anyhow!(
                    "incompatible import type for `{}::{}`: {e}",
                    import.module,
                    import.name
                )
            })?;
        }
        self.check_instance_count(data)?;
        let inst = self.instances.len() as u32;
        let mut data_ = InstanceData {
            module: module.clone(),
            funcs: Vec::with_capacity(module.funcs.len()),
            tables: Vec::new(),
            memories: Vec::new(),
            globals: Vec::new(),
            elems: Vec::new(),
            data_dropped: vec![false; module.datas.len()],
            tags: Vec::new(),
        };
        for addr in imports {
            match *addr {
                ExternAddr::Func(f) => data_.funcs.push(f),
                ExternAddr::Table(t) => data_.tables.push(t),
                ExternAddr::Memory(m) => data_.memories.push(m),
                ExternAddr::Global(g) => data_.globals.push(g),
                ExternAddr::Tag(t) => data_.tags.push(t),
            }
        }
        for &t in &module.tags[module.num_imported_tags as usize..] {
            let tag = self.add_tag_with_id(
                module.types[t as usize].clone(),
                module.type_ids[t as usize],
            );
            data_.tags.push(tag);
        }
        for def in 0..module.num_defined_funcs() {
            let index = module.num_imported_funcs + def;
            let type_id = module.type_ids[module.funcs[index as usize] as usize];
            self.funcs.push(FuncEntity::Wasm {
                instance: inst,
                index,
                type_id,
            });
            data_.funcs.push(self.funcs.len() as u32 - 1);
        }
        // Globals (their initializers may read earlier globals and take function refs).
        for g in &module.globals {
            let cells = {
                let globals = &self.globals;
                let funcs = &data_.funcs;
                let ids = &data_.globals;
                if g.ty.content == crate::ValType::V128 {
                    g.init.eval_v128(&|i| {
                        let g = &globals[ids[i as usize] as usize];
                        [g.value, g.hi]
                    })
                } else {
                    let value = g
                        .init
                        .eval(&|i| globals[ids[i as usize] as usize].value, &|f| {
                            funcs[f as usize] as u64 + 1
                        });
                    [value, 0]
                }
            };
            let addr = self.add_global_cells(g.ty, cells);
            data_.globals.push(addr);
        }
        for t in &module.tables[module.num_imported_tables as usize..] {
            let init = match &t.init {
                Some(e) => self.eval_const(e, &data_),
                None => 0,
            };
            let addr = self.new_table(data, t.ty, init)?;
            data_.tables.push(addr);
        }
        for m in &module.memories[module.num_imported_memories as usize..] {
            let addr = self.new_memory(data, *m)?;
            data_.memories.push(addr);
        }
        data_.elems = module
            .elems
            .iter()
            .map(|seg| {
                seg.items
                    .iter()
                    .map(|e| self.eval_const(e, &data_))
                    .collect()
            })
            .collect();
        self.instances.push(data_);

        // Active element segments, then active data segments, in order. A segment that
        // does not fit traps; writes of earlier segments stay.
        for (i, seg) in module.elems.iter().enumerate() {
            match &seg.mode {
                SegmentMode::Active { index, offset } => {
                    let data = &self.instances[inst as usize];
                    let mut offset = self.eval_const(offset, data);
                    if !self.tables[data.tables[*index as usize] as usize]
                        .ty
                        .table64
                    {
                        offset = offset as u32 as u64;
                    }
                    let n = seg.items.len() as u64;
                    self.table_init(inst, *index, i as u32, offset, 0, n)
                        .map_err(anyhow::Error::new)?;
                    self.instances[inst as usize].elems[i] = Box::new([]);
                }
                SegmentMode::Declared => self.instances[inst as usize].elems[i] = Box::new([]),
                SegmentMode::Passive => {}
            }
        }
        for (i, seg) in module.datas.iter().enumerate() {
            if let SegmentMode::Active { index, offset } = &seg.mode {
                let data = &self.instances[inst as usize];
                let mut offset = self.eval_const(offset, data);
                if !self.memories[data.memories[*index as usize] as usize]
                    .ty
                    .memory64
                {
                    offset = offset as u32 as u64;
                }
                let len = seg.range.len() as u64;
                self.memory_init(inst, *index, i as u32, offset, 0, len)
                    .map_err(anyhow::Error::new)?;
                self.instances[inst as usize].data_dropped[i] = true;
            }
        }
        if let Some(start) = module.start {
            let addr = self.instances[inst as usize].funcs[start as usize];
            crate::exec::invoke(self, data, addr, &mut [])?;
        }
        Ok(inst)
    }

    fn eval_const(&self, e: &crate::module::ConstExpr, inst: &InstanceData) -> u64 {
        e.eval(
            &|g| self.globals[inst.globals[g as usize] as usize].value,
            &|f| inst.funcs[f as usize] as u64 + 1,
        )
    }

    /// `table.init`: copies `len` elements of segment `seg` from `src` to `dst`.
    pub fn table_init(
        &mut self,
        inst: u32,
        table: u32,
        seg: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), Trap> {
        let data = &self.instances[inst as usize];
        let elems = &data.elems[seg as usize];
        let t = &mut self.tables[data.tables[table as usize] as usize];
        let src_end = src.checked_add(len).filter(|&e| e <= elems.len() as u64);
        let dst_end = dst
            .checked_add(len)
            .filter(|&e| e <= t.elements.len() as u64);
        match (src_end, dst_end) {
            (Some(se), Some(de)) => {
                t.elements[dst as usize..de as usize]
                    .copy_from_slice(&elems[src as usize..se as usize]);
                Ok(())
            }
            _ => Err(Trap::TableOutOfBounds),
        }
    }

    /// `memory.init`: copies `len` bytes of data segment `seg` from `src` to `dst`.
    pub fn memory_init(
        &mut self,
        inst: u32,
        memory: u32,
        seg: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), Trap> {
        let data = &self.instances[inst as usize];
        let bytes: &[u8] = if data.data_dropped[seg as usize] {
            &[]
        } else {
            data.module.data_bytes(seg)
        };
        let mem = &mut self.memories[data.memories[memory as usize] as usize];
        let src_end = src.checked_add(len).filter(|&e| e <= bytes.len() as u64);
        let dst_end = dst.checked_add(len).filter(|&e| e <= mem.data.len() as u64);
        match (src_end, dst_end) {
            (Some(se), Some(de)) => {
                mem.data[dst as usize..de as usize]
                    .copy_from_slice(&bytes[src as usize..se as usize]);
                Ok(())
            }
            _ => Err(Trap::MemoryOutOfBounds),
        }
    }
}

impl Drop for StoreInner {
    fn drop(&mut self) {
        // Bare-metal builds have nowhere to print the warning.
        #[cfg(feature = "std")]
        {
            let leaked = self.gc.manual_count();
            if cfg!(debug_assertions) && leaked > 0 {
                std::eprintln!(
                    "gloam: warning: store dropped with {leaked} `ManuallyRooted` value(s) never unrooted"
                );
            }
        }
    }
}

/// Import subtyping of limits: the provided `[size, max]` must lie within `[min, want_max]`.
fn limits_match(size: u64, max: Option<u64>, min: u64, want_max: Option<u64>) -> bool {
    if size < min {
        return false;
    }
    match (want_max, max) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(w), Some(m)) => m <= w,
    }
}
