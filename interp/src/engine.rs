//! Engine-wide state: configuration and the function-type registry.

use crate::native::CodeGen;
use crate::prelude::*;
use crate::registry::{Registered, TypeRegistry};
use crate::sync::Mutex;
use crate::types::FuncType;

/// Runtime limits and features, set through the API's `Config`.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// Maximum number of active wasm frames (across host re-entries) before a
    /// `call stack exhausted` trap.
    pub max_call_depth: usize,
    /// Maximum size of a store's value stack, in 8-byte cells.
    pub max_stack_cells: usize,
    /// Translate every function at `Module::new` instead of on first call.
    pub eager_translation: bool,
    /// Validate, translate and compile a large module's functions on several threads.
    pub parallel_compilation: bool,
    /// The proposals accepted by validation.
    pub features: wasmparser::WasmFeatures,
    /// Most live `externref` objects per store.
    pub gc_heap_limit: usize,
    /// Collect garbage at every safepoint (every call executed), to shake out rooting bugs.
    pub gc_stress: bool,
    /// Calls after which a function is compiled to native code by the engine's code
    /// generator (`Some(0)`: before its first call); `None` runs everything interpreted.
    pub jit_threshold: Option<u32>,
    /// Charge fuel per block of wasm operators (see `limits`).
    pub consume_fuel: bool,
    /// Check the engine's epoch at function entries and loop headers (see `limits`).
    pub epoch_interruption: bool,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            max_call_depth: 20_000,
            max_stack_cells: 1 << 22,
            eager_translation: false,
            parallel_compilation: true,
            // Wasm 2.0 (fixed-width SIMD included) and the parts of Wasm 3.0 built so far:
            // tail calls, extended constant expressions, relaxed SIMD, multiple memories,
            // 64-bit memories, exceptions and typed function references (with
            // wasmparser's `GC` for rec groups and 3.0's constant expressions; GC
            // constructs themselves are refused by `Module::new`).
            features: wasmparser::WasmFeatures::WASM2
                .union(wasmparser::WasmFeatures::TAIL_CALL)
                .union(wasmparser::WasmFeatures::EXCEPTIONS)
                .union(wasmparser::WasmFeatures::EXTENDED_CONST)
                .union(wasmparser::WasmFeatures::RELAXED_SIMD)
                .union(wasmparser::WasmFeatures::MULTI_MEMORY)
                .union(wasmparser::WasmFeatures::MEMORY64)
                .union(wasmparser::WasmFeatures::FUNCTION_REFERENCES)
                .union(wasmparser::WasmFeatures::GC),
            gc_heap_limit: 1 << 24,
            gc_stress: false,
            jit_threshold: None,
            consume_fuel: false,
            epoch_interruption: false,
        }
    }
}

/// Engine-wide state shared by modules and stores.
#[derive(Default)]
pub struct EngineCore {
    pub config: RuntimeConfig,
    types: Mutex<TypeRegistry>,
    /// The native-code tier, if the embedding provides one.
    pub codegen: Option<Arc<dyn CodeGen>>,
    /// The epoch counter `check_epoch` compares with a store's deadline.
    pub epoch: crate::limits::Epoch,
}

impl core::fmt::Debug for EngineCore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EngineCore")
            .field("config", &self.config)
            .field("types", &self.types)
            .field("codegen", &self.codegen.is_some())
            .field("epoch", &self.epoch)
            .finish()
    }
}

impl EngineCore {
    pub fn new(config: RuntimeConfig) -> EngineCore {
        EngineCore {
            config,
            types: Mutex::default(),
            codegen: None,
            epoch: Default::default(),
        }
    }

    /// An engine whose functions tier up to native code made by `codegen` (after
    /// `config.jit_threshold` calls).
    pub fn with_codegen(config: RuntimeConfig, codegen: Arc<dyn CodeGen>) -> EngineCore {
        EngineCore {
            codegen: Some(codegen),
            ..EngineCore::new(config)
        }
    }

    /// The canonical id of a host function type (see `crate::registry`). Its concrete
    /// references name types by id, so they need no registration.
    pub fn register_type(&self, ty: &FuncType) -> u32 {
        self.types.lock().intern_func(ty)
    }

    /// Registers recursion group `group` of a module (see `TypeRegistry::intern_group`).
    pub(crate) fn register_group(
        &self,
        group: &wasmparser::RecGroup,
        start: u32,
        heaps: &[crate::types::HeapType],
    ) -> Result<Vec<Registered>, String> {
        self.types.lock().intern_group(group, start, heaps)
    }

    /// The function type behind an id (`None` for an unknown id or a struct or array
    /// type).
    pub fn type_of(&self, id: u32) -> Option<FuncType> {
        let reg = self.types.lock();
        let ty = reg.func_type(id)?;
        Some(ty.clone())
    }
}
