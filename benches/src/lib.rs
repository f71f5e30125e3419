//! Benchmark harness: gloam's interpreter against wasmi on the shared workloads.
//!
//! The workloads live in `shared/bench/` beside the repository; `workloads.toml` lists
//! them. Each is one export `run(n) -> i64` (or `run(externref, n) -> i64`) whose result is
//! a checksum, so every timed call is also checked. A wrong answer is reported as an
//! error and never timed.
//!
//! For each engine and workload the harness measures:
//! - compile: `Module::new` on the binary, in a fresh default engine made beforehand (WAT
//!   files are converted to binary outside the timing, so both engines get the same bytes);
//! - instantiate: `Store::new` plus `Instance::new`;
//! - first call: the warm-up call (both engines translate functions lazily by default,
//!   so this includes translation);
//! - run: the median of R further calls.

use anyhow::{Context, Result, anyhow, bail};
use std::collections::BTreeMap;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// `workloads.toml` in the shared benchmark directory.
pub const WORKLOADS_TOML: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/bench/workloads.toml"
);

/// The directory that holds `workloads.toml`; workload files are relative to it.
pub fn bench_dir() -> PathBuf {
    Path::new(WORKLOADS_TOML)
        .parent()
        .expect("WORKLOADS_TOML has a parent directory")
        .to_path_buf()
}

// ---------------------------------------------------------------------------------------
// Workloads and the tiny TOML subset they are written in
// ---------------------------------------------------------------------------------------

/// A parameter type of a workload's export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param {
    /// Receives `n`.
    I32,
    /// Receives a non-null host reference.
    ExternRef,
}

/// The export signatures the harness can call (results are always `i64`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signature {
    /// `run(n: i32) -> i64`
    I32,
    /// `run(r: externref, n: i32) -> i64`
    ExternRefI32,
}

/// Which group a workload's ratio counts towards in the geomean rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A compiled C kernel (`.wasm` file).
    CKernel,
    /// A hand-written WAT micro benchmark.
    WatMicro,
}

/// Problem size: `n_quick` or the full `n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    Quick,
    Full,
}

/// One `[[workload]]` table of `workloads.toml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workload {
    pub name: String,
    /// Relative to [`bench_dir`].
    pub file: String,
    pub export: String,
    pub params: Vec<Param>,
    pub n: i32,
    pub checksum: i64,
    pub n_quick: i32,
    pub checksum_quick: i64,
}

impl Workload {
    pub fn path(&self) -> PathBuf {
        bench_dir().join(&self.file)
    }

    pub fn kind(&self) -> Kind {
        if self.file.ends_with(".wasm") {
            Kind::CKernel
        } else {
            Kind::WatMicro
        }
    }

    pub fn signature(&self) -> Result<Signature> {
        match self.params.as_slice() {
            [Param::I32] => Ok(Signature::I32),
            [Param::ExternRef, Param::I32] => Ok(Signature::ExternRefI32),
            other => bail!(
                "workload `{}`: unsupported parameter list {other:?}",
                self.name
            ),
        }
    }

    pub fn n_for(&self, size: Size) -> i32 {
        match size {
            Size::Quick => self.n_quick,
            Size::Full => self.n,
        }
    }

    pub fn checksum_for(&self, size: Size) -> i64 {
        match size {
            Size::Quick => self.checksum_quick,
            Size::Full => self.checksum,
        }
    }

    /// The module in the binary format (`.wat` files are converted with the `wat` crate).
    pub fn wasm_bytes(&self) -> Result<Vec<u8>> {
        let path = self.path();
        if self.file.ends_with(".wat") {
            wat::parse_file(&path).with_context(|| format!("converting {}", path.display()))
        } else {
            std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
        }
    }
}

/// gloam's own workloads (same format); their files are relative to this file's directory.
pub const LOCAL_WORKLOADS_TOML: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/workloads/workloads.toml");

