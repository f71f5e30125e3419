//! The engines under comparison behind one interface ([`Runner`]): gloam (interpreter or
//! JIT) and wasmi here, wasmtime in `wasmtime_oracle` (feature `wasmtime-oracle`).
//!
//! Values cross between engines as [`Arg`] (bits), calls end as an [`Outcome`], and an
//! instance's exported globals, memories and tables are read as a list of [`State`]s.

use std::panic::{AssertUnwindSafe, catch_unwind};

/// Bounds every engine's memories and tables alike (growth beyond them fails everywhere),
/// so implementation limits do not show up as divergences.
pub(crate) const MAX_MEMORY_BYTES: usize = 16 << 20;
pub(crate) const MAX_TABLE_ELEMENTS: usize = 100_000;

/// Depth limit given to gloam and wasmi (stack exhaustion is inconclusive anyway).
pub(crate) const MAX_DEPTH: usize = 2000;

/// A value every engine can take, as bits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Arg {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    NullFunc,
    NullExtern,
}

/// One engine's view of a call's (or an instantiation's) outcome.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    Ok(Vec<Arg>),
    Trap(String),
    /// Stack exhaustion (not compared, except gloam-jit against gloam-interp).
    Exhausted,
    /// The engine panicked (message).
    Panic(String),
}

impl Outcome {
    /// Whether this is an instantiation or module error whose wording is engine-specific.
    pub(crate) fn is_error(&self) -> bool {
        matches!(self, Outcome::Trap(t) if t.starts_with("error"))
    }
}

fn same_value(a: &Arg, b: &Arg) -> bool {
    match (a, b) {
        (Arg::F32(x), Arg::F32(y)) => {
            x == y || (f32::from_bits(*x).is_nan() && f32::from_bits(*y).is_nan())
        }
        (Arg::F64(x), Arg::F64(y)) => {
            x == y || (f64::from_bits(*x).is_nan() && f64::from_bits(*y).is_nan())
        }
        _ => a == b,
    }
}

/// Equal outcomes; results bit for bit, except that two NaNs of the same type are equal.
pub(crate) fn same_outcome(a: &Outcome, b: &Outcome) -> bool {
    match (a, b) {
        (Outcome::Ok(x), Outcome::Ok(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b))
        }
        _ => a == b,
    }
}

/// Shows a value with NaNs normalized (so NaN-aware comparison of globals is textual).
fn show(v: &Arg) -> String {
    match v {
        Arg::F32(x) if f32::from_bits(*x).is_nan() => "f32 nan".into(),
        Arg::F64(x) if f64::from_bits(*x).is_nan() => "f64 nan".into(),
        other => format!("{other:?}"),
    }
}

/// One exported item's state: a memory's bytes, or a global's value or a table's size
/// as text.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum State {
    Memory(Vec<u8>),
    Other(String),
}

impl core::fmt::Debug for State {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            State::Memory(m) => write!(f, "memory of {} bytes", m.len()),
            State::Other(s) => f.write_str(s),
        }
    }
}

pub(crate) fn global_state(v: &Arg) -> State {
    State::Other(format!("global {}", show(v)))
}

pub(crate) fn table_state(size: u64) -> State {
    State::Other(format!("table size {size}"))
}

/// Where two state lists first differ (memories: the first differing byte), naming the
/// engines `a` and `b`; `None` when they are equal.
pub(crate) fn state_difference(
    a: &[(String, State)],
    b: &[(String, State)],
    a_name: &str,
    b_name: &str,
) -> Option<String> {
    if a == b {
        return None;
    }
    let first = a
        .iter()
        .zip(b)
        .find(|(x, y)| x != y)
        .map(|(x, y)| match (&x.1, &y.1) {
            (State::Memory(p), State::Memory(q)) if p.len() == q.len() => {
                let i = p.iter().zip(q).position(|(s, t)| s != t).unwrap_or(0);
                format!(
                    "memory {:?} byte {i}: {a_name} {:#04x}, {b_name} {:#04x}",
                    x.0, p[i], q[i]
                )
            }
            _ => format!("{a_name} {x:?}, {b_name} {y:?}"),
        });
    Some(first.unwrap_or_else(|| format!("{} vs {} exports", a.len(), b.len())))
}

/// The text of a caught panic's payload.
pub(crate) fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// Runs `f`, turning a panic into `Err(message)`.
pub(crate) fn guard<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| panic_message(&*p))
}

/// An instantiated module in one engine.
pub(crate) trait Runner {
    /// Calls the exported function `name` with `args` (typed as the export's parameters).
    fn call(&mut self, name: &str, args: &[Arg]) -> Outcome;
    /// The exported globals, memories and tables, sorted by export name.
    fn state(&mut self) -> Vec<(String, State)>;
}

/// Runs `make`, mapping a panic to [`Outcome::Panic`] and boxing the runner.
pub(crate) fn instantiate_guarded<R: Runner + 'static>(
    make: impl FnOnce() -> Result<R, Outcome>,
) -> Result<Box<dyn Runner>, Outcome> {
    match guard(make) {
        Ok(Ok(r)) => Ok(Box::new(r)),
        Ok(Err(o)) => Err(o),
        Err(msg) => Err(Outcome::Panic(msg)),
    }
}

