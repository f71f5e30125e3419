//! The `gloam` command-line tool.

use anyhow::{Context, Result, anyhow, bail};
use gloam::wasi::{DirPerms, FilePerms, I32Exit, WasiCtx, WasiCtxBuilder};
use gloam::{
    Config, Engine, Instance, Linker, Module, Store, StoreLimits, StoreLimitsBuilder, Trap, Val,
    ValType, WasmBacktrace,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// `println!` that ends the process quietly when stdout is a closed pipe (`| head`).
macro_rules! out {
    () => {
        write_stdout("\n")
    };
    ($($t:tt)*) => {
        write_stdout(&format!("{}\n", format_args!($($t)*)))
    };
}

/// `print!` with the same closed-pipe handling as `out!`.
macro_rules! outp {
    ($($t:tt)*) => {
        write_stdout(&format!($($t)*))
    };
}

fn write_stdout(s: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_all(s.as_bytes()).and_then(|()| stdout.flush())
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

const USAGE: &str = "\
usage:
  gloam run FILE.(wasm|wat) [--dir HOST[::GUEST]] [--env K[=V]] [--invoke NAME]
            [--mode interp|jit|tiered] [--fuel N] [--timeout DURATION]
            [--max-memory BYTES] [--] [ARGS...]
                                                        run a WASI command (`_start`, ARGS are
                                                        its argv) or, with --invoke, call one
                                                        function (ARGS are its arguments) and
                                                        print the results; --fuel, --timeout
                                                        (e.g. 500ms, 10s, 2m) and --max-memory
                                                        (bytes per memory, K/M/G suffixes)
                                                        bound what it may use
  gloam validate FILE                                   validate a module
  gloam disas FILE [--func N|NAME] [--jit]              print the register bytecode (and
                                                        whether the JIT compiles each function)
  gloam gc-trace FILE --invoke NAME [ARGS...] [--json] [--step] [--break-on alloc|gc|free]
                 [--why ID]                              trace rooting and collection
  gloam wast FILES... [--mode interp|jit|tiered] [--wasm 2.0|3.0] [--gc-stress] [-v]
                                                        run spec test scripts (Wasm 3.0
                                                        by default; 2.0 for core-2.0)
  gloam bench [--engines LIST] [--workloads LIST] [--runs N] [--quick] [--baseline ENGINE]
              [--json] [--large]                       benchmarks (runs the gloam-bench binary
                                                        built beside this one; --help for more)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("validate") => validate(&args[1..]),
        Some("disas") => disas(&args[1..]),
        Some("wast") => wast(&args[1..]),
        Some("gc-trace") => gc_trace(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("-h" | "--help" | "help") => {
            outp!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            eprint!("{USAGE}");
            Ok(ExitCode::from(2))
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            report(&e);
            ExitCode::FAILURE
        }
    }
}

/// Prints an error; a trap is shown as its message followed by the wasm backtrace.
fn report(e: &anyhow::Error) {
    if let Some(trap) = e.downcast_ref::<Trap>() {
        if matches!(trap, Trap::OutOfFuel | Trap::Interrupt) {
            // The context `explain_limit` added: which limit it was.
            eprintln!("error: {e}");
        }
        eprintln!("error: {trap}");
        if let Some(bt) = e.downcast_ref::<WasmBacktrace>() {
            eprint!("{bt}");
        }
    } else {
        eprintln!("error: {e:#}");
    }
}

fn engine() -> Result<Engine> {
    Engine::new(&Config::new())
}

/// The store data of `gloam run`: the WASI context of the program and its limits.
struct RunState {
    wasi: WasiCtx,
    limits: StoreLimits,
}

/// `--timeout`: `500ms`, `10s`, `2m`, `1h`, or plain seconds (fractions allowed).
fn parse_duration(s: &str) -> Result<Duration> {
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| anyhow!("bad duration `{s}` (expected e.g. 500ms, 10s, 2m)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => bail!("bad duration unit in `{s}` (use ms, s, m or h)"),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| anyhow!("bad duration `{s}`"))
}

/// `--max-memory`: bytes, with an optional K, M or G suffix (powers of 1024).
fn parse_bytes(s: &str) -> Result<usize> {
    let (num, shift) = match s.as_bytes().last() {
        Some(b'K' | b'k') => (&s[..s.len() - 1], 10),
        Some(b'M' | b'm') => (&s[..s.len() - 1], 20),
        Some(b'G' | b'g') => (&s[..s.len() - 1], 30),
        _ => (s, 0),
    };
    let n: usize = num
        .parse()
        .map_err(|_| anyhow!("bad byte count `{s}` (expected e.g. 1048576, 64K, 16M)"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| anyhow!("byte count `{s}` is too large"))
}

fn run(args: &[String]) -> Result<ExitCode> {
    let mut file = None;
    let mut invoke = None;
    let mut rest = Vec::new();
    let mut dirs = Vec::new();
    let mut envs = Vec::new();
    let mut threshold = None;
    let (mut fuel, mut timeout, mut max_memory) = (None, None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| anyhow!("{name} needs a value"))
        };
        match a.as_str() {
            "--invoke" => invoke = Some(value("--invoke")?),
            "--mode" => threshold = parse_mode(&value("--mode")?)?,
            "--dir" => dirs.push(value("--dir")?),
            "--env" => envs.push(value("--env")?),
            "--fuel" => {
                let v = value("--fuel")?;
                fuel = Some(v.parse::<u64>().map_err(|_| anyhow!("bad --fuel `{v}`"))?);
            }
            "--timeout" => timeout = Some(parse_duration(&value("--timeout")?)?),
            "--max-memory" => max_memory = Some(parse_bytes(&value("--max-memory")?)?),
            "--" => rest.extend(it.by_ref().cloned()),
            _ if file.is_none() => file = Some(PathBuf::from(a)),
            _ => rest.push(a.clone()),
        }
    }
    // `gloam run [OPTIONS] -- FILE ARGS...`
    if file.is_none() && !rest.is_empty() {
        file = Some(PathBuf::from(rest.remove(0)));
    }
    let file = file.ok_or_else(|| anyhow!("run: missing FILE\n{USAGE}"))?;
    let mut config = Config::new();
    config.jit_threshold(threshold);
    config
        .consume_fuel(fuel.is_some())
        .epoch_interruption(timeout.is_some());
    let engine = Engine::new(&config)?;
    let module = Module::from_file(&engine, &file)?;

    let mut wasi = WasiCtxBuilder::new();
    wasi.inherit_stdio().arg(file.to_string_lossy());
    if invoke.is_none() {
        wasi.args(&rest);
    }
    for e in &envs {
        match e.split_once('=') {
            Some((k, v)) => wasi.env(k, v),
            // `--env NAME` passes the host's value on, as wasmtime does.
            None => match std::env::var(e) {
                Ok(v) => wasi.env(e, v),
                Err(_) => &mut wasi,
            },
        };
    }
    for d in &dirs {
        let (host, guest) = match d.split_once("::") {
            Some((h, g)) => (h, g),
            None => (d.as_str(), d.as_str()),
        };
        wasi.preopened_dir(host, guest, DirPerms::all(), FilePerms::all())?;
    }
    let mut limits = StoreLimitsBuilder::new();
    if let Some(bytes) = max_memory {
        limits = limits.memory_size(bytes);
    }
    let state = RunState {
        wasi: wasi.build(),
        limits: limits.build(),
    };
    let mut store = Store::new(&engine, state);
    store.limiter(|s| &mut s.limits);
    if let Some(fuel) = fuel {
        store.set_fuel(fuel)?;
    }
    if let Some(timeout) = timeout {
        // The deadline is one tick away; a timer thread makes that tick.
        store.set_epoch_deadline(1);
        let engine = engine.clone();
        std::thread::spawn(move || {
            std::thread::sleep(timeout);
            engine.increment_epoch();
        });
    }
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "print_i32", |x: i32| out!("{x}"))?;
    linker.func_wrap("host", "print_i64", |x: i64| out!("{x}"))?;
    linker.func_wrap("host", "print_f32", |x: f32| out!("{x}"))?;
    linker.func_wrap("host", "print_f64", |x: f64| out!("{x}"))?;
    gloam::wasi::add_to_linker(&mut linker, |s: &mut RunState| &mut s.wasi)?;
    let instance = linker
        .instantiate(&mut store, &module)
        .map_err(|e| explain_limit(e, fuel, timeout, max_memory))?;
    let outcome = match invoke {
        // A WASI command: `_start` with the arguments as argv.
        None => match instance.get_func(&mut store, "_start") {
            Some(start) => {
                let ty = start.ty(&store);
                if !ty.params().is_empty() || !ty.results().is_empty() {
                    bail!("`_start` has type {ty}, expected [] -> []");
                }
                start.call(&mut store, &[], &mut [])
            }
            None if rest.is_empty() => return Ok(ExitCode::SUCCESS),
            None => bail!("the module exports no `_start`; use --invoke NAME to call a function"),
        },
        Some(name) => invoke_func(&mut store, &instance, &name, &rest),
    };
    match outcome {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => match e.downcast_ref::<I32Exit>() {
            // What a Unix parent sees of exit(code): the low byte.
            Some(exit) => Ok(ExitCode::from(exit.0 as u8)),
            None => Err(explain_limit(e, fuel, timeout, max_memory)),
        },
    }
}

