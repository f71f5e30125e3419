//! The engines under test, behind one small trait stack so that the harness does every
//! timing itself, the same way for every runtime.

mod gloam;
mod wasmi;
#[cfg(feature = "peers-wasmtime")]
mod wasmtime;

use crate::workload::Signature;
use anyhow::{Result, bail};

pub use self::gloam::{Gloam, GloamMode};
pub use self::wasmi::Wasmi;
#[cfg(feature = "peers-wasmtime")]
pub use self::wasmtime::{Wasmtime, WasmtimeStrategy};

/// A WebAssembly runtime in one configuration.
pub trait Runtime {
    /// The engine's name as given to `--engines`, used as the column heading.
    fn name(&self) -> &'static str;
    /// A fresh engine (one per measurement, so nothing carries over between cells).
    fn engine(&self) -> Result<Box<dyn Engine>>;
}

/// An engine of a [`Runtime`].
pub trait Engine {
    /// Compiles a binary module until it is ready to instantiate and call: validation,
    /// plus translation or native compilation when the configuration does it eagerly.
    fn compile(&self, wasm: &[u8]) -> Result<Box<dyn Compiled>>;
}

/// A compiled module.
pub trait Compiled {
    /// Creates a fresh store and instantiates the module in it (no imports).
    fn instantiate(&self) -> Result<Box<dyn Instantiated>>;
}

/// An instance with its store.
pub trait Instantiated {
    /// Looks up `export` with the given signature and prepares its arguments (for
    /// [`Signature::ExternRefI32`] this allocates the host reference).
    fn bind(&mut self, export: &str, signature: Signature) -> Result<()>;
    /// Calls the bound export with `n` for its `i32` parameter.
    fn call(&mut self, n: i32) -> Result<i64>;
}

/// The host object behind the externref argument; wasm never looks inside it.
#[derive(Debug)]
pub struct HostObject(pub u64);

/// Every engine name `--engines` accepts, in table order.
pub const ENGINE_NAMES: [&str; 10] = [
    "gloam-interp",
    "gloam-interp-eager",
    "gloam-interp-eager-par",
    "gloam-jit",
    "gloam-jit-par",
    "gloam-tiered",
    "wasmi",
    "wasmi-eager",
    "wasmtime-cranelift",
    "wasmtime-winch",
];

/// The engines used when `--engines` is not given.
pub const DEFAULT_ENGINES: [&str; 2] = ["gloam-interp", "wasmi"];

/// What `--engines NAME` resolves to.
pub enum Resolved {
    Available(Box<dyn Runtime>),
    /// Known, but not in this build; the reason is shown in place of results.
    Unavailable {
        name: &'static str,
        reason: String,
    },
}

/// A gloam engine compiling on the calling thread only, like the wasmtime peers here.
fn gloam_engine(mode: GloamMode) -> Resolved {
    Resolved::Available(Box::new(Gloam {
        mode,
        parallel: false,
    }))
}

/// A gloam engine with `Config::parallel_compilation` (one thread per core).
fn gloam_parallel(mode: GloamMode) -> Resolved {
    Resolved::Available(Box::new(Gloam {
        mode,
        parallel: true,
    }))
}

/// Resolves an engine name; unknown names are an error that lists the known ones.
pub fn resolve(name: &str) -> Result<Resolved> {
    let Some(&name) = ENGINE_NAMES.iter().find(|&&n| n == name) else {
        bail!(
            "unknown engine `{name}` (known: {}, or `all`)",
            ENGINE_NAMES.join(", ")
        );
    };
    let unavailable = |reason: &str| Resolved::Unavailable {
        name,
        reason: reason.to_string(),
    };
    Ok(match name {
        "gloam-interp" => gloam_engine(GloamMode::Interp),
        "gloam-interp-eager" => gloam_engine(GloamMode::InterpEager),
        "gloam-interp-eager-par" => gloam_parallel(GloamMode::InterpEager),
        "gloam-jit" | "gloam-jit-par" | "gloam-tiered" if !::gloam::Config::jit_available() => {
            unavailable("no JIT in this build (no backend for this target)")
        }
        "gloam-jit" => gloam_engine(GloamMode::Jit),
        "gloam-jit-par" => gloam_parallel(GloamMode::Jit),
        "gloam-tiered" => gloam_engine(GloamMode::Tiered),
        "wasmi" => Resolved::Available(Box::new(Wasmi { eager: false })),
        "wasmi-eager" => Resolved::Available(Box::new(Wasmi { eager: true })),
        "wasmtime-cranelift" | "wasmtime-winch" => wasmtime_engine(name, unavailable),
        _ => unreachable!("every name of ENGINE_NAMES is matched above"),
    })
}

#[cfg(feature = "peers-wasmtime")]
fn wasmtime_engine(name: &str, _: impl Fn(&str) -> Resolved) -> Resolved {
    let strategy = if name == "wasmtime-winch" {
        WasmtimeStrategy::Winch
    } else {
        WasmtimeStrategy::Cranelift
    };
    Resolved::Available(Box::new(Wasmtime { strategy }))
}

#[cfg(not(feature = "peers-wasmtime"))]
fn wasmtime_engine(_: &str, unavailable: impl Fn(&str) -> Resolved) -> Resolved {
    unavailable(
        "built without the `peers-wasmtime` feature of gloam-benches \
         (cargo build --release -p gloam-benches --features peers-wasmtime)",
    )
}
