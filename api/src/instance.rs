//! `Instance`: an instantiated module.

use crate::externals::{Extern, Global, Memory, Table};
use crate::func::{Func, TypedFunc, WasmParams, WasmResults};
use crate::module::Module;
use crate::store::AsContextMut;
use anyhow::{Result, anyhow, bail};

/// An instance of a module in a store.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    store_id: u64,
    index: u32,
}

/// A named export of an instance.
#[derive(Clone, Debug)]
pub struct Export {
    name: String,
    ext: Extern,
}

impl Export {
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn into_extern(self) -> Extern {
        self.ext
    }
    pub fn into_func(self) -> Option<Func> {
        self.ext.into_func()
    }
    pub fn into_memory(self) -> Option<Memory> {
        self.ext.into_memory()
    }
}

impl Instance {
    /// Instantiates `module` with `imports` given in the module's import order.
    pub fn new(
        mut store: impl AsContextMut,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance> {
        let ctx = store.as_context_mut();
        if !std::sync::Arc::ptr_eq(&ctx.inner.engine, &module.engine.inner) {
            bail!("module and store belong to different engines");
        }
        let addrs = imports
            .iter()
            .map(|e| e.to_addr(ctx.inner))
            .collect::<Result<Vec<_>>>()?;
        let index = ctx.inner.instantiate(ctx.data, &module.inner, &addrs)?;
        Ok(Instance {
            store_id: ctx.inner.id(),
            index,
        })
    }

    fn check(&self, id: u64) -> Result<()> {
        if id != self.store_id {
            bail!("instance used with the wrong store");
        }
        Ok(())
    }

    pub fn get_export(&self, mut store: impl AsContextMut, name: &str) -> Option<Extern> {
        let ctx = store.as_context_mut();
        self.check(ctx.inner.id()).ok()?;
        let addr = ctx.inner.instance_export(self.index, name)?;
        Some(Extern::from_addr(self.store_id, addr))
    }

    pub fn get_func(&self, store: impl AsContextMut, name: &str) -> Option<Func> {
        self.get_export(store, name)?.into_func()
    }

    pub fn get_typed_func<P: WasmParams, R: WasmResults>(
        &self,
        mut store: impl AsContextMut,
        name: &str,
    ) -> Result<TypedFunc<P, R>> {
        let f = self
            .get_func(&mut store, name)
            .ok_or_else(|| anyhow!("failed to find function export `{name}`"))?;
        f.typed(&store)
    }

    pub fn get_memory(&self, store: impl AsContextMut, name: &str) -> Option<Memory> {
        self.get_export(store, name)?.into_memory()
    }

    pub fn get_table(&self, store: impl AsContextMut, name: &str) -> Option<Table> {
        self.get_export(store, name)?.into_table()
    }

    pub fn get_global(&self, store: impl AsContextMut, name: &str) -> Option<Global> {
        self.get_export(store, name)?.into_global()
    }

    pub fn get_tag(&self, store: impl AsContextMut, name: &str) -> Option<crate::Tag> {
        self.get_export(store, name)?.into_tag()
    }

    /// All exports, in the module's order.
    pub fn exports(&self, mut store: impl AsContextMut) -> Vec<Export> {
        let ctx = store.as_context_mut();
        if self.check(ctx.inner.id()).is_err() {
            return Vec::new();
        }
        let module = ctx.inner.instances[self.index as usize].module.clone();
        module
            .exports
            .iter()
            .filter_map(|e| {
                let addr = ctx.inner.instance_export(self.index, &e.name)?;
                Some(Export {
                    name: e.name.clone(),
                    ext: Extern::from_addr(self.store_id, addr),
                })
            })
            .collect()
    }
}
