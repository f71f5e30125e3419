//! wasmi 2.x: `CompilationMode::LazyTranslation` (its default: validate eagerly,
//! translate on first call) or `CompilationMode::Eager`.

use super::{Compiled, Engine, HostObject, Instantiated, Runtime};
use crate::workload::Signature;
use anyhow::{Result, bail};

/// wasmi with its default `Config`, or with eager compilation.
pub struct Wasmi {
    pub eager: bool,
}

impl Runtime for Wasmi {
    fn name(&self) -> &'static str {
        if self.eager { "wasmi-eager" } else { "wasmi" }
    }

    fn engine(&self) -> Result<Box<dyn Engine>> {
        let mut config = wasmi::Config::default();
        if self.eager {
            config.compilation_mode(wasmi::CompilationMode::Eager);
        }
        Ok(Box::new(wasmi::Engine::new(&config)))
    }
}

struct WasmiModule {
    engine: wasmi::Engine,
    module: wasmi::Module,
}

enum WasmiFunc {
    Unbound,
    I32(wasmi::TypedFunc<i32, i64>),
    ExternRefI32(
        wasmi::TypedFunc<(wasmi::Nullable<wasmi::ExternRef>, i32), i64>,
        wasmi::ExternRef,
    ),
}

struct WasmiInstance {
    store: wasmi::Store<()>,
    instance: wasmi::Instance,
    func: WasmiFunc,
}

impl Engine for wasmi::Engine {
    fn compile(&self, wasm: &[u8]) -> Result<Box<dyn Compiled>> {
        let module = wasmi::Module::new(self, wasm)?;
        Ok(Box::new(WasmiModule {
            engine: self.clone(),
            module,
        }))
    }
}

impl Compiled for WasmiModule {
    fn instantiate(&self) -> Result<Box<dyn Instantiated>> {
        let mut store = wasmi::Store::new(&self.engine, ());
        let instance = wasmi::Instance::new(&mut store, &self.module, &[])?;
        Ok(Box::new(WasmiInstance {
            store,
            instance,
            func: WasmiFunc::Unbound,
        }))
    }
}

impl Instantiated for WasmiInstance {
    fn bind(&mut self, export: &str, signature: Signature) -> Result<()> {
        let store = &mut self.store;
        self.func = match signature {
            Signature::I32 => WasmiFunc::I32(self.instance.get_typed_func(&*store, export)?),
            Signature::ExternRefI32 => {
                let func = self.instance.get_typed_func(&*store, export)?;
                let host = wasmi::ExternRef::new(&mut *store, HostObject(0x6c6f_616d));
                WasmiFunc::ExternRefI32(func, host)
            }
        };
        Ok(())
    }

    fn call(&mut self, n: i32) -> Result<i64> {
        Ok(match &self.func {
            WasmiFunc::Unbound => bail!("call before bind"),
            WasmiFunc::I32(f) => f.call(&mut self.store, n)?,
            WasmiFunc::ExternRefI32(f, host) => {
                f.call(&mut self.store, (wasmi::Nullable::Val(*host), n))?
            }
        })
    }
}