/// Adds which command-line limit stopped the program, if one did.
fn explain_limit(
    e: anyhow::Error,
    fuel: Option<u64>,
    timeout: Option<Duration>,
    max_memory: Option<usize>,
) -> anyhow::Error {
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => {
            let fuel = fuel.unwrap_or(0);
            e.context(format!("the program ran out of fuel (--fuel {fuel})"))
        }
        Some(Trap::Interrupt) => {
            let t = timeout.unwrap_or_default();
            e.context(format!(
                "the program ran past its time limit (--timeout {t:?})"
            ))
        }
        _ if max_memory.is_some() && format!("{e:#}").contains("exceeds memory limits") => {
            let max = max_memory.unwrap_or(0);
            e.context(format!(
                "the program needs more memory than --max-memory {max} allows"
            ))
        }
        _ => e,
    }
}

/// `--invoke NAME ARGS...`: calls an export with arguments parsed by its parameter
/// types and prints the results. A library-style WASI module ("reactor") is set up by
/// its `_initialize` first.
fn invoke_func(
    store: &mut Store<RunState>,
    instance: &Instance,
    name: &str,
    rest: &[String],
) -> Result<()> {
    let func = instance
        .get_func(&mut *store, name)
        .ok_or_else(|| anyhow!("no exported function named `{name}`"))?;
    let ty = func.ty(&*store);
    let params = parse_args(name, &ty, rest)?;
    if name != "_initialize"
        && let Some(init) = instance.get_func(&mut *store, "_initialize")
    {
        init.call(&mut *store, &[], &mut [])?;
    }
    let mut results = vec![Val::I32(0); ty.results().len()];
    func.call(&mut *store, &params, &mut results)?;
    for r in &results {
        out!("{}", show(r));
    }
    Ok(())
}

