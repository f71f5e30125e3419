//! Memories, tables, globals, and `Extern`.

use crate::func::Func;
use crate::store::{AsContext, AsContextMut};
use crate::values::Val;
use anyhow::{Result, bail};
use gloam_interp::{ExternAddr, GlobalType, MemoryType, StoreInner, TableType, WASM_PAGE_SIZE};

macro_rules! handle {
    ($name:ident, $what:literal) => {
        #[doc = concat!("A ", $what, " of a store.")]
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
        pub struct $name {
            store_id: u64,
            addr: u32,
        }

        impl $name {
            fn addr(&self, store: &StoreInner) -> Result<usize> {
                if self.store_id != store.id() {
                    bail!(concat!($what, " used with the wrong store"));
                }
                Ok(self.addr as usize)
            }

            /// Like `addr`, for accessors that cannot return an error (as in wasmtime,
            /// using a handle with another store is a programming error).
            fn addr_or_panic(&self, store: &StoreInner) -> usize {
                match self.addr(store) {
                    Ok(a) => a,
                    Err(e) => panic!("{e}"),
                }
            }
        }
    };
}
handle!(Memory, "memory");
handle!(Table, "table");
handle!(Global, "global");

/// Error of an out-of-bounds [`Memory::read`] or [`Memory::write`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MemoryAccessError;

impl std::fmt::Display for MemoryAccessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("out of bounds memory access")
    }
}
impl std::error::Error for MemoryAccessError {}

impl Memory {
    pub fn new(mut store: impl AsContextMut, ty: MemoryType) -> Result<Memory> {
        let ctx = store.as_context_mut();
        let addr = ctx.inner.new_memory(ctx.data, ty)?;
        Ok(Memory {
            store_id: ctx.inner.id(),
            addr,
        })
    }

    pub fn ty(&self, store: impl AsContext) -> MemoryType {
        let ctx = store.as_context();
        ctx.inner.memories[self.addr_or_panic(ctx.inner)].ty
    }

    /// The memory's bytes.
    pub fn data<'a, T: 'static>(&self, store: impl Into<crate::StoreContext<'a, T>>) -> &'a [u8] {
        let ctx = store.into();
        &ctx.inner.memories[self.addr_or_panic(ctx.inner)].data
    }

    /// The memory's bytes, writable.
    pub fn data_mut<'a, T: 'static>(
        &self,
        store: impl Into<crate::StoreContextMut<'a, T>>,
    ) -> &'a mut [u8] {
        let ctx = store.into();
        let addr = self.addr_or_panic(ctx.inner);
        &mut ctx.inner.memories[addr].data
    }

    /// Size in bytes.
    pub fn data_size(&self, store: impl AsContext) -> usize {
        let ctx = store.as_context();
        ctx.inner.memories[self.addr_or_panic(ctx.inner)].data.len()
    }

    /// Size in pages.
    pub fn size(&self, store: impl AsContext) -> u64 {
        let ctx = store.as_context();
        ctx.inner.memories[self.addr_or_panic(ctx.inner)].pages()
    }

    pub fn read(
        &self,
        store: impl AsContext,
        offset: usize,
        buf: &mut [u8],
    ) -> Result<(), MemoryAccessError> {
        let ctx = store.as_context();
        let data = &ctx.inner.memories[self.addr_or_panic(ctx.inner)].data;
        let end = offset
            .checked_add(buf.len())
            .filter(|&e| e <= data.len())
            .ok_or(MemoryAccessError)?;
        buf.copy_from_slice(&data[offset..end]);
        Ok(())
    }

    pub fn write(
        &self,
        mut store: impl AsContextMut,
        offset: usize,
        buf: &[u8],
    ) -> Result<(), MemoryAccessError> {
        let ctx = store.as_context_mut();
        let addr = self.addr_or_panic(ctx.inner);
        let data = &mut ctx.inner.memories[addr].data;
        let end = offset
            .checked_add(buf.len())
            .filter(|&e| e <= data.len())
            .ok_or(MemoryAccessError)?;
        data[offset..end].copy_from_slice(buf);
        Ok(())
    }

    /// Grows by `delta` pages; returns the previous size in pages.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64) -> Result<u64> {
        let ctx = store.as_context_mut();
        let addr = self.addr(ctx.inner)?;
        match ctx.inner.grow_memory(ctx.data, addr as u32, delta)? {
            Some(old) => Ok(old),
            None => bail!(
                "failed to grow memory by {delta} pages ({} bytes each)",
                WASM_PAGE_SIZE
            ),
        }
    }
}

impl Table {
    pub fn new(mut store: impl AsContextMut, ty: TableType, init: Val) -> Result<Table> {
        let ctx = store.as_context_mut();
        init.check_ty(ctx.inner, ty.element, "table initializer")?;
        let cell = init.to_cell(ctx.inner)?;
        let addr = ctx.inner.new_table(ctx.data, ty, cell)?;
        Ok(Table {
            store_id: ctx.inner.id(),
            addr,
        })
    }

    pub fn ty(&self, store: impl AsContext) -> TableType {
        let ctx = store.as_context();
        ctx.inner.tables[self.addr_or_panic(ctx.inner)].ty
    }

    pub fn size(&self, store: impl AsContext) -> u64 {
        let ctx = store.as_context();
        ctx.inner.tables[self.addr_or_panic(ctx.inner)]
            .elements
            .len() as u64
    }

    /// The element at `index`, or `None` when out of bounds.
    pub fn get(&self, mut store: impl AsContextMut, index: u64) -> Option<Val> {
        let ctx = store.as_context_mut();
        let t = &ctx.inner.tables[self.addr(ctx.inner).ok()?];
        let cell = *t.elements.get(usize::try_from(index).ok()?)?;
        Some(Val::from_cell(cell, t.ty.element, ctx.inner))
    }