// ---- gloam -------------------------------------------------------------------------------

/// A gloam instance, interpreted or with every function JIT-compiled that can be.
pub(crate) struct Gloam {
    store: gloam::Store<gloam::StoreLimits>,
    instance: gloam::Instance,
}

fn gloam_trap(e: &gloam::Error) -> Outcome {
    use gloam::Trap as T;
    let Some(t) = e.downcast_ref::<gloam::Trap>() else {
        return Outcome::Trap(format!("error: {e:#}"));
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

fn to_gloam(a: Arg) -> gloam::Val {
    match a {
        Arg::I32(v) => gloam::Val::I32(v),
        Arg::I64(v) => gloam::Val::I64(v),
        Arg::F32(v) => gloam::Val::F32(v),
        Arg::F64(v) => gloam::Val::F64(v),
        Arg::V128(v) => gloam::Val::V128(v.into()),
        Arg::NullFunc => gloam::Val::FuncRef(None),
        Arg::NullExtern => gloam::Val::ExternRef(None),
    }
}

fn from_gloam(v: &gloam::Val) -> Arg {
    match v {
        gloam::Val::I32(v) => Arg::I32(*v),
        gloam::Val::I64(v) => Arg::I64(*v),
        gloam::Val::F32(v) => Arg::F32(*v),
        gloam::Val::F64(v) => Arg::F64(*v),
        gloam::Val::V128(v) => Arg::V128(v.as_u128()),
        // References are compared by nullness only (function indices differ by engine).
        gloam::Val::FuncRef(f) => {
            if f.is_some() {
                Arg::I32(1)
            } else {
                Arg::NullFunc
            }
        }
        gloam::Val::ExternRef(r) => {
            if r.is_some() {
                Arg::I32(2)
            } else {
                Arg::NullExtern
            }
        }
        // The fuzzer's modules have no exceptions; compared by nullness like the others.
        gloam::Val::ExnRef(r) => Arg::I32(3 + r.is_some() as i32),
    }
}

/// How many of a module's functions the JIT compiled, of how many.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JitCount {
    pub compiled: u64,
    pub total: u64,
}

impl Gloam {
    /// Instantiates `wasm`; with `jit`, every function the JIT supports is compiled first
    /// (the engine has `jit_threshold(Some(0))`, so nothing waits for a call count).
    pub(crate) fn new(wasm: &[u8], jit: bool, count: &mut JitCount) -> Result<Gloam, Outcome> {
        let mut config = gloam::Config::new();
        config.max_call_depth(MAX_DEPTH);
        if jit {
            config.jit_threshold(Some(0));
        }
        let engine =
            gloam::Engine::new(&config).map_err(|e| Outcome::Trap(format!("error: {e:#}")))?;
        let module = gloam::Module::new(&engine, wasm)
            .map_err(|e| Outcome::Trap(format!("error: gloam rejected the module: {e:#}")))?;
        if jit {
            let outcomes = module
                .jit_compile_all()
                .map_err(|e| Outcome::Trap(format!("error: JIT: {e:#}")))?;
            count.total += outcomes.len() as u64;
            count.compiled += outcomes.iter().filter(|o| o.result.is_ok()).count() as u64;
        }
        let limits = gloam::StoreLimitsBuilder::new()
            .memory_size(MAX_MEMORY_BYTES)
            .table_elements(MAX_TABLE_ELEMENTS)
            .build();
        let mut store = gloam::Store::new(&engine, limits);
        store.limiter(|l| l);
        let instance =
            gloam::Instance::new(&mut store, &module, &[]).map_err(|e| gloam_trap(&e))?;
        Ok(Gloam { store, instance })
    }

    /// The exported functions in export order, with their parameter types.
    pub(crate) fn funcs(&mut self) -> Vec<(String, Vec<gloam::ValType>)> {
        let exports = self.instance.exports(&mut self.store);
        exports
            .into_iter()
            .filter_map(|e| {
                let name = e.name().to_string();
                e.into_func().map(|f| (name, f))
            })
            .map(|(name, f)| (name, f.ty(&self.store).params().to_vec()))
            .collect()
    }
}

impl Runner for Gloam {
    fn call(&mut self, name: &str, args: &[Arg]) -> Outcome {
        let Some(f) = self.instance.get_func(&mut self.store, name) else {
            return Outcome::Trap(format!("error: gloam lacks export {name}"));
        };
        let ty = f.ty(&self.store);
        let args: Vec<gloam::Val> = args.iter().map(|a| to_gloam(*a)).collect();
        let mut results: Vec<gloam::Val> = ty
            .results()
            .iter()
            .map(|t| gloam::Val::default_for_ty(*t))
            .collect();
        match f.call(&mut self.store, &args, &mut results) {
            Ok(()) => Outcome::Ok(results.iter().map(from_gloam).collect()),
            Err(e) => gloam_trap(&e),
        }
    }

    fn state(&mut self) -> Vec<(String, State)> {
        let mut out = Vec::new();
        for export in self.instance.exports(&mut self.store) {
            let name = export.name().to_string();
            match export.into_extern() {
                gloam::Extern::Global(g) => {
                    out.push((name, global_state(&from_gloam(&g.get(&mut self.store)))));
                }
                gloam::Extern::Memory(m) => {
                    out.push((name, State::Memory(m.data(&self.store).to_vec())));
                }
                gloam::Extern::Table(t) => {
                    out.push((name, table_state(t.size(&self.store))));
                }
                gloam::Extern::Func(_) | gloam::Extern::Tag(_) => {}
            }
        }
        out.sort();
        out
    }
}

// ---- wasmi -------------------------------------------------------------------------------

/// A wasmi instance (the oracle).
pub(crate) struct Wasmi {
    store: wasmi::Store<wasmi::StoreLimits>,
    instance: wasmi::Instance,
}

fn wasmi_trap(e: &wasmi::Error) -> Outcome {
    use wasmi::TrapCode as T;
    let Some(t) = e.as_trap_code() else {
        return Outcome::Trap(format!("error: {e}"));
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

fn to_wasmi(a: Arg) -> wasmi::Val {
    match a {
        Arg::I32(v) => wasmi::Val::I32(v),
        Arg::I64(v) => wasmi::Val::I64(v),
        Arg::F32(v) => wasmi::Val::F32(wasmi::F32::from_bits(v)),
        Arg::F64(v) => wasmi::Val::F64(wasmi::F64::from_bits(v)),
        Arg::V128(v) => wasmi::Val::V128(v.into()),
        Arg::NullFunc => wasmi::Val::FuncRef(wasmi::Nullable::Null),
        Arg::NullExtern => wasmi::Val::ExternRef(wasmi::Nullable::Null),
    }
}

fn from_wasmi(v: &wasmi::Val) -> Arg {
    match v {
        wasmi::Val::I32(v) => Arg::I32(*v),
        wasmi::Val::I64(v) => Arg::I64(*v),
        wasmi::Val::F32(v) => Arg::F32(v.to_bits()),
        wasmi::Val::F64(v) => Arg::F64(v.to_bits()),
        wasmi::Val::V128(v) => Arg::V128(v.as_u128()),
        wasmi::Val::FuncRef(f) => {
            if f.is_null() {
                Arg::NullFunc
            } else {
                Arg::I32(1)
            }
        }
        wasmi::Val::ExternRef(r) => {
            if r.is_null() {
                Arg::NullExtern
            } else {
                Arg::I32(2)
            }
        }
    }
}

impl Wasmi {
    /// Instantiates `wasm` (and runs its start function).
    pub(crate) fn new(wasm: &[u8]) -> Result<Wasmi, Outcome> {
        let mut config = wasmi::Config::default();
        config.set_max_recursion_depth(MAX_DEPTH);
        let engine = wasmi::Engine::new(&config);
        let module = wasmi::Module::new(&engine, wasm)
            .map_err(|e| Outcome::Trap(format!("error: wasmi rejected the module: {e}")))?;
        let limits = wasmi::StoreLimitsBuilder::new()
            .memory_size(MAX_MEMORY_BYTES)
            .table_elements(MAX_TABLE_ELEMENTS)
            .build();
        let mut store = wasmi::Store::new(&engine, limits);
        store.limiter(|l| l);
        let linker = wasmi::Linker::<wasmi::StoreLimits>::new(&engine);
        let instance = linker
            .instantiate_and_start(&mut store, &module)
            .map_err(|e| wasmi_trap(&e))?;
        Ok(Wasmi { store, instance })
    }
}

impl Runner for Wasmi {
    fn call(&mut self, name: &str, args: &[Arg]) -> Outcome {
        let Some(f) = self.instance.get_func(&self.store, name) else {
            return Outcome::Trap(format!("error: wasmi lacks export {name}"));
        };
        let args: Vec<wasmi::Val> = args.iter().map(|a| to_wasmi(*a)).collect();
        let ty = f.ty(&self.store);
        let mut results: Vec<wasmi::Val> = ty
            .results()
            .iter()
            .map(|t| wasmi::Val::default_for_ty(*t))
            .collect();
        match f.call(&mut self.store, &args, &mut results) {
            Ok(()) => Outcome::Ok(results.iter().map(from_wasmi).collect()),
            Err(e) => wasmi_trap(&e),
        }
    }

    fn state(&mut self) -> Vec<(String, State)> {
        let exports: Vec<(String, wasmi::Extern)> = self
            .instance
            .exports(&self.store)
            .map(|e| (e.name().to_string(), e.into_extern()))
            .collect();
        let mut out = Vec::new();
        for (name, ext) in exports {
            match ext {
                wasmi::Extern::Global(g) => {
                    out.push((name, global_state(&from_wasmi(&g.get(&self.store)))));
                }
                wasmi::Extern::Memory(m) => {
                    out.push((name, State::Memory(m.data(&self.store).to_vec())));
                }
                wasmi::Extern::Table(t) => {
                    out.push((name, table_state(t.size(&self.store))));
                }
                wasmi::Extern::Func(_) => {}
            }
        }
        out.sort();
        out
    }
}
