//! wasmtime 48 (feature `peers-wasmtime`) with the Cranelift or the Winch compiler.
//!
//! Compilation is eager and, without wasmtime's `parallel-compilation` feature, on one
//! thread like the other engines. Linear memories and compiled code are `mmap`ed, not
//! taken from the global allocator, so the harness's peak-heap column does not see them.

use super::{Compiled, Engine, HostObject, Instantiated, Runtime};
use crate::workload::Signature;
use anyhow::{Result, bail};

/// Which wasmtime compiler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WasmtimeStrategy {
    Cranelift,
    Winch,
}

/// wasmtime's default `Config` with the given compiler.
pub struct Wasmtime {
    pub strategy: WasmtimeStrategy,
}

impl Runtime for Wasmtime {
    fn name(&self) -> &'static str {
        match self.strategy {
            WasmtimeStrategy::Cranelift => "wasmtime-cranelift",
            WasmtimeStrategy::Winch => "wasmtime-winch",
        }
    }

    fn engine(&self) -> Result<Box<dyn Engine>> {
        let mut config = wasmtime::Config::new();
        config.strategy(match self.strategy {
            WasmtimeStrategy::Cranelift => wasmtime::Strategy::Cranelift,
            WasmtimeStrategy::Winch => wasmtime::Strategy::Winch,
        });
        Ok(Box::new(wasmtime::Engine::new(&config)?))
    }
}

struct WasmtimeModule {
    engine: wasmtime::Engine,
    module: wasmtime::Module,
}

type ExternRefFunc = wasmtime::TypedFunc<(Option<wasmtime::Rooted<wasmtime::ExternRef>>, i32), i64>;

enum WasmtimeFunc {
    Unbound,
    I32(wasmtime::TypedFunc<i32, i64>),
    ExternRefI32(ExternRefFunc, wasmtime::Rooted<wasmtime::ExternRef>),
}

struct WasmtimeInstance {
    store: wasmtime::Store<()>,
    instance: wasmtime::Instance,
    func: WasmtimeFunc,
}

impl Engine for wasmtime::Engine {
    fn compile(&self, wasm: &[u8]) -> Result<Box<dyn Compiled>> {
        let module = wasmtime::Module::from_binary(self, wasm)?;
        Ok(Box::new(WasmtimeModule {
            engine: self.clone(),
            module,
        }))
    }
}

impl Compiled for WasmtimeModule {
    fn instantiate(&self) -> Result<Box<dyn Instantiated>> {
        let mut store = wasmtime::Store::new(&self.engine, ());
        let instance = wasmtime::Instance::new(&mut store, &self.module, &[])?;
        Ok(Box::new(WasmtimeInstance {
            store,
            instance,
            func: WasmtimeFunc::Unbound,
        }))
    }
}

impl Instantiated for WasmtimeInstance {
    fn bind(&mut self, export: &str, signature: Signature) -> Result<()> {
        let store = &mut self.store;
        self.func = match signature {
            Signature::I32 => WasmtimeFunc::I32(self.instance.get_typed_func(&mut *store, export)?),
            Signature::ExternRefI32 => {
                let func = self.instance.get_typed_func(&mut *store, export)?;
                let host = wasmtime::ExternRef::new(&mut *store, HostObject(0x6c6f_616d))?;
                WasmtimeFunc::ExternRefI32(func, host)
            }
        };
        Ok(())
    }

    fn call(&mut self, n: i32) -> Result<i64> {
        Ok(match &self.func {
            WasmtimeFunc::Unbound => bail!("call before bind"),
            WasmtimeFunc::I32(f) => f.call(&mut self.store, n)?,
            WasmtimeFunc::ExternRefI32(f, host) => f.call(&mut self.store, (Some(*host), n))?,
        })
    }
}