    pub fn set(&self, mut store: impl AsContextMut, index: u64, val: Val) -> Result<()> {
        let ctx = store.as_context_mut();
        let addr = self.addr(ctx.inner)?;
        let ty = ctx.inner.tables[addr].ty.element;
        val.check_ty(ctx.inner, ty, "table element")?;
        let cell = val.to_cell(ctx.inner)?;
        let slot = usize::try_from(index)
            .ok()
            .and_then(|i| ctx.inner.tables[addr].elements.get_mut(i));
        match slot {
            Some(s) => *s = cell,
            None => bail!("table index {index} out of bounds"),
        }
        Ok(())
    }

    /// Grows by `delta` elements set to `init`; returns the previous size.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64, init: Val) -> Result<u64> {
        let ctx = store.as_context_mut();
        let addr = self.addr(ctx.inner)?;
        let ty = ctx.inner.tables[addr].ty.element;
        init.check_ty(ctx.inner, ty, "table initializer")?;
        let cell = init.to_cell(ctx.inner)?;
        match ctx.inner.grow_table(ctx.data, addr as u32, delta, cell)? {
            Some(old) => Ok(old),
            None => bail!("failed to grow table by {delta}"),
        }
    }
}

impl Global {
    pub fn new(mut store: impl AsContextMut, ty: GlobalType, val: Val) -> Result<Global> {
        let ctx = store.as_context_mut();
        val.check_ty(ctx.inner, ty.content, "global initializer")?;
        let mut cells = [0; 2];
        val.to_cells(ctx.inner, &mut cells)?;
        let addr = ctx.inner.add_global_cells(ty, cells);
        Ok(Global {
            store_id: ctx.inner.id(),
            addr,
        })
    }

    pub fn ty(&self, store: impl AsContext) -> GlobalType {
        let ctx = store.as_context();
        ctx.inner.globals[self.addr_or_panic(ctx.inner)].ty
    }

    pub fn get(&self, mut store: impl AsContextMut) -> Val {
        let ctx = store.as_context_mut();
        let g = &ctx.inner.globals[self.addr_or_panic(ctx.inner)];
        let (cells, ty) = ([g.value, g.hi], g.ty.content);
        Val::from_cells(&cells, ty, ctx.inner)
    }

    pub fn set(&self, mut store: impl AsContextMut, val: Val) -> Result<()> {
        let ctx = store.as_context_mut();
        let addr = self.addr(ctx.inner)?;
        let ty = ctx.inner.globals[addr].ty;
        if !ty.mutable {
            bail!("immutable global cannot be set");
        }
        val.check_ty(ctx.inner, ty.content, "global value")?;
        let mut cells = [0; 2];
        val.to_cells(ctx.inner, &mut cells)?;
        let g = &mut ctx.inner.globals[addr];
        [g.value, g.hi] = cells;
        Ok(())
    }
}

/// Any external value: what imports and exports are.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Extern {
    Func(Func),
    Table(Table),
    Memory(Memory),
    Global(Global),
    Tag(crate::Tag),
}

impl Extern {
    pub(crate) fn from_addr(store_id: u64, addr: ExternAddr) -> Extern {
        match addr {
            ExternAddr::Func(a) => Extern::Func(Func::from_addr(store_id, a)),
            ExternAddr::Table(addr) => Extern::Table(Table { store_id, addr }),
            ExternAddr::Memory(addr) => Extern::Memory(Memory { store_id, addr }),
            ExternAddr::Global(addr) => Extern::Global(Global { store_id, addr }),
            ExternAddr::Tag(addr) => Extern::Tag(crate::Tag::from_addr(store_id, addr)),
        }
    }

    pub(crate) fn to_addr(self, store: &StoreInner) -> Result<ExternAddr> {
        Ok(match self {
            Extern::Func(f) => ExternAddr::Func(f.addr(store)?),
            Extern::Table(t) => ExternAddr::Table(t.addr(store)? as u32),
            Extern::Memory(m) => ExternAddr::Memory(m.addr(store)? as u32),
            Extern::Global(g) => ExternAddr::Global(g.addr(store)? as u32),
            Extern::Tag(t) => ExternAddr::Tag(t.addr(store)?),
        })
    }

    pub fn into_func(self) -> Option<Func> {
        if let Extern::Func(f) = self {
            Some(f)
        } else {
            None
        }
    }
    pub fn into_table(self) -> Option<Table> {
        if let Extern::Table(t) = self {
            Some(t)
        } else {
            None
        }
    }
    pub fn into_memory(self) -> Option<Memory> {
        if let Extern::Memory(m) = self {
            Some(m)
        } else {
            None
        }
    }
    pub fn into_global(self) -> Option<Global> {
        if let Extern::Global(g) = self {
            Some(g)
        } else {
            None
        }
    }
}

impl Extern {
    pub fn into_tag(self) -> Option<crate::Tag> {
        if let Extern::Tag(t) = self {
            Some(t)
        } else {
            None
        }
    }
}

impl From<crate::Tag> for Extern {
    fn from(t: crate::Tag) -> Extern {
        Extern::Tag(t)
    }
}

impl From<Func> for Extern {
    fn from(f: Func) -> Extern {
        Extern::Func(f)
    }
}
impl From<Table> for Extern {
    fn from(t: Table) -> Extern {
        Extern::Table(t)
    }
}
impl From<Memory> for Extern {
    fn from(m: Memory) -> Extern {
        Extern::Memory(m)
    }
}
impl From<Global> for Extern {
    fn from(g: Global) -> Extern {
        Extern::Global(g)
    }
}