fn gc_trace(args: &[String]) -> Result<ExitCode> {
    let mut file = None;
    let mut invoke = None;
    let mut rest = Vec::new();
    let mut opts = gloam::gc_trace::TraceOptions::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| anyhow!("{name} needs a value"))
        };
        match a.as_str() {
            "--invoke" => invoke = Some(value("--invoke")?),
            "--json" => opts.json = true,
            "--step" => opts.step = true,
            "--break-on" => opts.break_on = Some(value("--break-on")?),
            "--why" => {
                let id = value("--why")?;
                let id = id.trim_start_matches('#');
                opts.why = Some(
                    id.parse()
                        .with_context(|| format!("--why takes an object id, not `{id}`"))?,
                );
            }
            _ if file.is_none() => file = Some(PathBuf::from(a)),
            _ => rest.push(a.clone()),
        }
    }
    let file = file.ok_or_else(|| anyhow!("gc-trace: missing FILE\n{USAGE}"))?;
    let invoke = invoke.ok_or_else(|| anyhow!("gc-trace: --invoke NAME is required"))?;
    let engine = engine()?;
    let module = Module::from_file(&engine, &file)?;
    let ty = module
        .get_export(&invoke)
        .and_then(|t| {
            if let gloam::ExternType::Func(f) = t {
                Some(f)
            } else {
                None
            }
        })
        .ok_or_else(|| anyhow!("no exported function named `{invoke}`"))?;
    let params = parse_args(&invoke, &ty, &rest)?;
    let input = Box::new(std::io::BufReader::new(std::io::stdin()));
    let results = gloam::gc_trace::run(
        &file,
        &invoke,
        &params,
        opts,
        input,
        Box::new(std::io::stdout()),
    )?;
    for r in &results {
        out!("result: {}", show(r));
    }
    Ok(ExitCode::SUCCESS)
}

