//! wasmtime (Cranelift) as the tie-breaker when gloam and wasmi disagree (feature
//! `wasmtime-oracle`).
//!
//! Configured for what [`crate::smith_config`] generates: Wasm 2.0 with SIMD and reference
//! types, every later proposal off. Float NaNs come out canonical (as wasm-smith's
//! `canonicalize_nans` makes the module's own code do), and no engine fuel or epochs: the
//! only termination mechanism is the fuel global `ensure_termination` puts in the module,
//! which every engine runs alike.

use crate::engines::{
    Arg, MAX_DEPTH, MAX_MEMORY_BYTES, MAX_TABLE_ELEMENTS, Outcome, Runner, State,
};

/// Bytes of native stack wasm may use: room for [`MAX_DEPTH`] frames of 4 KiB, more than
/// wasm-smith's functions need, so wasmtime exhausts its stack no earlier than gloam.
pub(crate) const MAX_WASM_STACK: usize = MAX_DEPTH * 4096;

/// Native stack of the thread that runs a replay: the wasm stack plus room for the harness
/// and gloam, which runs beside wasmtime in the replay.
pub(crate) const THREAD_STACK: usize = MAX_WASM_STACK + (8 << 20);

/// A wasmtime instance.
pub(crate) struct Wasmtime {
    store: wasmtime::Store<wasmtime::StoreLimits>,
    instance: wasmtime::Instance,
}

fn trap(e: &wasmtime::Error) -> Outcome {
    use wasmtime::Trap as T;
    let Some(t) = e.downcast_ref::<wasmtime::Trap>() else {
        return Outcome::Trap(format!("error: {e:?}"));
    };
    Outcome::Trap(
        match t {
            T::StackOverflow => return Outcome::Exhausted,
            T::UnreachableCodeReached => "unreachable",
            T::MemoryOutOfBounds => "memory out of bounds",
            T::TableOutOfBounds => "table out of bounds",
            T::IndirectCallToNull => "indirect call to null",
            T::BadSignature => "bad signature",
            T::IntegerOverflow => "integer overflow",
            T::IntegerDivisionByZero => "integer division by zero",
            T::BadConversionToInteger => "bad conversion to integer",
            T::OutOfFuel => "out of fuel",
            _ => "other trap",
        }
        .to_string(),
    )
}

fn to_wasmtime(a: Arg) -> wasmtime::Val {
    match a {
        Arg::I32(v) => wasmtime::Val::I32(v),
        Arg::I64(v) => wasmtime::Val::I64(v),
        Arg::F32(v) => wasmtime::Val::F32(v),
        Arg::F64(v) => wasmtime::Val::F64(v),
        Arg::V128(v) => wasmtime::Val::V128(v.into()),
        Arg::NullFunc => wasmtime::Val::FuncRef(None),
        Arg::NullExtern => wasmtime::Val::ExternRef(None),
    }
}

fn from_wasmtime(v: &wasmtime::Val) -> Arg {
    match v {
        wasmtime::Val::I32(v) => Arg::I32(*v),
        wasmtime::Val::I64(v) => Arg::I64(*v),
        wasmtime::Val::F32(v) => Arg::F32(*v),
        wasmtime::Val::F64(v) => Arg::F64(*v),
        wasmtime::Val::V128(v) => Arg::V128(v.as_u128()),
        wasmtime::Val::FuncRef(f) => {
            if f.is_some() {
                Arg::I32(1)
            } else {
                Arg::NullFunc
            }
        }
        wasmtime::Val::ExternRef(r) => {
            if r.is_some() {
                Arg::I32(2)
            } else {
                Arg::NullExtern
            }
        }
        // Types of proposals wasm-smith is configured not to generate.
        _ => Arg::I32(3),
    }
}

/// The engine configuration matching [`crate::smith_config`].
fn config() -> wasmtime::Config {
    let mut c = wasmtime::Config::new();
    c.wasm_simd(true)
        .wasm_relaxed_simd(false)
        .wasm_reference_types(true)
        .wasm_bulk_memory(true)
        .wasm_multi_value(true)
        .wasm_tail_call(false)
        .wasm_multi_memory(false)
        .wasm_memory64(false)
        .wasm_extended_const(false)
        .wasm_wide_arithmetic(false)
        .wasm_custom_page_sizes(false)
        .wasm_function_references(false)
        .wasm_gc(false)
        .wasm_exceptions(false)
        .cranelift_nan_canonicalization(true)
        .consume_fuel(false)
        .epoch_interruption(false)
        .wasm_backtrace_max_frames(None)
        .max_wasm_stack(MAX_WASM_STACK)
        // Unused (no async support built in), but wasmtime wants it no smaller.
        .async_stack_size(MAX_WASM_STACK);
    c
}

/// A wasmtime engine configured like [`crate::smith_config`]'s modules need.
pub(crate) fn engine() -> Result<wasmtime::Engine, String> {
    wasmtime::Engine::new(&config()).map_err(|e| format!("wasmtime engine: {e:?}"))
}

impl Wasmtime {
    /// Instantiates `wasm` (and runs its start function). Call on a thread with
    /// [`THREAD_STACK`] bytes of stack.
    pub(crate) fn new(engine: &wasmtime::Engine, wasm: &[u8]) -> Result<Wasmtime, Outcome> {
        let module = wasmtime::Module::from_binary(engine, wasm)
            .map_err(|e| Outcome::Trap(format!("error: wasmtime rejected the module: {e:?}")))?;
        let limits = wasmtime::StoreLimitsBuilder::new()
            .memory_size(MAX_MEMORY_BYTES)
            .table_elements(MAX_TABLE_ELEMENTS)
            .build();
        let mut store = wasmtime::Store::new(engine, limits);
        store.limiter(|l| l);
        let instance = wasmtime::Instance::new(&mut store, &module, &[]).map_err(|e| trap(&e))?;
        Ok(Wasmtime { store, instance })
    }
}

impl Runner for Wasmtime {
    fn call(&mut self, name: &str, args: &[Arg]) -> Outcome {
        let Some(f) = self.instance.get_func(&mut self.store, name) else {
            return Outcome::Trap(format!("error: wasmtime lacks export {name}"));
        };
        let ty = f.ty(&self.store);
        let args: Vec<wasmtime::Val> = args.iter().map(|a| to_wasmtime(*a)).collect();
        let mut results: Vec<wasmtime::Val> = ty
            .results()
            .map(|t| wasmtime::Val::default_for_ty(&t).unwrap_or(wasmtime::Val::I32(0)))
            .collect();
        match f.call(&mut self.store, &args, &mut results) {
            Ok(()) => Outcome::Ok(results.iter().map(from_wasmtime).collect()),
            Err(e) => trap(&e),
        }
    }

    fn state(&mut self) -> Vec<(String, State)> {
        let exports: Vec<(String, wasmtime::Extern)> = self
            .instance
            .exports(&mut self.store)
            .map(|e| (e.name().to_string(), e.into_extern()))
            .collect();
        let mut out = Vec::new();
        for (name, ext) in exports {
            match ext {
                wasmtime::Extern::Global(g) => {
                    let v = from_wasmtime(&g.get(&mut self.store));
                    out.push((name, crate::engines::global_state(&v)));
                }
                wasmtime::Extern::Memory(m) => {
                    out.push((name, State::Memory(m.data(&self.store).to_vec())));
                }
                wasmtime::Extern::Table(t) => {
                    out.push((name, crate::engines::table_state(t.size(&self.store))));
                }
                _ => {}
            }
        }
        out.sort();
        out
    }
}