/// Reads and parses [`WORKLOADS_TOML`], then [`LOCAL_WORKLOADS_TOML`] (whose file paths
/// become absolute).
pub fn load_workloads() -> Result<Vec<Workload>> {
    let text = std::fs::read_to_string(WORKLOADS_TOML)
        .with_context(|| format!("reading {WORKLOADS_TOML}"))?;
    let mut all = parse_workloads(&text).with_context(|| format!("parsing {WORKLOADS_TOML}"))?;
    let local = std::fs::read_to_string(LOCAL_WORKLOADS_TOML)
        .with_context(|| format!("reading {LOCAL_WORKLOADS_TOML}"))?;
    let dir = Path::new(LOCAL_WORKLOADS_TOML)
        .parent()
        .expect("has a parent");
    for mut w in
        parse_workloads(&local).with_context(|| format!("parsing {LOCAL_WORKLOADS_TOML}"))?
    {
        w.file = dir.join(&w.file).to_string_lossy().into_owned();
        all.push(w);
    }
    Ok(all)
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Value {
    Str(String),
    Int(i64),
    StrList(Vec<String>),
}

type Table = BTreeMap<String, Value>;

/// Parses the subset of TOML that `workloads.toml` uses: comments, `[[workload]]` table
/// headers, and one-line `key = value` pairs whose value is a basic string, a decimal
/// integer or an array of basic strings. Anything else is an error, not a guess.
pub fn parse_workloads(text: &str) -> Result<Vec<Workload>> {
    let mut tables: Vec<(usize, Table)> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let lineno = index + 1;
        let line = strip_comment(raw).trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('[') {
            let header: String = line.chars().filter(|c| !c.is_whitespace()).collect();
            if header != "[[workload]]" {
                bail!("line {lineno}: unsupported table header `{line}`");
            }
            tables.push((lineno, Table::new()));
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| anyhow!("line {lineno}: expected `key = value`"))?;
        let key = key.trim();
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            bail!("line {lineno}: unsupported key `{key}`");
        }
        let value = parse_value(value.trim()).with_context(|| format!("line {lineno}"))?;
        let (_, table) = tables
            .last_mut()
            .ok_or_else(|| anyhow!("line {lineno}: `{key}` outside a [[workload]] table"))?;
        if table.insert(key.to_string(), value).is_some() {
            bail!("line {lineno}: duplicate key `{key}`");
        }
    }
    tables
        .into_iter()
        .map(|(lineno, table)| {
            workload_from_table(table)
                .with_context(|| format!("in the [[workload]] table at line {lineno}"))
        })
        .collect()
}

/// The line up to a `#` that is not inside a string.
fn strip_comment(line: &str) -> &str {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else if c == '#' {
            return &line[..i];
        }
    }
    line
}

fn parse_value(s: &str) -> Result<Value> {
    if s.starts_with('"') {
        let (string, rest) = parse_string(s)?;
        if !rest.trim().is_empty() {
            bail!("unexpected `{}` after a string", rest.trim());
        }
        Ok(Value::Str(string))
    } else if let Some(mut rest) = s.strip_prefix('[') {
        let mut items = Vec::new();
        loop {
            rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix(']') {
                if !after.trim().is_empty() {
                    bail!("unexpected `{}` after an array", after.trim());
                }
                return Ok(Value::StrList(items));
            }
            if rest.is_empty() {
                bail!("unterminated array (arrays must fit on one line)");
            }
            let (item, after) = parse_string(rest)?;
            items.push(item);
            rest = after.trim_start();
            if let Some(after) = rest.strip_prefix(',') {
                rest = after;
            } else if !rest.starts_with(']') {
                bail!("expected `,` or `]` in an array");
            }
        }
    } else {
        parse_int(s).map(Value::Int)
    }
}

/// Parses a basic string at the start of `s`; returns it and the rest of `s`.
fn parse_string(s: &str) -> Result<(String, &str)> {
    let body = s
        .strip_prefix('"')
        .ok_or_else(|| anyhow!("expected a string, found `{s}`"))?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &body[i + 1..])),
            '\\' => match chars.next() {
                Some((_, '"')) => out.push('"'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                other => bail!("unsupported escape `\\{}`", other.map_or(' ', |(_, c)| c)),
            },
            c => out.push(c),
        }
    }
    bail!("unterminated string")
}

