//! Measuring one engine on one workload: compile, instantiate, a checked warm-up call and
//! N checked timed calls, with the heap high-water mark of the whole cell.

use crate::alloc::PeakScope;
use crate::engines::{Instantiated, Runtime};
use crate::workload::{Size, Workload};
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

/// Timings of one engine on one workload; every call in it returned the right checksum.
#[derive(Clone, Debug)]
pub struct Measurement {
    /// `Module::new` on the binary (validation, plus translation or compilation when the
    /// engine does it eagerly), in an engine made beforehand.
    pub compile: Duration,
    /// A fresh store plus `Instance::new`.
    pub instantiate: Duration,
    /// The warm-up call (includes lazy translation of what it reaches).
    pub first_call: Duration,
    /// The timed calls after the warm-up, in order.
    pub runs: Vec<Duration>,
    /// Most heap bytes live at once during compile, instantiate and all the calls, above
    /// what was live before (`None` without the counting allocator).
    pub peak_heap: Option<u64>,
}

impl Measurement {
    pub fn median(&self) -> Duration {
        median(&self.runs)
    }
    pub fn min(&self) -> Duration {
        self.runs.iter().copied().min().unwrap_or_default()
    }
    pub fn max(&self) -> Duration {
        self.runs.iter().copied().max().unwrap_or_default()
    }
}

/// The median (mean of the middle two for an even count; zero for none).
pub fn median(durations: &[Duration]) -> Duration {
    let mut sorted = durations.to_vec();
    sorted.sort();
    match sorted.len() {
        0 => Duration::ZERO,
        len if len % 2 == 1 => sorted[len / 2],
        len => (sorted[len / 2 - 1] + sorted[len / 2]) / 2,
    }
}

/// The stage at which a benchmark failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Reading the file or converting WAT.
    Load,
    /// Making the engine or compiling the module.
    Compile,
    Instantiate,
    /// Finding the export or making the host reference.
    Bind,
    /// The call trapped or returned an error.
    Call,
    /// The call returned a wrong result.
    Checksum,
    /// The engine panicked.
    Panic,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Stage::Load => "load",
            Stage::Compile => "compile",
            Stage::Instantiate => "instantiate",
            Stage::Bind => "bind",
            Stage::Call => "trap",
            Stage::Checksum => "checksum",
            Stage::Panic => "panic",
        }
    }
}

/// Why an engine has no timing for a workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BenchError {
    pub stage: Stage,
    pub message: String,
}

impl BenchError {
    pub fn new(stage: Stage, message: impl fmt::Display) -> BenchError {
        BenchError {
            stage,
            message: message.to_string(),
        }
    }

    pub fn from_anyhow(stage: Stage, e: &anyhow::Error) -> BenchError {
        BenchError::new(stage, format!("{e:#}"))
    }
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.stage.label(), self.message)
    }
}

impl std::error::Error for BenchError {}

/// Runs `f`, turning a panic into a [`Stage::Panic`] error.
pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T, BenchError>) -> Result<T, BenchError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic payload".to_string());
        Err(BenchError::new(Stage::Panic, message))
    })
}

/// What [`prepare`] returns: the bound instance and the stage times.
pub(crate) struct Prepared {
    pub instance: Box<dyn Instantiated>,
    pub compile: Duration,
    pub instantiate: Duration,
}

/// Compiles `wasm` in a fresh engine of `rt`, instantiates it and binds `export`. The
/// engine is made before `on_engine_ready` runs, which starts whatever should not see
/// engine creation (the timers here, the heap scope of the caller).
pub(crate) fn prepare(
    rt: &dyn Runtime,
    export: &str,
    signature: crate::workload::Signature,
    wasm: &[u8],
    on_engine_ready: impl FnOnce(),
) -> Result<Prepared, BenchError> {
    let engine = rt
        .engine()
        .map_err(|e| BenchError::from_anyhow(Stage::Compile, &e))?;
    on_engine_ready();
    let start = Instant::now();
    let compiled = engine
        .compile(wasm)
        .map_err(|e| BenchError::from_anyhow(Stage::Compile, &e))?;
    let compile = start.elapsed();
    let start = Instant::now();
    let mut instance = compiled
        .instantiate()
        .map_err(|e| BenchError::from_anyhow(Stage::Instantiate, &e))?;
    let instantiate = start.elapsed();
    instance
        .bind(export, signature)
        .map_err(|e| BenchError::from_anyhow(Stage::Bind, &e))?;
    Ok(Prepared {
        instance,
        compile,
        instantiate,
    })
}

