//! `Engine` and `Config`.

use gloam_interp::{EngineCore, RuntimeConfig};
use std::sync::Arc;

/// Global configuration of an [`Engine`].
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub(crate) runtime: RuntimeConfig,
}

impl Config {
    pub fn new() -> Config {
        Config::default()
    }

    /// Maximum number of nested wasm calls before a `call stack exhausted` trap.
    pub fn max_call_depth(&mut self, depth: usize) -> &mut Self {
        self.runtime.max_call_depth = depth;
        self
    }

    /// Maximum size of a store's value stack in bytes (rounded down to 8-byte cells).
    /// Like wasmtime's option of the same name, running out is a stack-exhaustion trap.
    pub fn max_wasm_stack(&mut self, bytes: usize) -> &mut Self {
        self.runtime.max_stack_cells = (bytes / 8).max(16);
        self
    }

    /// Most live `externref` objects a store's heap holds before allocation fails with
    /// `GcHeapOutOfMemory`.
    pub fn gc_heap_limit(&mut self, objects: usize) -> &mut Self {
        self.runtime.gc_heap_limit = objects;
        self
    }

    /// Collect garbage at every safepoint (every call), to test rooting.
    pub fn gc_stress(&mut self, on: bool) -> &mut Self {
        self.runtime.gc_stress = on;
        self
    }

    /// Compile a function to native code after it was called `calls` times (`Some(0)`:
    /// before its first call); `None` (the default) runs everything in the interpreter.
    /// Without the `jit` feature, or on a target without a JIT backend (see
    /// [`Config::jit_available`]), functions stay interpreted whatever the setting.
    pub fn jit_threshold(&mut self, calls: Option<u32>) -> &mut Self {
        self.runtime.jit_threshold = calls;
        self
    }

    /// Whether this build can compile wasm to native code.
    pub fn jit_available() -> bool {
        #[cfg(feature = "jit")]
        return gloam_jit::AVAILABLE;
        #[cfg(not(feature = "jit"))]
        return false;
    }

    /// Translate every function when the module is created, instead of on first call.
    /// Validation always covers the whole module either way.
    pub fn eager_translation(&mut self, eager: bool) -> &mut Self {
        self.runtime.eager_translation = eager;
        self
    }
}

/// Compilation environment shared by modules and stores.
#[derive(Clone, Debug, Default)]
pub struct Engine {
    pub(crate) inner: Arc<EngineCore>,
}

impl Engine {
    pub fn new(config: &Config) -> anyhow::Result<Engine> {
        let runtime = config.runtime.clone();
        #[cfg(feature = "jit")]
        if runtime.jit_threshold.is_some()
            && let Some(codegen) = gloam_jit::codegen()
        {
            return Ok(Engine {
                inner: Arc::new(EngineCore::with_codegen(runtime, codegen)),
            });
        }
        Ok(Engine {
            inner: Arc::new(EngineCore::new(runtime)),
        })
    }

    /// Whether two handles refer to the same engine.
    pub fn same(a: &Engine, b: &Engine) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }
}