fn parse_int(s: &str) -> Result<i64> {
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        bail!("unsupported value `{s}` (expected a string, an integer or an array of strings)");
    }
    let digits: String = digits.chars().filter(|&c| c != '_').collect();
    // Parse with the sign attached so that i64::MIN is accepted.
    let signed = if negative {
        format!("-{digits}")
    } else {
        digits
    };
    signed
        .parse::<i64>()
        .map_err(|e| anyhow!("integer `{s}`: {e}"))
}

fn workload_from_table(mut t: Table) -> Result<Workload> {
    fn take(t: &mut Table, key: &str) -> Result<Value> {
        t.remove(key)
            .ok_or_else(|| anyhow!("missing required key `{key}`"))
    }
    fn string(t: &mut Table, key: &str) -> Result<String> {
        match take(t, key)? {
            Value::Str(s) => Ok(s),
            other => bail!("`{key}` must be a string, found {other:?}"),
        }
    }
    fn int(t: &mut Table, key: &str) -> Result<i64> {
        match take(t, key)? {
            Value::Int(i) => Ok(i),
            other => bail!("`{key}` must be an integer, found {other:?}"),
        }
    }
    fn size(t: &mut Table, key: &str) -> Result<i32> {
        let v = int(t, key)?;
        i32::try_from(v).map_err(|_| anyhow!("`{key}` = {v} does not fit an i32 parameter"))
    }

    let name = string(&mut t, "name")?;
    let file = string(&mut t, "file")?;
    if !(file.ends_with(".wasm") || file.ends_with(".wat")) {
        bail!("`file` = {file:?} must end in .wasm or .wat");
    }
    let export = string(&mut t, "export")?;
    let params = match take(&mut t, "params")? {
        Value::StrList(list) => list
            .iter()
            .map(|p| match p.as_str() {
                "i32" => Ok(Param::I32),
                "externref" => Ok(Param::ExternRef),
                other => bail!("unsupported parameter type {other:?}"),
            })
            .collect::<Result<Vec<_>>>()?,
        other => bail!("`params` must be an array of strings, found {other:?}"),
    };
    // The harness reads every result as an i64; refuse anything else rather than
    // misreading it.
    if let Some(result) = t.remove("result")
        && result != Value::Str("i64".into())
    {
        bail!("workload `{name}`: unsupported result type {result:?}");
    }
    let workload = Workload {
        n: size(&mut t, "n")?,
        checksum: int(&mut t, "checksum")?,
        n_quick: size(&mut t, "n_quick")?,
        checksum_quick: int(&mut t, "checksum_quick")?,
        name,
        file,
        export,
        params,
    };
    workload.signature()?;
    // Other keys (`source`, `stresses`) are documentation only.
    Ok(workload)
}

// ---------------------------------------------------------------------------------------
// Engines
// ---------------------------------------------------------------------------------------

/// A WebAssembly runtime under test. Each stage is a separate call so that the harness
/// does the timing itself, the same way for every runtime.
pub trait Runtime {
    /// Short name, used as the column heading.
    fn name(&self) -> &'static str;
    /// A fresh engine with the runtime's default configuration (one per workload, so
    /// nothing carries over between workloads).
    fn engine(&self) -> Result<Box<dyn Engine>>;
}

