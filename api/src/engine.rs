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

    /// Charge fuel for executed wasm: every operator costs 1 except `nop`, `drop`,
    /// `block`, `loop`, `else`, `end`, `unreachable` and `return` (wasmtime's rule),
    /// charged per block before it runs (see `gloam_interp::limits`). A store starts with
    /// no fuel: set some with [`Store::set_fuel`](crate::Store::set_fuel). Off by default;
    /// when off, no check is compiled in.
    pub fn consume_fuel(&mut self, on: bool) -> &mut Self {
        self.runtime.consume_fuel = on;
        self
    }

    /// Check the engine's epoch at every function entry and loop header and stop at the
    /// store's deadline ([`Engine::increment_epoch`],
    /// [`Store::set_epoch_deadline`](crate::Store::set_epoch_deadline)). A store's
    /// deadline starts at 0, so wasm traps at once until one is set. Off by default; when
    /// off, no check is compiled in.
    pub fn epoch_interruption(&mut self, on: bool) -> &mut Self {
        self.runtime.epoch_interruption = on;
        self
    }

    /// Accept the tail-call instructions `return_call` and `return_call_indirect` (Wasm
    /// 3.0; on by default). A tail call replaces the caller's frame, so tail recursion
    /// runs in constant stack space.
    pub fn wasm_tail_call(&mut self, on: bool) -> &mut Self {
        self.feature(wasmparser::WasmFeatures::TAIL_CALL, on)
    }

    /// Accept extended constant expressions: `i32`/`i64` `add`, `sub` and `mul` in
    /// global initializers and segment offsets (Wasm 3.0; on by default).
    pub fn wasm_extended_const(&mut self, on: bool) -> &mut Self {
        self.feature(wasmparser::WasmFeatures::EXTENDED_CONST, on)
    }

    /// Accept the relaxed SIMD instructions (Wasm 3.0; on by default). gloam gives each
    /// one fixed result from the set the spec allows, the same on every host and in
    /// every tier (the 2.0 instruction's where there is one: `relaxed_swizzle` as
    /// `swizzle`, `relaxed_trunc` as `trunc_sat`, `relaxed_laneselect` as `bitselect`,
    /// `relaxed_min`/`max` as `min`/`max`; `relaxed_madd` rounds twice; the dot products
    /// read both operands as signed).
    pub fn wasm_relaxed_simd(&mut self, on: bool) -> &mut Self {
        self.feature(wasmparser::WasmFeatures::RELAXED_SIMD, on)
    }

    /// Accept exception handling (Wasm 3.0; on by default): tags, `throw`, `throw_ref`,
    /// `try_table` and `exnref`. An exception that leaves a call uncaught is the error
    /// [`ThrownException`](crate::ThrownException), with the exception pending in the
    /// store ([`Store::take_pending_exception`](crate::Store::take_pending_exception)).
    pub fn wasm_exceptions(&mut self, on: bool) -> &mut Self {
        self.feature(wasmparser::WasmFeatures::EXCEPTIONS, on)
    }

    /// Accept typed function references (Wasm 3.0; on by default): `(ref $t)` and
    /// `(ref null $t)` types, non-null `(ref func)`/`(ref extern)`, `call_ref`,
    /// `return_call_ref`, `ref.as_non_null`, `br_on_null`, `br_on_non_null`, tables with
    /// initializers, and recursion groups of types, with Wasm 3.0's type equivalence
    /// across modules. This also turns on wasmparser's `GC` feature, which gates
    /// recursion groups and `global.get` of immutable globals in constant expressions;
    /// the GC proposal's own constructs (struct and array values, `i31`, casts, the
    /// `any`/`eq`/`i31`/`struct`/`array`/`none` heap types) are refused at compile time.
    pub fn wasm_function_references(&mut self, on: bool) -> &mut Self {
        self.feature(
            wasmparser::WasmFeatures::FUNCTION_REFERENCES.union(wasmparser::WasmFeatures::GC),
            on,
        )
    }

    /// Accept modules with more than one memory, and memory instructions naming a
    /// memory (Wasm 3.0; on by default).
    pub fn wasm_multi_memory(&mut self, on: bool) -> &mut Self {
        self.feature(wasmparser::WasmFeatures::MULTI_MEMORY, on)
    }

    /// Accept 64-bit memories and tables, indexed by `i64` (Wasm 3.0; on by default).
    /// gloam limits a 64-bit memory to 4 GiB, as a 32-bit one: a `memory.grow` past
    /// that returns -1, and a larger minimum fails instantiation.
    pub fn wasm_memory64(&mut self, on: bool) -> &mut Self {
        self.feature(wasmparser::WasmFeatures::MEMORY64, on)
    }

    /// Every Wasm 3.0 proposal gloam builds, on or off at once (on by default). Off
    /// leaves Wasm 2.0, as the core-2.0 spec suite expects (e.g. a second memory is
    /// invalid there).
    pub fn wasm_3_0(&mut self, on: bool) -> &mut Self {
        self.wasm_tail_call(on)
            .wasm_extended_const(on)
            .wasm_relaxed_simd(on)
            .wasm_multi_memory(on)
            .wasm_memory64(on)
            .wasm_function_references(on)
            .wasm_exceptions(on)
    }

    fn feature(&mut self, feature: wasmparser::WasmFeatures, on: bool) -> &mut Self {
        self.runtime.features.set(feature, on);
        self
    }

    /// Translate every function when the module is created, instead of on first call.
    /// Validation always covers the whole module either way.
    pub fn eager_translation(&mut self, eager: bool) -> &mut Self {
        self.runtime.eager_translation = eager;
        self
    }

    /// Validate, translate and JIT-compile the functions of a large module on one thread
    /// per core (on by default; small modules always use the calling thread).
    pub fn parallel_compilation(&mut self, on: bool) -> &mut Self {
        self.runtime.parallel_compilation = on;
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

    /// Advances the epoch by one. Cheap, and callable from any thread (a signal handler
    /// or a timer thread, say): wasm running in this engine's stores sees the new epoch
    /// at its next function entry or loop header.
    pub fn increment_epoch(&self) {
        self.inner.epoch.increment();
    }

    /// The heap type of the functions of type `ty` in this engine, for typed references
    /// `(ref $t)` in the types of host functions, tables and globals:
    /// `ValType::Ref(RefType::new(false, engine.concrete_func(&ty)))`. Equal function
    /// types (and a module's function type alone in its recursion group) give the same
    /// heap type.
    pub fn concrete_func(&self, ty: &gloam_interp::FuncType) -> gloam_interp::HeapType {
        gloam_interp::HeapType::ConcreteFunc(self.inner.register_type(ty))
    }

    /// Whether two handles refer to the same engine.
    pub fn same(a: &Engine, b: &Engine) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }
}
