//! `Linker<T>`: resolves imports by name.

use crate::engine::Engine;
use crate::externals::Extern;
use crate::func::{IntoFunc, TypedHost, erase};
use crate::instance::Instance;
use crate::module::Module;
use crate::store::{AsContext, AsContextMut, Caller};
use crate::values::Val;
use anyhow::{Result, anyhow, bail};
use gloam_interp::FuncType;
use std::collections::HashMap;

enum Definition<T> {
    Extern(Extern),
    /// A host function not yet placed in a store; each store gets its own copy.
    Host(FuncType, TypedHost<T>),
}

impl<T> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Extern(e) => Definition::Extern(*e),
            Definition::Host(t, f) => Definition::Host(t.clone(), f.clone()),
        }
    }
}

/// Named definitions used to satisfy module imports.
pub struct Linker<T: 'static> {
    engine: Engine,
    defs: HashMap<(String, String), Definition<T>>,
    allow_shadowing: bool,
}

impl<T: 'static> Linker<T> {
    pub fn new(engine: &Engine) -> Linker<T> {
        Linker {
            engine: engine.clone(),
            defs: HashMap::new(),
            allow_shadowing: false,
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether a later definition may replace an earlier one of the same name.
    pub fn allow_shadowing(&mut self, allow: bool) -> &mut Self {
        self.allow_shadowing = allow;
        self
    }

    fn insert(&mut self, module: &str, name: &str, def: Definition<T>) -> Result<()> {
        let key = (module.to_string(), name.to_string());
        if !self.allow_shadowing && self.defs.contains_key(&key) {
            bail!("import of `{module}::{name}` defined twice");
        }
        self.defs.insert(key, def);
        Ok(())
    }

    /// Defines a host function from a closure.
    pub fn func_wrap<Params, Args>(
        &mut self,
        module: &str,
        name: &str,
        func: impl IntoFunc<T, Params, Args>,
    ) -> Result<&mut Self> {
        let (ty, host) = func.into_host();
        self.insert(module, name, Definition::Host(ty, host))?;
        Ok(self)
    }

    /// Defines a host function with a dynamic signature.
    pub fn func_new(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<&mut Self> {
        let host = crate::func::dynamic_host(ty.clone(), func);
        self.insert(module, name, Definition::Host(ty, host))?;
        Ok(self)
    }

    /// Defines an item of a store.
    pub fn define(
        &mut self,
        store: impl AsContext<Data = T>,
        module: &str,
        name: &str,
        item: impl Into<Extern>,
    ) -> Result<&mut Self> {
        let item = item.into();
        item.to_addr(store.as_context().inner)?;
        self.insert(module, name, Definition::Extern(item))?;
        Ok(self)
    }

    /// Defines every export of `instance` under `module`.
    pub fn instance(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        instance: Instance,
    ) -> Result<&mut Self> {
        for export in instance.exports(&mut store) {
            let name = export.name().to_string();
            self.insert(module, &name, Definition::Extern(export.into_extern()))?;
        }
        Ok(self)
    }

    /// Looks up a definition, placing host functions in `store`.
    pub fn get(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        name: &str,
    ) -> Option<Extern> {
        let def = self.defs.get(&(module.to_string(), name.to_string()))?;
        Some(self.materialize(&mut store, def))
    }

    fn materialize(&self, store: &mut impl AsContextMut<Data = T>, def: &Definition<T>) -> Extern {
        match def {
            Definition::Extern(e) => *e,
            Definition::Host(ty, host) => {
                let ctx = store.as_context_mut();
                let addr = ctx.inner.add_host_func(ty.clone(), erase(host.clone()));
                Extern::from_addr(ctx.inner.id(), gloam_interp::ExternAddr::Func(addr))
            }
        }
    }

    /// Instantiates `module`, resolving its imports by name.
    pub fn instantiate(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &Module,
    ) -> Result<Instance> {
        let mut imports = Vec::with_capacity(module.inner.imports.len());
        for import in module.imports() {
            let def = self
                .defs
                .get(&(import.module().to_string(), import.name().to_string()))
                .ok_or_else(|| {
                    anyhow!(
                        "unknown import: `{}::{}` has not been defined",
                        import.module(),
                        import.name()
                    )
                })?;
            imports.push(self.materialize(&mut store, def));
        }
        Instance::new(store, module, &imports)
    }
}