/// An engine of a [`Runtime`].
pub trait Engine {
    /// Compiles a binary module: validation, plus translation if the engine does it
    /// eagerly (gloam and wasmi both translate lazily by default).
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

/// gloam's interpreter with the default `Config`.
pub struct Gloam;

/// wasmi 2.x with the default `Config`.
pub struct Wasmi;

/// The engines compared by the harness, gloam first (ratios are gloam / wasmi).
pub fn runtimes() -> Vec<Box<dyn Runtime>> {
    vec![Box::new(Gloam), Box::new(Wasmi)]
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

impl Runtime for Gloam {
    fn name(&self) -> &'static str {
        "gloam"
    }

    fn engine(&self) -> Result<Box<dyn Engine>> {
        Ok(Box::new(gloam::Engine::default()))
    }
}

impl Engine for gloam::Engine {
    fn compile(&self, wasm: &[u8]) -> Result<Box<dyn Compiled>> {
        let module = gloam::Module::new(self, wasm)?;
        Ok(Box::new(GloamModule {
            engine: self.clone(),
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

impl Runtime for Wasmi {
    fn name(&self) -> &'static str {
        "wasmi"
    }

    fn engine(&self) -> Result<Box<dyn Engine>> {
        Ok(Box::new(wasmi::Engine::default()))
    }
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

// ---------------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------------

/// Timings of one engine on one workload; every call in it returned the right checksum.
#[derive(Clone, Debug)]
pub struct Measurement {
    pub compile: Duration,
    pub instantiate: Duration,
    /// The warm-up call (includes lazy translation).
    pub first_call: Duration,
    /// The timed calls after the warm-up, in order.
    pub runs: Vec<Duration>,
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
    fn new(stage: Stage, message: impl fmt::Display) -> BenchError {
        BenchError {
            stage,
            message: message.to_string(),
        }
    }

    fn from_anyhow(stage: Stage, e: &anyhow::Error) -> BenchError {
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
fn guarded<T>(f: impl FnOnce() -> Result<T, BenchError>) -> Result<T, BenchError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic payload".to_string());
        Err(BenchError::new(Stage::Panic, message))
    })
}

/// Compiles, instantiates and binds `wasm` in `rt`, returning the instance and the
/// compile and instantiate times.
fn prepare(
    rt: &dyn Runtime,
    workload: &Workload,
    wasm: &[u8],
) -> Result<(Box<dyn Instantiated>, Duration, Duration), BenchError> {
    let signature = workload
        .signature()
        .map_err(|e| BenchError::from_anyhow(Stage::Bind, &e))?;
    let engine = rt
        .engine()
        .map_err(|e| BenchError::from_anyhow(Stage::Compile, &e))?;
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
        .bind(&workload.export, signature)
        .map_err(|e| BenchError::from_anyhow(Stage::Bind, &e))?;
    Ok((instance, compile, instantiate))
}

/// Calls the export once and checks the result.
fn checked_call(
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
/// `runs` timed calls. Every call's result must equal `expected`.
pub fn measure(
    rt: &dyn Runtime,
    workload: &Workload,
    wasm: &[u8],
    n: i32,
    expected: i64,
    runs: usize,
) -> Result<Measurement, BenchError> {
    guarded(|| {
        let (mut instance, compile, instantiate) = prepare(rt, workload, wasm)?;
        let first_call = checked_call(&mut *instance, n, expected)?;
        let runs = (0..runs)
            .map(|_| checked_call(&mut *instance, n, expected))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Measurement {
            compile,
            instantiate,
            first_call,
            runs,
        })
    })
}

/// Runs the workload's export once with `n` in a fresh instance and returns its result,
/// unchecked (for comparing engines at sizes without a known checksum).
pub fn run_once(rt: &dyn Runtime, workload: &Workload, n: i32) -> Result<i64, BenchError> {
    let wasm = workload
        .wasm_bytes()
        .map_err(|e| BenchError::from_anyhow(Stage::Load, &e))?;
    guarded(|| {
        let (mut instance, _, _) = prepare(rt, workload, &wasm)?;
        instance
            .call(n)
            .map_err(|e| BenchError::from_anyhow(Stage::Call, &e))
    })
}

/// One workload's results, one entry per engine in the order of the engines passed in.
#[derive(Clone, Debug)]
pub struct Row {
    pub workload: Workload,
    pub n: i32,
    pub results: Vec<Result<Measurement, BenchError>>,
}

/// Measures every engine on `workload` at `size`, with `runs` timed calls each.
pub fn bench_workload(
    runtimes: &[Box<dyn Runtime>],
    workload: &Workload,
    size: Size,
    runs: usize,
) -> Row {
    let n = workload.n_for(size);
    let expected = workload.checksum_for(size);
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
        results,
    }
}

// ---------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// The ratio of the first engine's median run time to the second's, when both passed.
pub fn ratio(row: &Row) -> Option<f64> {
    match row.results.as_slice() {
        [Ok(a), Ok(b), ..] if !b.median().is_zero() => {
            Some(a.median().as_secs_f64() / b.median().as_secs_f64())
        }
        _ => None,
    }
}

/// The geometric mean of the ratios of the rows of `kind` that have one, and how many
/// rows of that kind there are in all.
pub fn geomean(rows: &[Row], kind: Kind) -> (Option<f64>, usize, usize) {
    let of_kind: Vec<&Row> = rows.iter().filter(|r| r.workload.kind() == kind).collect();
    let ratios: Vec<f64> = of_kind.iter().filter_map(|r| ratio(r)).collect();
    let mean = (!ratios.is_empty())
        .then(|| (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp());
    (mean, ratios.len(), of_kind.len())
}

/// Renders the results: the median-run table with gloam/wasmi ratios and geomean rows,
/// a table of compile/instantiate/first-call times and the run spread, and every error
/// in full.
pub fn render(names: &[&str], rows: &[Row]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let ratio_heading = match names {
        [a, b, ..] => format!("{a}/{b}"),
        _ => "ratio".to_string(),
    };
    let name_width = rows
        .iter()
        .map(|r| r.workload.name.len())
        .chain([26])
        .max()
        .unwrap_or(26);

    // Median run times.
    let _ = write!(out, "{:<name_width$} {:>10}", "workload", "n");
    for name in names {
        let _ = write!(out, " {:>14}", format!("{name} ms"));
    }
    let _ = writeln!(out, " {ratio_heading:>12}");
    let rule = "-".repeat(name_width + 11 + 15 * names.len() + 13);
    let _ = writeln!(out, "{rule}");
    for row in rows {
        let _ = write!(out, "{:<name_width$} {:>10}", row.workload.name, row.n);
        for result in &row.results {
            let cell = match result {
                Ok(m) => format!("{:.2}", ms(m.median())),
                Err(e) => format!("ERR {}", e.stage.label()),
            };
            let _ = write!(out, " {cell:>14}");
        }
        let cell = ratio(row).map_or_else(|| "-".to_string(), |r| format!("{r:.2}"));
        let _ = writeln!(out, " {cell:>12}");
    }
    let _ = writeln!(out, "{rule}");
    for (kind, label) in [(Kind::CKernel, "C kernels"), (Kind::WatMicro, "WAT micros")] {
        let (mean, counted, total) = geomean(rows, kind);
        if total == 0 {
            continue;
        }
        let heading = format!("geomean {label} ({counted}/{total})");
        let cell = mean.map_or_else(|| "-".to_string(), |m| format!("{m:.2}"));
        let pad = 11 + 15 * names.len();
        let _ = writeln!(out, "{heading:<name_width$} {:>pad$} {cell:>12}", "");
    }

    // Load times and spread.
    let _ = writeln!(out);
    let _ = write!(out, "{:<name_width$}", "workload");
    for name in names {
        let _ = write!(
            out,
            " {:>12} {:>10} {:>11} {:>17}",
            format!("{name} comp us"),
            "inst us",
            "1st call ms",
            "runs min-max ms"
        );
    }
    let _ = writeln!(out);
    for row in rows {
        let _ = write!(out, "{:<name_width$}", row.workload.name);
        for result in &row.results {
            match result {
                Ok(m) => {
                    let _ = write!(
                        out,
                        " {:>12.0} {:>10.0} {:>11.2} {:>17}",
                        us(m.compile),
                        us(m.instantiate),
                        ms(m.first_call),
                        format!("{:.2}-{:.2}", ms(m.min()), ms(m.max()))
                    );
                }
                Err(e) => {
                    let _ = write!(
                        out,
                        " {:>12} {:>10} {:>11} {:>17}",
                        format!("ERR {}", e.stage.label()),
                        "-",
                        "-",
                        "-"
                    );
                }
            }
        }
        let _ = writeln!(out);
    }

    // Errors in full.
    let errors: Vec<String> = rows
        .iter()
        .flat_map(|row| {
            names.iter().zip(&row.results).filter_map(move |(name, r)| {
                r.as_ref()
                    .err()
                    .map(|e| format!("  {} / {name}: {e}", row.workload.name))
            })
        })
        .collect();
    if !errors.is_empty() {
        let _ = writeln!(out, "\nerrors ({}):", errors.len());
        for e in errors {
            let _ = writeln!(out, "{e}");
        }
    }
    out
}

/// Prints [`render`] to standard output.
pub fn print_table(names: &[&str], rows: &[Row]) {
    print!("{}", render(names, rows));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload(name: &str) -> Workload {
        load_workloads()
            .unwrap()
            .into_iter()
            .find(|w| w.name == name)
            .unwrap_or_else(|| panic!("no workload `{name}`"))
    }

    #[test]
    fn parses_all_fifteen_workloads_and_the_local_ones() {
        let workloads = load_workloads().unwrap();
        assert_eq!(workloads.len(), 17);
        let names: Vec<&str> = workloads.iter().map(|w| w.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "fib",
                "sieve",
                "nbody",
                "matmul",
                "hash",
                "sort",
                "vm",
                "memops",
                "call",
                "call_indirect",
                "br_table",
                "loop",
                "memory",
                "select_and_locals",
                "externref",
                "simd",
                "simd_scalar"
            ]
        );
        let fib = &workloads[0];
        assert_eq!(
            fib,
            &Workload {
                name: "fib".into(),
                file: "wasm/fib.wasm".into(),
                export: "run".into(),
                params: vec![Param::I32],
                n: 40,
                checksum: 102334155,
                n_quick: 32,
                checksum_quick: 2178309,
            }
        );
        let sieve = &workloads[1];
        assert_eq!(sieve.checksum, -4270341053809766775);
        assert_eq!(sieve.checksum_quick, 6910870608841601597);
        let externref = &workloads[14];
        assert_eq!(externref.params, [Param::ExternRef, Param::I32]);
        assert_eq!(externref.signature().unwrap(), Signature::ExternRefI32);
        assert_eq!(externref.checksum, -1520510907129821758);
        assert_eq!(externref.checksum_quick, 5189298621044565170);
        assert_eq!(
            workloads
                .iter()
                .filter(|w| w.kind() == Kind::CKernel)
                .count(),
            10,
            "8 shared C kernels and the SIMD pair"
        );
        for w in &workloads {
            assert!(w.path().is_file(), "{} is missing", w.path().display());
            assert!(w.n_quick < w.n, "{}", w.name);
        }
    }

    #[test]
    fn parser_handles_the_format_and_rejects_the_rest() {
        let text = r#"
# comment
[[workload]]
name = "a#b"   # trailing comment
file = "wat/x.wat"
export = "run"
params = [ "externref" , "i32", ]
n = 1_000
checksum = -9223372036854775808
n_quick = +10
checksum_quick = 9223372036854775807
stresses = "ignored"
"#;
        let w = parse_workloads(text).unwrap();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].name, "a#b");
        assert_eq!(w[0].n, 1000);
        assert_eq!(w[0].n_quick, 10);
        assert_eq!(w[0].checksum, i64::MIN);
        assert_eq!(w[0].checksum_quick, i64::MAX);
        assert_eq!(w[0].kind(), Kind::WatMicro);

        for bad in [
            "name = \"x\"",                             // outside a table
            "[other]",                                  // other table
            "[[workload]]\nname = 1.5",                 // float
            "[[workload]]\nname = \"x",                 // unterminated string
            "[[workload]]\nparams = [\"i32\"",          // unterminated array
            "[[workload]]\nname = \"x\"\nname = \"y\"", // duplicate key
            "[[workload]]\nname = \"x\"",               // missing keys
        ] {
            assert!(parse_workloads(bad).is_err(), "accepted {bad:?}");
        }
        let n_too_big = text.replace("n = 1_000", "n = 3000000000");
        assert!(parse_workloads(&n_too_big).is_err());
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        let d = Duration::from_millis;
        assert_eq!(median(&[d(5), d(1), d(3)]), d(3));
        assert_eq!(
            median(&[d(4), d(1), d(2), d(3)]),
            Duration::from_micros(2500)
        );
        assert_eq!(median(&[]), Duration::ZERO);
    }

    /// Runs `f` on a thread with a 64 MiB stack.
    ///
    /// wasmi 2 dispatches with tail calls between instruction handlers. In this
    /// workspace's test profile (dependencies at opt-level 2, debug assertions on) they
    /// are not turned into jumps, so wasmi's native stack grows with every instruction a
    /// call executes: `fib` at n = 20 overflows even an 8 MiB main thread. The bench
    /// profile (release settings) is not affected. The tests keep n small and give the
    /// engines room anyway.
    fn with_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
        std::thread::scope(|s| {
            std::thread::Builder::new()
                .stack_size(64 << 20)
                .spawn_scoped(s, f)
                .expect("spawning a test thread")
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e))
        })
    }

    /// Runs `name` with each n through both engines and requires equal results.
    fn engines_agree(name: &str, sizes: &[i32]) -> Vec<i64> {
        let w = workload(name);
        with_big_stack(|| {
            sizes
                .iter()
                .map(|&n| {
                    let got_gloam = run_once(&Gloam, &w, n).unwrap();
                    let got_wasmi = run_once(&Wasmi, &w, n).unwrap();
                    assert_eq!(got_gloam, got_wasmi, "{name} with n = {n}: gloam vs wasmi");
                    got_gloam
                })
                .collect()
        })
    }

    #[test]
    fn loop_agrees_between_engines() {
        let results = engines_agree("loop", &[0, 1, 7, 500, 2000]);
        // Different sizes give different checksums, so the comparison is not vacuous.
        assert_ne!(results[3], results[4]);
    }

    #[test]
    fn fib_agrees_between_engines() {
        let results = engines_agree("fib", &[0, 1, 2, 10, 15]);
        // The workload returns fib(n), so these are known.
        assert_eq!(results, [0, 1, 1, 55, 610]);
    }

    #[test]
    fn measure_reports_a_wrong_checksum_as_an_error() {
        let w = workload("fib");
        let wasm = w.wasm_bytes().unwrap();
        for rt in runtimes() {
            let m = measure(rt.as_ref(), &w, &wasm, 10, 55, 2).unwrap();
            assert_eq!(m.runs.len(), 2);
            let err = measure(rt.as_ref(), &w, &wasm, 10, 56, 2).unwrap_err();
            assert_eq!(err.stage, Stage::Checksum, "{}: {err}", rt.name());
            assert_eq!(err.message, "n = 10: expected 56, got 55");
        }
        let row = Row {
            workload: w,
            n: 10,
            results: vec![
                Err(BenchError::new(
                    Stage::Checksum,
                    "n = 10: expected 56, got 55",
                )),
                measure(&Wasmi, &workload("fib"), &wasm, 10, 55, 1),
            ],
        };
        let table = render(&["gloam", "wasmi"], &[row]);
        assert!(table.contains("ERR checksum"), "{table}");
        assert!(table.contains("fib / gloam: checksum: n = 10: expected 56, got 55"));
    }

    #[test]
    fn externref_agrees_between_engines() {
        let results = engines_agree("externref", &[0, 1, 9, 100]);
        assert_ne!(results[2], results[3]);
    }
}