/// Parses command-line arguments for function `name` of type `ty`.
fn parse_args(name: &str, ty: &gloam::FuncType, args: &[String]) -> Result<Vec<Val>> {
    if args.len() != ty.params().len() {
        bail!(
            "`{name}` takes {} arguments ({ty}), {} given",
            ty.params().len(),
            args.len()
        );
    }
    ty.params()
        .iter()
        .zip(args)
        .map(|(t, s)| parse_arg(*t, s))
        .collect()
}

fn parse_int(s: &str) -> Result<i128> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let v = match digits.strip_prefix("0x") {
        Some(h) => i128::from_str_radix(h, 16),
        None => digits.parse::<i128>(),
    }
    .with_context(|| format!("invalid integer `{s}`"))?;
    Ok(if neg { -v } else { v })
}

fn parse_arg(ty: ValType, s: &str) -> Result<Val> {
    Ok(match ty {
        ValType::I32 => {
            let v = parse_int(s)?;
            if !(i32::MIN as i128..=u32::MAX as i128).contains(&v) {
                bail!("`{s}` does not fit in i32");
            }
            Val::I32(v as i32)
        }
        ValType::I64 => {
            let v = parse_int(s)?;
            if !(i64::MIN as i128..=u64::MAX as i128).contains(&v) {
                bail!("`{s}` does not fit in i64");
            }
            Val::I64(v as i64)
        }
        ValType::F32 => Val::F32(
            s.parse::<f32>()
                .with_context(|| format!("invalid f32 `{s}`"))?
                .to_bits(),
        ),
        ValType::F64 => Val::F64(
            s.parse::<f64>()
                .with_context(|| format!("invalid f64 `{s}`"))?
                .to_bits(),
        ),
        // A v128 as one 128-bit integer (hex `0x...` or decimal): byte i is bits 8i..8i+8,
        // the form results are printed in.
        ValType::V128 => {
            let v = match s.strip_prefix("0x") {
                Some(h) => u128::from_str_radix(&h.replace('_', ""), 16),
                None => s.parse::<u128>(),
            }
            .with_context(|| format!("invalid v128 `{s}` (a 128-bit integer)"))?;
            Val::V128(v.into())
        }
        other => bail!("cannot pass a {other} argument from the command line"),
    })
}

fn show(v: &Val) -> String {
    match v {
        Val::I32(x) => x.to_string(),
        Val::I64(x) => x.to_string(),
        Val::F32(b) => f32::from_bits(*b).to_string(),
        Val::F64(b) => f64::from_bits(*b).to_string(),
        Val::V128(x) => format!("{:#034x}", x.as_u128()),
        Val::FuncRef(None) | Val::ExternRef(None) | Val::ExnRef(None) => "null".to_string(),
        Val::ExnRef(Some(_)) => "exnref".to_string(),
        Val::FuncRef(Some(_)) => "funcref".to_string(),
        Val::ExternRef(Some(_)) => "externref".to_string(),
    }
}

/// `gloam bench ARGS...`: runs the `gloam-bench` binary of the same target directory
/// (the benches crate, which holds the peer runtimes gloam itself does not depend on)
/// with ARGS, and exits with its status.
fn bench(args: &[String]) -> Result<ExitCode> {
    let exe = std::env::current_exe().context("finding this executable")?;
    let dir = exe
        .parent()
        .ok_or_else(|| anyhow!("{} has no parent directory", exe.display()))?;
    let bench = dir.join(format!("gloam-bench{}", std::env::consts::EXE_SUFFIX));
    if !bench.is_file() {
        // A gloam in target/debug needs a debug gloam-bench beside it; any other one is
        // taken for a release build.
        let profile = match dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") => "",
            _ => " --release",
        };
        bail!(
            "`gloam bench` runs {}, which is not built; build it with\n  \
             cargo build{profile} -p gloam-benches --bin gloam-bench\n\
             (add `--features peers-wasmtime` for the wasmtime engines)",
            bench.display()
        );
    }
    let status = std::process::Command::new(&bench)
        .args(args)
        .status()
        .with_context(|| format!("running {}", bench.display()))?;
    Ok(match status.code() {
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        // Killed by a signal: report it as a failure.
        None => {
            eprintln!("error: {} ended by {status}", bench.display());
            ExitCode::FAILURE
        }
    })
}

fn validate(args: &[String]) -> Result<ExitCode> {
    let [file] = args else {
        bail!("validate: expected one FILE\n{USAGE}")
    };
    Module::from_file(&engine()?, file)?;
    out!("ok");
    Ok(ExitCode::SUCCESS)
}

