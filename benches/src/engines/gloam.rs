//! gloam: the interpreter translating lazily (the default `Config`) or eagerly, the JIT
//! compiling every function before the first call, and tiering (JIT after two calls).

use super::{Compiled, Engine, HostObject, Instantiated, Runtime};
use crate::workload::Signature;
use anyhow::{Result, bail};

/// Which gloam tier and translation mode an engine runs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum GloamMode {
    /// The interpreter, translating each function on its first call.
    Interp,
    /// The interpreter, translating every function at compile time.
    InterpEager,
    /// `Config::jit_threshold(Some(0))` with eager translation, and every function
    /// JIT-compiled at compile time
    /// (`Module::jit_compile_all`), so compile time includes the native code.
    Jit,
    /// `Config::jit_threshold(Some(2))`: interpreted until a function's second call (the
    /// same threshold as `gloam wast --mode tiered`).
    Tiered,
}

/// A gloam engine in one [`GloamMode`].
pub struct Gloam {
    pub mode: GloamMode,
    /// `Config::parallel_compilation`: off for the plain names, so compile times compare
    /// like for like with the single-threaded wasmtime peers; on for the `-par` names.
    pub parallel: bool,
}

/// A gloam engine with the mode's compile step.
struct GloamEngine {
    engine: gloam::Engine,
    jit_all: bool,
}

impl Runtime for Gloam {
    fn name(&self) -> &'static str {
        match (self.mode, self.parallel) {
            (GloamMode::Interp, _) => "gloam-interp",
            (GloamMode::InterpEager, false) => "gloam-interp-eager",
            (GloamMode::InterpEager, true) => "gloam-interp-eager-par",
            (GloamMode::Jit, false) => "gloam-jit",
            (GloamMode::Jit, true) => "gloam-jit-par",
            (GloamMode::Tiered, _) => "gloam-tiered",
        }
    }

    fn engine(&self) -> Result<Box<dyn Engine>> {
        let mut config = gloam::Config::new();
        config
            // The JIT mode compiles everything at compile time, so it translates eagerly
            // too: translation then shares the validator's decoding of each body.
            .eager_translation(matches!(self.mode, GloamMode::InterpEager | GloamMode::Jit))
            .parallel_compilation(self.parallel);
        match self.mode {
            GloamMode::Jit => config.jit_threshold(Some(0)),
            GloamMode::Tiered => config.jit_threshold(Some(2)),
            _ => config.jit_threshold(None),
        };
        Ok(Box::new(GloamEngine {
            engine: gloam::Engine::new(&config)?,
            jit_all: self.mode == GloamMode::Jit,
        }))
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

impl Engine for GloamEngine {
    fn compile(&self, wasm: &[u8]) -> Result<Box<dyn Compiled>> {
        let module = gloam::Module::new(&self.engine, wasm)?;
        if self.jit_all {
            module.jit_compile_all()?;
        }
        Ok(Box::new(GloamModule {
            engine: self.engine.clone(),
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