/// Calls the export once and checks the result.
pub(crate) fn checked_call(
    instance: &mut dyn Instantiated,
    n: i32,
    expected: i64,
) -> Result<Duration, BenchError> {
    let start = Instant::now();
    let got = instance
        .call(n)
        .map_err(|e| BenchError::from_anyhow(Stage::Call, &e))?;
    let elapsed = start.elapsed();
    if got != expected {
        return Err(BenchError::new(
            Stage::Checksum,
            format!("n = {n}: expected {expected}, got {got}"),
        ));
    }
    Ok(elapsed)
}

/// Measures one engine on one workload: compile, instantiate, one warm-up call, then
/// `runs` timed calls. Every call's result must equal `expected`; a trap, a wrong result
/// or a panic is an error, never a timing.
pub fn measure(
    rt: &dyn Runtime,
    workload: &Workload,
    wasm: &[u8],
    n: i32,
    expected: i64,
    runs: usize,
) -> Result<Measurement, BenchError> {
    let signature = workload
        .signature()
        .map_err(|e| BenchError::from_anyhow(Stage::Bind, &e))?;
    guarded(|| {
        let mut heap = None;
        let Prepared {
            mut instance,
            compile,
            instantiate,
        } = prepare(rt, &workload.export, signature, wasm, || {
            heap = PeakScope::start()
        })?;
        let first_call = checked_call(&mut *instance, n, expected)?;
        let runs = (0..runs)
            .map(|_| checked_call(&mut *instance, n, expected))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Measurement {
            compile,
            instantiate,
            first_call,
            runs,
            peak_heap: heap.map(|h| h.peak_bytes()),
        })
    })
}

/// Runs the workload's export once with `n` in a fresh instance and returns its result,
/// unchecked (for comparing engines at sizes without a known checksum).
pub fn run_once(rt: &dyn Runtime, workload: &Workload, n: i32) -> Result<i64, BenchError> {
    let signature = workload
        .signature()
        .map_err(|e| BenchError::from_anyhow(Stage::Bind, &e))?;
    let wasm = workload
        .wasm_bytes()
        .map_err(|e| BenchError::from_anyhow(Stage::Load, &e))?;
    guarded(|| {
        let mut p = prepare(rt, &workload.export, signature, &wasm, || {})?;
        p.instance
            .call(n)
            .map_err(|e| BenchError::from_anyhow(Stage::Call, &e))
    })
}

/// One workload's results, one entry per engine in the order of the engines passed in.
#[derive(Clone, Debug)]
pub struct Row {
    pub workload: Workload,
    pub n: i32,
    pub expected: i64,
    pub results: Vec<Result<Measurement, BenchError>>,
}

/// Measures every engine on `workload` at `size`, with `runs` timed calls each, against
/// the workload's checksum for that size.
pub fn bench_workload(
    runtimes: &[Box<dyn Runtime>],
    workload: &Workload,
    size: Size,
    runs: usize,
) -> Row {
    let n = workload.n_for(size);
    let expected = workload.checksum_for(size);
    bench_workload_with(runtimes, workload, n, expected, runs)
}

/// [`bench_workload`] with an explicit `n` and expected result.
pub fn bench_workload_with(
    runtimes: &[Box<dyn Runtime>],
    workload: &Workload,
    n: i32,
    expected: i64,
    runs: usize,
) -> Row {
    let results = match workload.wasm_bytes() {
        Ok(wasm) => runtimes
            .iter()
            .map(|rt| measure(rt.as_ref(), workload, &wasm, n, expected, runs))
            .collect(),
        Err(e) => {
            let error = BenchError::from_anyhow(Stage::Load, &e);
            runtimes.iter().map(|_| Err(error.clone())).collect()
        }
    };
    Row {
        workload: workload.clone(),
        n,
        expected,
        results,
    }
}
