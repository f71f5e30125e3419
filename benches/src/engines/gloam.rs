//! gloam's interpreter, translating lazily (the default `Config`) or eagerly.

use super::{Compiled, Engine, HostObject, Instantiated, Runtime};
use crate::workload::Signature;
use anyhow::{Result, bail};

/// gloam's interpreter; `eager` sets `Config::eager_translation`.
pub struct Gloam {
    pub eager: bool,
}

impl Runtime for Gloam {
    fn name(&self) -> &'static str {
        if self.eager {
            "gloam-interp-eager"
        } else {
            "gloam-interp"
        }
    }

    fn engine(&self) -> Result<Box<dyn Engine>> {
        let mut config = gloam::Config::new();
        config.eager_translation(self.eager);
        Ok(Box::new(gloam::Engine::new(&config)?))
    }
}

struct GloamModule {
    engine: gloam::Engine,
    module: gloam::Module,
}

enum GloamFunc {
    Unbound,
    I32(gloam::TypedFunc<i32, i64>),
    ExternRefI32(
        gloam::TypedFunc<(gloam::Rooted<gloam::ExternRef>, i32), i64>,
        gloam::Rooted<gloam::ExternRef>,
    ),
}

struct GloamInstance {
    store: gloam::Store<()>,
    instance: gloam::Instance,
    func: GloamFunc,
}

impl Engine for gloam::Engine {
    fn compile(&self, wasm: &[u8]) -> Result<Box<dyn Compiled>> {
        let module = gloam::Module::new(self, wasm)?;
        Ok(Box::new(GloamModule {
            engine: self.clone(),
            module,
        }))
    }
}

impl Compiled for GloamModule {
    fn instantiate(&self) -> Result<Box<dyn Instantiated>> {
        let mut store = gloam::Store::new(&self.engine, ());
        let instance = gloam::Instance::new(&mut store, &self.module, &[])?;
        Ok(Box::new(GloamInstance {
            store,
            instance,
            func: GloamFunc::Unbound,
        }))
    }
}

impl Instantiated for GloamInstance {
    fn bind(&mut self, export: &str, signature: Signature) -> Result<()> {
        let store = &mut self.store;
        self.func = match signature {
            Signature::I32 => GloamFunc::I32(self.instance.get_typed_func(&mut *store, export)?),
            Signature::ExternRefI32 => {
                let func = self.instance.get_typed_func(&mut *store, export)?;
                let host = gloam::ExternRef::new(&mut *store, HostObject(0x6c6f_616d))?;
                GloamFunc::ExternRefI32(func, host)
            }
        };
        Ok(())
    }

    fn call(&mut self, n: i32) -> Result<i64> {
        match &self.func {
            GloamFunc::Unbound => bail!("call before bind"),
            GloamFunc::I32(f) => f.call(&mut self.store, n),
            GloamFunc::ExternRefI32(f, host) => f.call(&mut self.store, (*host, n)),
        }
    }
}