fn disas(args: &[String]) -> Result<ExitCode> {
    let mut file = None;
    let mut only = None;
    let mut jit = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--jit" => jit = true,
            "--func" => {
                only = Some(
                    it.next()
                        .ok_or_else(|| anyhow!("--func needs N or NAME"))?
                        .clone(),
                )
            }
            _ => file = Some(a.clone()),
        }
    }
    let file = file.ok_or_else(|| anyhow!("disas: missing FILE\n{USAGE}"))?;
    let module = if jit {
        if !Config::jit_available() {
            bail!("this build has no JIT (--jit needs the `jit` feature on x86-64 or aarch64)");
        }
        let mut config = Config::new();
        config.jit_threshold(Some(0));
        Module::from_file(&Engine::new(&config)?, &file)?
    } else {
        Module::from_file(&engine()?, &file)?
    };
    let jit_outcomes = if jit {
        module.jit_compile_all()?
    } else {
        Vec::new()
    };
    let core = module.core();
    let mut shown = 0;
    for def in 0..core.num_defined_funcs() {
        let index = core.num_imported_funcs + def;
        let name = core.func_name(index).map(str::to_string).or_else(|| {
            core.exports
                .iter()
                .find(|e| e.kind == gloam_interp::module::ExportKind::Func && e.index == index)
                .map(|e| e.name.clone())
        });
        if let Some(sel) = &only
            && sel != &index.to_string()
            && Some(sel) != name.as_ref()
        {
            continue;
        }
        shown += 1;
        let code = core
            .code(def)
            .map_err(|e| anyhow!("function {index}: {e}"))?;
        out!(
            "func {index}{} {}  ; frame {} cells ({} params, {} locals)",
            name.map(|n| format!(" ${n}")).unwrap_or_default(),
            core.func_type(index),
            code.frame_size,
            code.param_cells,
            code.local_cells
        );
        if let Some(o) = jit_outcomes.iter().find(|o| o.func_index == index) {
            match &o.result {
                Ok(bytes) => out!("  ; jit: native, {bytes} bytes of machine code"),
                Err(why) => out!("  ; jit: interpreted ({why})"),
            }
        }
        let const_base = code.param_cells + code.local_cells;
        for (i, c) in code.consts.iter().enumerate() {
            out!("  ; r{} = const {c:#x}", const_base as usize + i);
        }
        for h in code.handlers.iter() {
            let catches: Vec<String> = h
                .catches
                .iter()
                .map(|c| {
                    let tag = c.tag.map_or("all".to_string(), |t| format!("tag {t}"));
                    let r = if c.with_ref { " +exnref" } else { "" };
                    format!("{tag}{r} -> r{} @{}", c.dst, c.target)
                })
                .collect();
            out!(
                "  ; try_table @{}..@{}: {}",
                h.start,
                h.end,
                catches.join(", ")
            );
        }
        // One function with `--jit`: its machine code under each instruction.
        if !(jit && only.is_some() && print_with_machine_code(&module, index, &code.code)) {
            for (pc, instr) in code.code.iter().enumerate() {
                out!("  {pc:>5}: {instr}");
            }
        }
        out!();
    }
    if jit && only.is_none() {
        let native: Vec<usize> = jit_outcomes
            .iter()
            .filter_map(|o| o.result.as_ref().ok().copied())
            .collect();
        out!(
            "; jit: {} of {} functions native ({} bytes of machine code)",
            native.len(),
            jit_outcomes.len(),
            native.iter().sum::<usize>()
        );
    }
    if shown == 0 {
        bail!("no function matches {}", only.unwrap_or_default());
    }
    Ok(ExitCode::SUCCESS)
}

/// Calls before a function is compiled in `--mode tiered`: small, so that tier-up happens
/// in the middle of a test script.
const TIERED_THRESHOLD: u32 = 2;

/// `--mode interp|jit|tiered` as a `Config::jit_threshold`.
fn parse_mode(mode: &str) -> Result<Option<u32>> {
    let threshold = match mode {
        "interp" => return Ok(None),
        "jit" => Some(0),
        "tiered" => Some(TIERED_THRESHOLD),
        m => bail!("unknown mode `{m}` (modes: interp, jit, tiered)"),
    };
    if !Config::jit_available() {
        bail!(
            "this build has no JIT (modes jit and tiered need the `jit` feature on x86-64 or aarch64)"
        );
    }
    Ok(threshold)
}

fn wast(args: &[String]) -> Result<ExitCode> {
    let mut files = Vec::new();
    let mut verbose = false;
    let mut gc_stress = false;
    let mut threshold = None;
    let mut wasm_3_0 = true;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--mode" => {
                threshold = parse_mode(it.next().ok_or_else(|| anyhow!("--mode needs a value"))?)?
            }
            "--wasm" => {
                wasm_3_0 = match it.next().map(String::as_str) {
                    Some("2.0") => false,
                    Some("3.0") => true,
                    other => bail!("--wasm takes 2.0 or 3.0, not {other:?}"),
                }
            }
            "-v" | "--verbose" => verbose = true,
            "--gc-stress" => gc_stress = true,
            _ => files.push(PathBuf::from(a)),
        }
    }
    if files.is_empty() {
        bail!("wast: no files\n{USAGE}");
    }
    let mut config = Config::new();
    config
        .gc_stress(gc_stress)
        .jit_threshold(threshold)
        .wasm_3_0(wasm_3_0);
    let (mut passed, mut failed) = (0, 0);
    for file in &files {
        match gloam::wast::run_wast_file(Path::new(file), &config) {
            Ok(stats) => {
                if verbose {
                    out!(
                        "{}: {} passed, {} failed",
                        file.display(),
                        stats.passed,
                        stats.failed
                    );
                }
                for f in &stats.failures {
                    out!("  FAIL {f}");
                }
                passed += stats.passed;
                failed += stats.failed;
            }
            Err(e) => {
                out!("  FAIL {}: {e:#}", file.display());
                failed += 1;
            }
        }
    }
    out!("{passed} passed, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Prints the bytecode with each instruction's machine code under it (x86-64: Intel
/// syntax; other targets: the raw instruction words in hex, as there is no disassembler
/// for them here; offsets from the function's start), then the entry and the out-of-line
/// paths. Returns false, printing nothing, when the JIT has no listing for the function
/// (it stays interpreted, or the build has no JIT).
#[cfg(feature = "jit")]
fn print_with_machine_code(module: &Module, index: u32, code: &[gloam_interp::ops::Instr]) -> bool {
    let Ok(l) = module.jit_listing(index) else {
        return false;
    };
    let disassemble = |from: usize, to: usize| disassemble(&l.code, from, to);
    let first = l.marks.first().map_or(l.code.len(), |m| m.1);
    match l.direct {
        Some(d) => out!("         ; entry stub at 0, direct entry at {d:x}"),
        None => out!("         ; entry stub at 0"),
    }
    disassemble(0, first);
    for (i, &(pc, start)) in l.marks.iter().enumerate() {
        match code.get(pc as usize) {
            Some(instr) => out!("  {pc:>5}: {instr}"),
            None => out!("         ; out of line: traps, exits, resume entries"),
        }
        let end = l.marks.get(i + 1).map_or(l.code.len(), |m| m.1);
        disassemble(start, end);
    }
    true
}

/// Prints the machine code in `code[from..to]`, one instruction a line.
#[cfg(all(feature = "jit", target_arch = "x86_64"))]
fn disassemble(code: &[u8], from: usize, to: usize) {
    use iced_x86::{Decoder, DecoderOptions, Formatter, IntelFormatter};
    let mut decoder = Decoder::with_ip(64, &code[from..to], from as u64, DecoderOptions::NONE);
    let mut formatter = IntelFormatter::new();
    let mut text = String::new();
    for ins in &mut decoder {
        text.clear();
        formatter.format(&ins, &mut text);
        out!("         {:6x}  {text}", ins.ip());
    }
}

/// Prints the machine code in `code[from..to]` as little-endian 32-bit instruction words
/// (aarch64), in hex.
#[cfg(all(feature = "jit", not(target_arch = "x86_64")))]
fn disassemble(code: &[u8], from: usize, to: usize) {
    for (i, w) in code[from..to].chunks(4).enumerate() {
        let mut word = [0u8; 4];
        word[..w.len()].copy_from_slice(w);
        out!(
            "         {:6x}  {:08x}",
            from + 4 * i,
            u32::from_le_bytes(word)
        );
    }
}

#[cfg(not(feature = "jit"))]
fn print_with_machine_code(
    _module: &Module,
    _index: u32,
    _code: &[gloam_interp::ops::Instr],
) -> bool {
    false
}
