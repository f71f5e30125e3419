//! A runner for `.wast` spec-test scripts.
//!
//! [`run_wast_file`] and [`run_wast_source`] execute every directive of a script against a
//! fresh [`Engine`]/[`Store`] and count passes and failures. A directive that fails (or
//! panics inside the engine) is recorded as a failure and execution continues with the
//! next directive; an `Err` is only returned when the script cannot be read or parsed at
//! all.
//!
//! Scripts are split into their top-level s-expressions before parsing, so a directive
//! the `wast` crate does not understand (or one with a syntax error) only fails itself
//! instead of the whole file.

use std::borrow::Cow;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use anyhow::{Context as _, Result, anyhow, bail};
use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::lexer::Lexer;
use wast::parser::{self, Parse, ParseBuffer, Parser};
use wast::token::{F32, F64, Id};
use wast::{
    QuoteWat, QuoteWatTest, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet, Wat,
};

use crate::{
    Config, Engine, ExternRef, Global, GlobalType, Instance, Linker, Memory, MemoryType, Module,
    Mutability, Store, Table, TableType, Trap, V128, Val, ValType, WasmBacktrace,
};

/// Outcome of running one `.wast` script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WastStats {
    /// Directives that behaved as the script expects.
    pub passed: u64,
    /// Directives that did not.
    pub failed: u64,
    /// One `"file:line:col: message"` entry per failed directive.
    pub failures: Vec<String>,
}

impl WastStats {
    fn record(&mut self, location: String, outcome: Result<()>) {
        match outcome {
            Ok(()) => self.passed += 1,
            Err(e) => {
                self.failed += 1;
                self.failures.push(format!("{location}: {}", fmt_error(&e)));
            }
        }
    }
}

/// Reads and runs the `.wast` script at `path`.
pub fn run_wast_file(path: &Path, config: &Config) -> Result<WastStats> {
    let bytes =
        std::fs::read(path).with_context(|| format!("failed to read `{}`", path.display()))?;
    let source =
        String::from_utf8(bytes).map_err(|_| anyhow!("`{}` is not valid UTF-8", path.display()))?;
    run_wast_source(&path.display().to_string(), &source, config)
}

/// Runs the `.wast` script `source`; `name` is used in failure messages.
pub fn run_wast_source(name: &str, source: &str, config: &Config) -> Result<WastStats> {
    let lines = LineIndex::new(source);
    let mut stats = WastStats::default();

    let chunks = split_top_level(source);
    let directive_mode = match &chunks {
        Some(chunks) => match chunks.first() {
            // Only whitespace and comments: nothing to run.
            None => return Ok(stats),
            Some(&(start, end)) => is_directive_keyword(chunk_keyword(&source[start..end])),
        },
        None => false,
    };

    match chunks {
        Some(chunks) if directive_mode => {
            let mut runner = guarded(|| Runner::new(config))?;
            for (start, end) in chunks {
                runner.run_chunk(name, source, &lines, start, end, &mut stats);
            }
        }
        _ => {
            // Either a bare module (a list of module fields), or text we could not split
            // into s-expressions: let the `wast` parser handle (and report on) the file.
            let buf = guarded(|| {
                parse_buffer(source).map_err(|e| {
                    anyhow!(
                        "{}: {}",
                        lines.location(name, e.span().offset()),
                        e.message()
                    )
                })
            })?;
            let wast = guarded(|| {
                parser::parse::<Wast<'_>>(&buf).map_err(|e| {
                    anyhow!(
                        "{}: {}",
                        lines.location(name, e.span().offset()),
                        e.message()
                    )
                })
            })?;
            let mut runner = guarded(|| Runner::new(config))?;
            for directive in wast.directives {
                let location = lines.location(name, directive.span().offset());
                let outcome = guarded(|| runner.run_directive(Command::Directive(directive)));
                stats.record(location, outcome);
            }
        }
    }
    Ok(stats)
}

/// Runs `f`, turning a panic into an error carrying the panic message.
fn guarded<R>(f: impl FnOnce() -> Result<R>) -> Result<R> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let msg = if let Some(s) = payload.downcast_ref::<&str>() {
                (*s).to_string()
            } else if let Some(s) = payload.downcast_ref::<String>() {
                s.clone()
            } else {
                "<non-string panic payload>".to_string()
            };
            Err(anyhow!("panic: {msg}"))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Source handling
// ---------------------------------------------------------------------------------------

/// Lexes `text` for the `wast` parser. Confusing Unicode characters (bidi overrides and
/// the like) are allowed: `names.wast` deliberately uses them in export names.
fn parse_buffer(text: &str) -> wast::parser::Result<ParseBuffer<'_>> {
    let mut lexer = Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    ParseBuffer::new_with_lexer(lexer)
}

/// Encodes a module to binary, parsing the text of `(module quote ...)` first (with the
/// same lexer settings as the script itself, unlike `QuoteWat::encode`).
fn encode_module(module: &mut QuoteWat<'_>) -> wast::parser::Result<Vec<u8>> {
    match module.to_test()? {
        QuoteWatTest::Binary(bytes) => Ok(bytes),
        QuoteWatTest::Text(text) => {
            let text = String::from_utf8(text).map_err(|_| {
                wast::Error::new(module.span(), "malformed UTF-8 encoding".to_string())
            })?;
            let buf = parse_buffer(&text)?;
            let mut wat = parser::parse::<Wat<'_>>(&buf)?;
            wat.encode()
        }
    }
}

/// Maps byte offsets to 1-based line/column numbers.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(source: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            source
                .bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    fn line_col(&self, offset: usize) -> (usize, usize) {
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.starts.get(line).copied().unwrap_or(0);
        (line + 1, offset.saturating_sub(start) + 1)
    }

    fn location(&self, name: &str, offset: usize) -> String {
        let (line, col) = self.line_col(offset);
        format!("{name}:{line}:{col}")
    }
}

/// Splits `src` into the byte ranges of its top-level parenthesized forms, skipping
/// whitespace and comments. Returns `None` if the text has anything else at the top level,
/// unbalanced parentheses, or an unterminated string or block comment.
fn split_top_level(src: &str) -> Option<Vec<(usize, usize)>> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0usize;
    let mut i = 0usize;
    while i < b.len() {
        match b[i] {
            b'(' if b.get(i + 1) == Some(&b';') => i = skip_block_comment(b, i)?,
            b';' if b.get(i + 1) == Some(&b';') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' => {
                if depth == 0 {
                    start = i;
                }
                depth += 1;
                i += 1;
            }
            b')' => {
                depth = depth.checked_sub(1)?;
                i += 1;
                if depth == 0 {
                    out.push((start, i));
                }
            }
            b'"' => {
                if depth == 0 {
                    return None;
                }
                i = skip_string(b, i)?;
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                if depth == 0 {
                    return None;
                }
                i += 1;
            }
        }
    }
    if depth != 0 {
        return None;
    }
    Some(out)
}

/// `b[i..]` starts with `(;`; returns the offset just past the matching `;)`.
fn skip_block_comment(b: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    while i < b.len() {
        if b[i] == b'(' && b.get(i + 1) == Some(&b';') {
            depth += 1;
            i += 2;
        } else if b[i] == b';' && b.get(i + 1) == Some(&b')') {
            depth = depth.checked_sub(1)?;
            i += 2;
            if depth == 0 {
                return Some(i);
            }
        } else {
            i += 1;
        }
    }
    None
}

/// `b[i]` is `"`; returns the offset just past the closing quote.
fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The keyword right after the opening parenthesis of `chunk`.
fn chunk_keyword(chunk: &str) -> &str {
    let rest = chunk.get(1..).unwrap_or("").trim_start();
    let end = rest
        .find(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '"' | ';'))
        .unwrap_or(rest.len());
    &rest[..end]
}

fn is_directive_keyword(kw: &str) -> bool {
    kw.starts_with("assert_")
        || matches!(
            kw,
            "module" | "component" | "register" | "invoke" | "get" | "thread" | "wait"
        )
}

/// Directives this runner implements (everything else is "unsupported").
fn is_supported_keyword(kw: &str) -> bool {
    matches!(
        kw,
        "module"
            | "register"
            | "invoke"
            | "get"
            | "assert_return"
            | "assert_trap"
            | "assert_exhaustion"
            | "assert_invalid"
            | "assert_malformed"
            | "assert_unlinkable"
            | "assert_uninstantiable"
    )
}

/// One top-level script command: a `wast` directive, or a bare `(get ...)` action, which
/// the spec grammar allows but `wast::WastDirective` does not have.
enum Command<'a> {
    Directive(WastDirective<'a>),
    Get(WastExecute<'a>),
}

impl<'a> Parse<'a> for Command<'a> {
    fn parse(parser: Parser<'a>) -> wast::parser::Result<Self> {
        // The same annotations `wast::Wast` registers before parsing a script.
        let _custom = parser.register_annotation("custom");
        let _producers = parser.register_annotation("producers");
        let _name = parser.register_annotation("name");
        let _dylink = parser.register_annotation("dylink.0");
        let _hint = parser.register_annotation("metadata.code.branch_hint");
        parser.parens(|p| {
            if p.peek::<wast::kw::get>()? {
                Ok(Command::Get(p.parse()?))
            } else {
                Ok(Command::Directive(p.parse()?))
            }
        })
    }
}

// ---------------------------------------------------------------------------------------
// Execution
// ---------------------------------------------------------------------------------------

struct Runner {
    engine: Engine,
    store: Store<()>,
    linker: Linker<()>,
    /// The most recently instantiated module, target of unnamed `invoke`/`get`/`register`.
    current: Option<Instance>,
    /// The most recent `module` directive failed, so there is no current instance.
    module_failed: bool,
    /// Instances of modules that were given a `$name`.
    instances: HashMap<String, Instance>,
    /// `(module definition $name ...)` modules.
    definitions: HashMap<String, Module>,
    last_definition: Option<Module>,
}

/// The outcome of running wasm code: the inner result. Errors in setting the execution up
/// (unknown export, unsupported argument, module that fails to compile) are the outer
/// error and always fail the directive.
type Execution = Result<Result<Vec<Val>>>;

impl Runner {
    fn new(config: &Config) -> Result<Runner> {
        let engine = Engine::new(config).context("failed to create engine")?;
        let mut store = Store::new(&engine, ());
        // With fuel or epochs on (to test the instrumented code), never run out.
        if config.runtime.consume_fuel {
            store.set_fuel(u64::MAX)?;
        }
        store.set_epoch_deadline(u64::MAX);
        let mut linker = Linker::new(&engine);
        linker.allow_shadowing(true);
        define_spectest(&mut linker, &mut store).context("failed to define `spectest`")?;
        Ok(Runner {
            engine,
            store,
            linker,
            current: None,
            module_failed: false,
            instances: HashMap::new(),
            definitions: HashMap::new(),
            last_definition: None,
        })
    }

    /// Parses and runs the top-level form `source[start..end]`, recording one outcome.
    fn run_chunk(
        &mut self,
        name: &str,
        source: &str,
        lines: &LineIndex,
        start: usize,
        end: usize,
        stats: &mut WastStats,
    ) {
        let chunk = &source[start..end];
        let keyword = chunk_keyword(chunk);
        // `assert_uninstantiable` is the old spelling of `assert_trap` on a module, which
        // `wast` no longer parses; rewrite it in place (padded so offsets stay the same).
        let text: Cow<'_, str> = if keyword == "assert_uninstantiable" {
            Cow::Owned(chunk.replacen("assert_uninstantiable", "assert_trap          ", 1))
        } else {
            Cow::Borrowed(chunk)
        };

        let parsed = guarded(|| {
            let buf = parse_buffer(&text).map_err(|e| (e.span().offset(), e.message()));
            match buf {
                Err((offset, msg)) => Ok(Err((offset, msg))),
                Ok(buf) => match parser::parse::<Command<'_>>(&buf) {
                    Err(e) => Ok(Err((e.span().offset(), e.message()))),
                    Ok(command) => {
                        let offset = match &command {
                            Command::Directive(d) => d.span().offset(),
                            Command::Get(e) => e.span().offset(),
                        };
                        let location = lines.location(name, start + offset);
                        Ok(Ok((location, guarded(|| self.run_directive(command)))))
                    }
                },
            }
        });

        match parsed {
            Ok(Ok((location, outcome))) => stats.record(location, outcome),
            Ok(Err((offset, msg))) => {
                if keyword == "module" {
                    self.forget_current(None);
                }
                let location = lines.location(name, start + offset.min(chunk.len()));
                let err = if is_supported_keyword(keyword) {
                    anyhow!("failed to parse `{keyword}` directive: {msg}")
                } else {
                    anyhow!("unsupported directive `{keyword}` ({msg})")
                };
                stats.record(location, Err(err));
            }
            Err(panic) => stats.record(lines.location(name, start), Err(panic)),
        }
    }

    fn run_directive(&mut self, command: Command<'_>) -> Result<()> {
        let directive = match command {
            Command::Get(exec) => {
                self.execute(exec)?.context("`get` failed")?;
                return Ok(());
            }
            Command::Directive(d) => d,
        };
        match directive {
            WastDirective::Module(mut module) => {
                let name = module.name().map(|id| id.name().to_string());
                self.forget_current(name.as_deref());
                let module = self.compile(&mut module)?;
                let instance = self
                    .linker
                    .instantiate(&mut self.store, &module)
                    .context("failed to instantiate module")?;
                if let Some(name) = name {
                    self.instances.insert(name, instance);
                }
                self.current = Some(instance);
                self.module_failed = false;
                Ok(())
            }
            WastDirective::ModuleDefinition(mut module) => {
                let name = module.name().map(|id| id.name().to_string());
                let module = self.compile(&mut module)?;
                if let Some(name) = name {
                    self.definitions.insert(name, module.clone());
                }
                self.last_definition = Some(module);
                Ok(())
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => {
                self.forget_current(instance.map(|id| id.name()));
                let definition =
                    match module {
                        Some(id) => self.definitions.get(id.name()).cloned().ok_or_else(|| {
                            anyhow!("no module definition named `${}`", id.name())
                        })?,
                        None => self
                            .last_definition
                            .clone()
                            .ok_or_else(|| anyhow!("no module definition"))?,
                    };
                let inst = self
                    .linker
                    .instantiate(&mut self.store, &definition)
                    .context("failed to instantiate module")?;
                if let Some(id) = instance {
                    self.instances.insert(id.name().to_string(), inst);
                }
                self.current = Some(inst);
                self.module_failed = false;
                Ok(())
            }
            WastDirective::Register { name, module, .. } => {
                let instance = self.instance(module)?;
                self.linker
                    .instance(&mut self.store, name, instance)
                    .with_context(|| format!("failed to register instance as `{name}`"))?;
                Ok(())
            }
            WastDirective::Invoke(invoke) => {
                self.invoke(&invoke)?.context("invocation failed")?;
                Ok(())
            }
            WastDirective::AssertReturn { exec, results, .. } => {
                let actual = match self.execute(exec)? {
                    Ok(vals) => vals,
                    Err(e) => bail!("expected a return, but got error: {}", fmt_error(&e)),
                };
                self.check_results(&results, &actual)
            }
            WastDirective::AssertTrap { exec, message, .. } => match self.execute(exec)? {
                Ok(vals) => bail!(
                    "expected trap \"{message}\", but got a return: [{}]",
                    self.fmt_vals(&vals)
                ),
                Err(e) => check_trap(&e, message),
            },
            WastDirective::AssertException { exec, .. } => match self.execute(exec)? {
                Ok(vals) => bail!(
                    "expected an exception, but got a return: [{}]",
                    self.fmt_vals(&vals)
                ),
                Err(e) if e.is::<crate::ThrownException>() => {
                    self.store.take_pending_exception();
                    Ok(())
                }
                Err(e) => bail!("expected an exception, but got error: {}", fmt_error(&e)),
            },
            WastDirective::AssertExhaustion { call, message, .. } => match self.invoke(&call)? {
                Ok(vals) => bail!(
                    "expected exhaustion \"{message}\", but got a return: [{}]",
                    self.fmt_vals(&vals)
                ),
                Err(e) => check_trap(&e, "call stack exhausted"),
            },
            WastDirective::AssertInvalid {
                mut module,
                message,
                ..
            } => self.expect_rejected(&mut module, "an invalid", message),
            WastDirective::AssertMalformed {
                mut module,
                message,
                ..
            } => self.expect_rejected(&mut module, "a malformed", message),
            WastDirective::AssertUnlinkable {
                module, message, ..
            } => {
                let module = self.compile(&mut QuoteWat::Wat(module))?;
                match self.linker.instantiate(&mut self.store, &module) {
                    Ok(_) => {
                        bail!("expected an unlinkable module (\"{message}\"), but it instantiated")
                    }
                    Err(_) => Ok(()),
                }
            }
            other => bail!("unsupported directive `{}`", directive_name(&other)),
        }
    }

    /// Encodes and compiles a module.
    fn compile(&self, module: &mut QuoteWat<'_>) -> Result<Module> {
        reject_component(module)?;
        let bytes = encode_module(module)
            .map_err(|e| anyhow!("failed to encode module text: {}", e.message()))?;
        Module::new(&self.engine, &bytes)
    }

    /// The instance named `id`, or the current one.
    fn instance(&self, id: Option<Id<'_>>) -> Result<Instance> {
        match id {
            Some(id) => self
                .instances
                .get(id.name())
                .copied()
                .ok_or_else(|| anyhow!("no module instance named `${}`", id.name())),
            None => self.current.ok_or_else(|| {
                if self.module_failed {
                    anyhow!("no current module (the most recent module directive failed)")
                } else {
                    anyhow!("no module instantiated yet")
                }
            }),
        }
    }

    /// Called when a module directive starts: until it succeeds, unnamed actions must not
    /// silently run against an older module, nor named ones against a stale instance.
    fn forget_current(&mut self, name: Option<&str>) {
        self.current = None;
        self.module_failed = true;
        if let Some(name) = name {
            self.instances.remove(name);
        }
    }

    fn execute(&mut self, exec: WastExecute<'_>) -> Execution {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Wat(module) => {
                let module = self.compile(&mut QuoteWat::Wat(module))?;
                Ok(self
                    .linker
                    .instantiate(&mut self.store, &module)
                    .map(|_| Vec::new()))
            }
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(module)?;
                let g = instance
                    .get_global(&mut self.store, global)
                    .ok_or_else(|| anyhow!("no global export named \"{global}\""))?;
                Ok(Ok(vec![g.get(&mut self.store)]))
            }
        }
    }

    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Execution {
        let instance = self.instance(invoke.module)?;
        let func = instance
            .get_func(&mut self.store, invoke.name)
            .ok_or_else(|| anyhow!("no function export named \"{}\"", invoke.name))?;
        let mut args = Vec::with_capacity(invoke.args.len());
        for arg in &invoke.args {
            args.push(self.arg_val(arg)?);
        }
        let ty = func.ty(&self.store);
        if ty.params().len() != args.len() {
            bail!(
                "\"{}\" takes {} parameters, but {} arguments were given",
                invoke.name,
                ty.params().len(),
                args.len()
            );
        }
        let mut results: Vec<Val> = ty.results().iter().map(default_val).collect();
        Ok(func
            .call(&mut self.store, &args, &mut results)
            .map(|()| results))
    }

    fn arg_val(&mut self, arg: &WastArg<'_>) -> Result<Val> {
        let WastArg::Core(arg) = arg else {
            bail!("component-model arguments are not supported")
        };
        Ok(match arg {
            WastArgCore::I32(v) => Val::I32(*v),
            WastArgCore::I64(v) => Val::I64(*v),
            WastArgCore::F32(v) => Val::F32(v.bits),
            WastArgCore::F64(v) => Val::F64(v.bits),
            WastArgCore::V128(v) => Val::V128(V128::from(u128::from_le_bytes(v.to_le_bytes()))),
            WastArgCore::RefNull(heap) => match null_kind(Some(heap)) {
                NullKind::Func => Val::FuncRef(None),
                NullKind::Extern => Val::ExternRef(None),
                NullKind::Exn => Val::ExnRef(None),
                NullKind::Any | NullKind::Other => {
                    bail!("unsupported argument `ref.null {heap:?}`")
                }
            },
            WastArgCore::RefExtern(n) => Val::ExternRef(Some(
                ExternRef::new(&mut self.store, *n).context("failed to create externref")?,
            )),
            WastArgCore::RefHost(_) => bail!("unsupported argument `ref.host`"),
        })
    }

    fn check_results(&self, expected: &[WastRet<'_>], actual: &[Val]) -> Result<()> {
        if expected.len() != actual.len() {
            bail!(
                "expected {} results, got {}: [{}]",
                expected.len(),
                actual.len(),
                self.fmt_vals(actual)
            );
        }
        let mut mismatches = Vec::new();
        for (i, (expected, actual)) in expected.iter().zip(actual).enumerate() {
            let WastRet::Core(expected) = expected else {
                bail!("component-model results are not supported")
            };
            if !self.matches(expected, actual)? {
                mismatches.push(format!(
                    "result {i}: expected {}, got {}",
                    fmt_expected(expected),
                    self.fmt_val(actual, Some(expected))
                ));
            }
        }
        if mismatches.is_empty() {
            Ok(())
        } else {
            Err(anyhow!("{}", mismatches.join("; ")))
        }
    }

    fn matches(&self, expected: &WastRetCore<'_>, actual: &Val) -> Result<bool> {
        Ok(match (expected, actual) {
            (WastRetCore::I32(e), Val::I32(a)) => e == a,
            (WastRetCore::I64(e), Val::I64(a)) => e == a,
            (WastRetCore::F32(p), Val::F32(bits)) => f32_matches(p, *bits),
            (WastRetCore::F64(p), Val::F64(bits)) => f64_matches(p, *bits),
            (WastRetCore::V128(p), Val::V128(v)) => v128_matches(p, v.as_u128()),
            (WastRetCore::RefNull(ty), Val::FuncRef(f)) => {
                f.is_none() && matches!(null_kind(ty.as_ref()), NullKind::Any | NullKind::Func)
            }
            (WastRetCore::RefNull(ty), Val::ExternRef(r)) => {
                r.is_none() && matches!(null_kind(ty.as_ref()), NullKind::Any | NullKind::Extern)
            }
            (WastRetCore::RefNull(ty), Val::ExnRef(r)) => {
                r.is_none() && matches!(null_kind(ty.as_ref()), NullKind::Any | NullKind::Exn)
            }
            (WastRetCore::RefFunc(_), Val::FuncRef(f)) => f.is_some(),
            (WastRetCore::RefExtern(n), Val::ExternRef(r)) => match (n, r) {
                (_, None) => false,
                (None, Some(_)) => true,
                (Some(n), Some(r)) => {
                    let data = r
                        .data(&self.store)
                        .context("failed to read externref data")?;
                    data.downcast_ref::<u32>() == Some(n)
                }
            },
            (WastRetCore::Either(alternatives), actual) => {
                for alternative in alternatives {
                    if self.matches(alternative, actual)? {
                        return Ok(true);
                    }
                }
                false
            }
            (
                WastRetCore::RefHost(_)
                | WastRetCore::RefAny
                | WastRetCore::RefEq
                | WastRetCore::RefArray
                | WastRetCore::RefStruct
                | WastRetCore::RefI31
                | WastRetCore::RefI31Shared,
                _,
            ) => bail!("unsupported result pattern `{}`", fmt_expected(expected)),
            _ => false,
        })
    }

    /// `assert_invalid`/`assert_malformed`: the module must not compile. A module whose
    /// text cannot even be encoded (for `module quote`, a parse error) counts as rejected.
    fn expect_rejected(&self, module: &mut QuoteWat<'_>, what: &str, message: &str) -> Result<()> {
        reject_component(module)?;
        let Ok(bytes) = encode_module(module) else {
            return Ok(());
        };
        match Module::new(&self.engine, &bytes) {
            Ok(_) => bail!("expected {what} module (\"{message}\"), but it compiled"),
            Err(_) => Ok(()),
        }
    }

    fn fmt_vals(&self, vals: &[Val]) -> String {
        vals.iter()
            .map(|v| self.fmt_val(v, None))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Formats a value; `shape` (the expected pattern) picks the lane shape of a v128.
    fn fmt_val(&self, val: &Val, shape: Option<&WastRetCore<'_>>) -> String {
        match val {
            Val::I32(v) => format!("i32.const {v} (0x{:08x})", *v as u32),
            Val::I64(v) => format!("i64.const {v} (0x{:016x})", *v as u64),
            Val::F32(bits) => format!("f32.const {}", fmt_f32(*bits)),
            Val::F64(bits) => format!("f64.const {}", fmt_f64(*bits)),
            Val::V128(v) => {
                let pattern = match shape {
                    Some(WastRetCore::V128(p)) => Some(p),
                    _ => None,
                };
                format!("v128.const {}", fmt_v128(v.as_u128(), pattern))
            }
            Val::FuncRef(None) => "ref.null func".to_string(),
            Val::FuncRef(Some(_)) => "ref.func".to_string(),
            Val::ExnRef(None) => "ref.null exn".to_string(),
            Val::ExnRef(Some(_)) => "ref.exn".to_string(),
            Val::ExternRef(None) => "ref.null extern".to_string(),
            Val::ExternRef(Some(r)) => match r.data(&self.store) {
                Ok(data) => match data.downcast_ref::<u32>() {
                    Some(n) => format!("ref.extern {n}"),
                    None => "ref.extern <non-u32 host data>".to_string(),
                },
                Err(e) => format!("ref.extern <unreadable: {e}>"),
            },
            #[allow(unreachable_patterns)]
            _ => "<unknown value>".to_string(),
        }
    }
}

fn define_spectest(linker: &mut Linker<()>, store: &mut Store<()>) -> Result<()> {
    linker.func_wrap("spectest", "print", || {})?;
    linker.func_wrap("spectest", "print_i32", |_: i32| {})?;
    linker.func_wrap("spectest", "print_i64", |_: i64| {})?;
    linker.func_wrap("spectest", "print_f32", |_: f32| {})?;
    linker.func_wrap("spectest", "print_f64", |_: f64| {})?;
    linker.func_wrap("spectest", "print_i32_f32", |_: i32, _: f32| {})?;
    linker.func_wrap("spectest", "print_f64_f64", |_: f64, _: f64| {})?;

    let globals = [
        ("global_i32", ValType::I32, Val::I32(666)),
        ("global_i64", ValType::I64, Val::I64(666)),
        ("global_f32", ValType::F32, Val::F32(666.6f32.to_bits())),
        ("global_f64", ValType::F64, Val::F64(666.6f64.to_bits())),
    ];
    for (name, ty, val) in globals {
        let global = Global::new(&mut *store, GlobalType::new(ty, Mutability::Const), val)?;
        linker.define(&*store, "spectest", name, global)?;
    }

    let table = Table::new(
        &mut *store,
        TableType::new(ValType::FuncRef, 10, Some(20)),
        Val::FuncRef(None),
    )?;
    linker.define(&*store, "spectest", "table", table)?;
    let table64 = Table::new(
        &mut *store,
        TableType::new64(ValType::FuncRef, 10, Some(20)),
        Val::FuncRef(None),
    )?;
    linker.define(&*store, "spectest", "table64", table64)?;

    let memory = Memory::new(&mut *store, MemoryType::new(1, Some(2)))?;
    linker.define(&*store, "spectest", "memory", memory)?;
    Ok(())
}

fn reject_component(module: &QuoteWat<'_>) -> Result<()> {
    match module {
        QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_)) => {
            bail!("unsupported directive: components are not supported")
        }
        _ => Ok(()),
    }
}

fn directive_name(d: &WastDirective<'_>) -> &'static str {
    match d {
        WastDirective::Module(_) => "module",
        WastDirective::ModuleDefinition(_) => "module definition",
        WastDirective::ModuleInstance { .. } => "module instance",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::AssertInvalidCustom { .. } => "assert_invalid_custom",
        WastDirective::Register { .. } => "register",
        WastDirective::Invoke(_) => "invoke",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertException { .. } => "assert_exception",
        WastDirective::AssertSuspension { .. } => "assert_suspension",
        WastDirective::Thread(_) => "thread",
        WastDirective::Wait { .. } => "wait",
        WastDirective::AssertMalformedCustom { .. } => "assert_malformed_custom",
        #[allow(unreachable_patterns)]
        _ => "<unknown>",
    }
}

/// Formats an error chain on one line. A wasm backtrace attached as context is reduced to
/// its innermost frame.
fn fmt_error(e: &anyhow::Error) -> String {
    let backtrace = e.downcast_ref::<WasmBacktrace>();
    let backtrace_text = backtrace.map(|bt| bt.to_string());
    let mut parts: Vec<String> = e
        .chain()
        .map(|cause| cause.to_string())
        .filter(|text| Some(text) != backtrace_text.as_ref())
        .collect();
    if let Some(frame) = backtrace.and_then(|bt| bt.frames().first()) {
        let func = match &frame.func_name {
            Some(name) => name.clone(),
            None => format!("<wasm function {}>", frame.func_index),
        };
        parts.push(format!("(in {func}, pc {})", frame.pc));
    }
    let text = parts.join(": ");
    text.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Finds the wasm trap in an error's chain.
fn find_trap(e: &anyhow::Error) -> Option<Trap> {
    if let Some(trap) = e.downcast_ref::<Trap>() {
        return Some(*trap);
    }
    e.chain()
        .find_map(|cause| cause.downcast_ref::<Trap>())
        .copied()
}

/// Checks that `e` is a trap whose message matches `expected`.
fn check_trap(e: &anyhow::Error, expected: &str) -> Result<()> {
    match find_trap(e) {
        Some(trap) if trap_message_matches(trap.message(), expected) => Ok(()),
        Some(trap) => bail!(
            "expected trap \"{expected}\", got trap \"{}\"",
            trap.message()
        ),
        None => bail!(
            "expected trap \"{expected}\", got non-trap error: {}",
            fmt_error(e)
        ),
    }
}

/// Whether an engine trap message matches the script's: either may contain the other, and
/// the spec's "undefined element" is our "out of bounds table access".
fn trap_message_matches(actual: &str, expected: &str) -> bool {
    fn normalize(s: &str) -> String {
        s.trim()
            .replace("undefined element", "out of bounds table access")
            // One trap, `Trap::NullReference`, for every null dereference (as wasmtime).
            .replace("null function reference", "null reference")
    }
    let (actual, expected) = (normalize(actual), normalize(expected));
    if expected.is_empty() {
        return true;
    }
    if actual.is_empty() {
        return false;
    }
    actual.contains(&expected) || expected.contains(&actual)
}

fn default_val(ty: &ValType) -> Val {
    Val::default_for_ty(*ty)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NullKind {
    /// `ref.null` without a type: any null reference.
    Any,
    Func,
    Extern,
    Exn,
    /// A heap type this runner does not support.
    Other,
}

fn null_kind(heap: Option<&HeapType<'_>>) -> NullKind {
    match heap {
        None => NullKind::Any,
        Some(HeapType::Abstract { shared: false, ty }) => match ty {
            AbstractHeapType::Func | AbstractHeapType::NoFunc => NullKind::Func,
            AbstractHeapType::Extern | AbstractHeapType::NoExtern => NullKind::Extern,
            AbstractHeapType::Exn | AbstractHeapType::NoExn => NullKind::Exn,
            _ => NullKind::Other,
        },
        // gloam's concrete types with values are function types.
        Some(HeapType::Concrete(_)) => NullKind::Func,
        Some(_) => NullKind::Other,
    }
}

// ---------------------------------------------------------------------------------------
// Float and v128 patterns
// ---------------------------------------------------------------------------------------

fn f32_matches(pattern: &NanPattern<F32>, bits: u32) -> bool {
    match pattern {
        // Sign is free; exponent all ones; only the top mantissa bit set.
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
        // Sign and low payload bits are free; exponent all ones; top mantissa bit set.
        NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn f64_matches(pattern: &NanPattern<F64>, bits: u64) -> bool {
    match pattern {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
        NanPattern::ArithmeticNan => bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn lane8(v: u128, i: usize) -> u8 {
    (v >> (8 * (i % 16))) as u8
}
fn lane16(v: u128, i: usize) -> u16 {
    (v >> (16 * (i % 8))) as u16
}
fn lane32(v: u128, i: usize) -> u32 {
    (v >> (32 * (i % 4))) as u32
}
fn lane64(v: u128, i: usize) -> u64 {
    (v >> (64 * (i % 2))) as u64
}

fn v128_matches(pattern: &V128Pattern, v: u128) -> bool {
    match pattern {
        V128Pattern::I8x16(lanes) => lanes
            .iter()
            .enumerate()
            .all(|(i, &e)| lane8(v, i) == e as u8),
        V128Pattern::I16x8(lanes) => lanes
            .iter()
            .enumerate()
            .all(|(i, &e)| lane16(v, i) == e as u16),
        V128Pattern::I32x4(lanes) => lanes
            .iter()
            .enumerate()
            .all(|(i, &e)| lane32(v, i) == e as u32),
        V128Pattern::I64x2(lanes) => lanes
            .iter()
            .enumerate()
            .all(|(i, &e)| lane64(v, i) == e as u64),
        V128Pattern::F32x4(lanes) => lanes
            .iter()
            .enumerate()
            .all(|(i, p)| f32_matches(p, lane32(v, i))),
        V128Pattern::F64x2(lanes) => lanes
            .iter()
            .enumerate()
            .all(|(i, p)| f64_matches(p, lane64(v, i))),
    }
}

fn fmt_f32(bits: u32) -> String {
    let f = f32::from_bits(bits);
    if f.is_nan() {
        let sign = if bits >> 31 != 0 { "-" } else { "" };
        format!("{sign}nan:0x{:x} (0x{bits:08x})", bits & 0x007f_ffff)
    } else {
        format!("{f:?} (0x{bits:08x})")
    }
}

fn fmt_f64(bits: u64) -> String {
    let f = f64::from_bits(bits);
    if f.is_nan() {
        let sign = if bits >> 63 != 0 { "-" } else { "" };
        format!(
            "{sign}nan:0x{:x} (0x{bits:016x})",
            bits & 0x000f_ffff_ffff_ffff
        )
    } else {
        format!("{f:?} (0x{bits:016x})")
    }
}

fn fmt_nan_pattern<T>(p: &NanPattern<T>, value: impl Fn(&T) -> String) -> String {
    match p {
        NanPattern::CanonicalNan => "nan:canonical".to_string(),
        NanPattern::ArithmeticNan => "nan:arithmetic".to_string(),
        NanPattern::Value(v) => value(v),
    }
}

fn join<T>(items: impl IntoIterator<Item = T>, f: impl Fn(T) -> String) -> String {
    items.into_iter().map(f).collect::<Vec<_>>().join(" ")
}

/// Formats a v128 in the lane shape of `pattern` (i32x4 hex if none).
fn fmt_v128(v: u128, pattern: Option<&V128Pattern>) -> String {
    match pattern {
        Some(V128Pattern::I8x16(_)) => {
            format!("i8x16 {}", join(0..16, |i| (lane8(v, i) as i8).to_string()))
        }
        Some(V128Pattern::I16x8(_)) => {
            format!(
                "i16x8 {}",
                join(0..8, |i| (lane16(v, i) as i16).to_string())
            )
        }
        Some(V128Pattern::I64x2(_)) => {
            format!(
                "i64x2 {}",
                join(0..2, |i| (lane64(v, i) as i64).to_string())
            )
        }
        Some(V128Pattern::F32x4(_)) => format!("f32x4 {}", join(0..4, |i| fmt_f32(lane32(v, i)))),
        Some(V128Pattern::F64x2(_)) => format!("f64x2 {}", join(0..2, |i| fmt_f64(lane64(v, i)))),
        Some(V128Pattern::I32x4(_)) => {
            format!(
                "i32x4 {}",
                join(0..4, |i| (lane32(v, i) as i32).to_string())
            )
        }
        None => format!(
            "i32x4 {}",
            join(0..4, |i| format!("0x{:08x}", lane32(v, i)))
        ),
    }
}

fn fmt_expected(e: &WastRetCore<'_>) -> String {
    match e {
        WastRetCore::I32(v) => format!("i32.const {v} (0x{:08x})", *v as u32),
        WastRetCore::I64(v) => format!("i64.const {v} (0x{:016x})", *v as u64),
        WastRetCore::F32(p) => format!("f32.const {}", fmt_nan_pattern(p, |v| fmt_f32(v.bits))),
        WastRetCore::F64(p) => format!("f64.const {}", fmt_nan_pattern(p, |v| fmt_f64(v.bits))),
        WastRetCore::V128(p) => {
            let lanes = match p {
                V128Pattern::I8x16(l) => format!("i8x16 {}", join(l, |x| x.to_string())),
                V128Pattern::I16x8(l) => format!("i16x8 {}", join(l, |x| x.to_string())),
                V128Pattern::I32x4(l) => format!("i32x4 {}", join(l, |x| x.to_string())),
                V128Pattern::I64x2(l) => format!("i64x2 {}", join(l, |x| x.to_string())),
                V128Pattern::F32x4(l) => {
                    format!(
                        "f32x4 {}",
                        join(l, |p| fmt_nan_pattern(p, |v| fmt_f32(v.bits)))
                    )
                }
                V128Pattern::F64x2(l) => {
                    format!(
                        "f64x2 {}",
                        join(l, |p| fmt_nan_pattern(p, |v| fmt_f64(v.bits)))
                    )
                }
            };
            format!("v128.const {lanes}")
        }
        WastRetCore::RefNull(None) => "ref.null".to_string(),
        WastRetCore::RefNull(Some(h)) => match null_kind(Some(h)) {
            NullKind::Func => "ref.null func".to_string(),
            NullKind::Extern => "ref.null extern".to_string(),
            _ => format!("ref.null {h:?}"),
        },
        WastRetCore::RefExtern(None) => "ref.extern".to_string(),
        WastRetCore::RefExtern(Some(n)) => format!("ref.extern {n}"),
        WastRetCore::RefFunc(_) => "ref.func".to_string(),
        WastRetCore::Either(alternatives) => {
            format!(
                "either({})",
                alternatives
                    .iter()
                    .map(fmt_expected)
                    .collect::<Vec<_>>()
                    .join(" | ")
            )
        }
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(source: &str) -> WastStats {
        run_wast_source("test.wast", source, &Config::new()).expect("script should parse")
    }

    #[test]
    fn module_and_assert_return_pass() {
        let stats = run(r#"
            (module
              (func (export "add") (param i32 i32) (result i32)
                local.get 0 local.get 1 i32.add))
            (assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))
            (assert_return (invoke "add" (i32.const -1) (i32.const 1)) (i32.const 0))
            (invoke "add" (i32.const 0) (i32.const 0))
        "#);
        assert_eq!(stats.failures, Vec::<String>::new());
        assert_eq!((stats.passed, stats.failed), (4, 0));
    }

    #[test]
    fn wrong_result_is_counted_as_failure() {
        let stats = run(r#"(module
  (func (export "one") (result i32) i32.const 1))
(assert_return (invoke "one") (i32.const 2))
(assert_return (invoke "one") (i32.const 1))
"#);
        assert_eq!((stats.passed, stats.failed), (2, 1));
        assert_eq!(stats.failures.len(), 1);
        assert!(
            stats.failures[0].starts_with("test.wast:3:2: "),
            "{}",
            stats.failures[0]
        );
        assert!(
            stats.failures[0].contains("expected i32.const 2"),
            "{}",
            stats.failures[0]
        );

        // An unexpected trap is a failure with a one-line message naming the trap.
        let stats = run(r#"
            (module (func (export "boom") (result i32) unreachable))
            (assert_return (invoke "boom") (i32.const 0))
        "#);
        assert_eq!((stats.passed, stats.failed), (1, 1));
        let msg = &stats.failures[0];
        assert!(msg.contains("unreachable") && !msg.contains('\n'), "{msg}");
    }

    #[test]
    fn traps() {
        let stats = run(r#"
            (module
              (func (export "unreachable") unreachable)
              (func (export "div") (param i32 i32) (result i32)
                local.get 0 local.get 1 i32.div_s)
              (func $loop (export "loop") call $loop))
            (assert_trap (invoke "unreachable") "unreachable")
            (assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "integer divide by zero")
            (assert_exhaustion (invoke "loop") "call stack exhausted")
            ;; Wrong message, and no trap at all: two failures.
            (assert_trap (invoke "unreachable") "integer overflow")
            (assert_trap (invoke "div" (i32.const 4) (i32.const 2)) "integer divide by zero")
        "#);
        assert_eq!((stats.passed, stats.failed), (4, 2), "{:?}", stats.failures);
    }

    #[test]
    fn trap_on_instantiation() {
        let stats = run(r#"
            (assert_trap (module (func $f unreachable) (start $f)) "unreachable")
            (assert_trap (module (memory 1) (data (i32.const 65536) "a"))
              "out of bounds memory access")
            (assert_uninstantiable (module (func $f unreachable) (start $f)) "unreachable")
        "#);
        assert_eq!((stats.passed, stats.failed), (3, 0), "{:?}", stats.failures);
    }

    #[test]
    fn invalid_and_malformed() {
        let stats = run(r#"
            (assert_invalid (module (func (result i32) (i64.const 0))) "type mismatch")
            (assert_malformed (module quote "(func (i32.const))") "unexpected token")
            (assert_malformed (module binary "\00asm\02\00\00\00") "unknown binary version")
            ;; A valid module is neither invalid nor malformed: two failures.
            (assert_invalid (module (func)) "type mismatch")
            (assert_malformed (module binary "\00asm\01\00\00\00") "whatever")
        "#);
        assert_eq!((stats.passed, stats.failed), (3, 2), "{:?}", stats.failures);
    }

    #[test]
    fn spectest_register_and_get() {
        let stats = run(r#"
            (module $M
              (import "spectest" "print_i32" (func $print (param i32)))
              (import "spectest" "global_i32" (global $g i32))
              (import "spectest" "memory" (memory 1 2))
              (import "spectest" "table" (table 10 20 funcref))
              (global (export "g") i32 (global.get $g))
              (func (export "f") (result i32) (call $print (i32.const 1)) (global.get $g)))
            (register "M" $M)
            (module $N
              (import "M" "f" (func $f (result i32)))
              (func (export "g") (result i32) (i32.add (call $f) (i32.const 1))))
            (assert_return (invoke $N "g") (i32.const 667))
            (assert_return (invoke $M "f") (i32.const 666))
            (assert_return (get $M "g") (i32.const 666))
            (get $M "g")
            (assert_unlinkable (module (import "M" "missing" (func))) "unknown import")
        "#);
        assert_eq!((stats.passed, stats.failed), (8, 0), "{:?}", stats.failures);
    }

    #[test]
    fn references_and_floats() {
        let stats = run(r#"
            (module
              (func (export "id") (param externref) (result externref) local.get 0)
              (func (export "null") (result funcref) ref.null func)
              (func (export "fref") (result funcref) ref.func 0)
              (func (export "nan") (result f32) f32.const nan)
              (func (export "pair") (result i32 f64) i32.const 7 f64.const -0))
            (assert_return (invoke "id" (ref.extern 5)) (ref.extern 5))
            (assert_return (invoke "id" (ref.null extern)) (ref.null extern))
            (assert_return (invoke "null") (ref.null func))
            (assert_return (invoke "fref") (ref.func))
            (assert_return (invoke "nan") (f32.const nan:canonical))
            (assert_return (invoke "nan") (f32.const nan:arithmetic))
            (assert_return (invoke "pair") (i32.const 7) (f64.const -0))
            (assert_return (invoke "id" (ref.extern 5)) (either (ref.extern 6) (ref.extern 5)))
            ;; Failures: wrong externref, +0 vs -0.
            (assert_return (invoke "id" (ref.extern 5)) (ref.extern 6))
            (assert_return (invoke "pair") (i32.const 7) (f64.const 0))
        "#);
        assert_eq!((stats.passed, stats.failed), (9, 2), "{:?}", stats.failures);
    }

    #[test]
    fn unknown_directive_is_a_failure_and_the_run_continues() {
        let stats = run(r#"
            (module (func (export "f") (result i32) i32.const 1))
            (assert_something_new (invoke "f") "??")
            (thread $T (module))
            (assert_return (invoke "f") (i32.const 1))
        "#);
        assert_eq!((stats.passed, stats.failed), (2, 2), "{:?}", stats.failures);
        assert!(
            stats
                .failures
                .iter()
                .all(|f| f.contains("unsupported directive")),
            "{:?}",
            stats.failures
        );
    }

    #[test]
    fn bare_module_file_and_empty_file() {
        let stats = run("(func (export \"f\"))");
        assert_eq!((stats.passed, stats.failed), (1, 0), "{:?}", stats.failures);
        assert_eq!(run("  ;; nothing\n (; here ;) "), WastStats::default());
        assert!(run_wast_source("bad.wast", "(module", &Config::new()).is_err());
    }

    #[test]
    fn module_definition_and_instance() {
        let stats = run(r#"
            (module definition $M (func (export "f") (result i32) i32.const 5))
            (module instance $I $M)
            (module instance $M)
            (assert_return (invoke $I "f") (i32.const 5))
            (assert_return (invoke "f") (i32.const 5))
            (module instance $J $Missing)
        "#);
        assert_eq!((stats.passed, stats.failed), (5, 1), "{:?}", stats.failures);
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let inputs = [
            "",
            ")",
            "(",
            "\"",
            "(module",
            "(; unterminated",
            "x (module)",
            "(assert_return)",
            "(invoke \"x\")",
            "(register \"a\")",
            "(get \"g\")",
            "(module) (assert_return (invoke \"f\") (ref.host 1))",
            "(module (global (export \"g\") i32 (i32.const 1))) (assert_trap (get \"g\") \"x\")",
            "(module (func (export \"f\") (param i32))) (invoke \"f\")",
            "(module (func (export \"f\") (param i32))) (invoke \"f\" (i64.const 1))",
            "(module quote \"(func\") (module binary \"\\00asm\")",
            "(assert_malformed (module quote \"\\ff\") \"x\")",
            "(component) (assert_return (invoke \"f\") (either))",
            "(module \u{202e}) (\u{1F600})",
        ];
        for input in inputs {
            // Ok or Err are both fine; the point is not to panic.
            let _ = run_wast_source("odd.wast", input, &Config::new());
        }
    }

    #[test]
    fn nan_patterns() {
        let canon = NanPattern::<F32>::CanonicalNan;
        let arith = NanPattern::<F32>::ArithmeticNan;
        assert!(f32_matches(&canon, 0x7fc0_0000));
        assert!(f32_matches(&canon, 0xffc0_0000));
        assert!(!f32_matches(&canon, 0x7fc0_0001));
        assert!(f32_matches(&arith, 0x7fc0_0001));
        assert!(!f32_matches(&arith, 0x7fa0_0000));
        assert!(!f32_matches(&arith, 0x3fc0_0000));
        assert!(f64_matches(
            &NanPattern::CanonicalNan,
            0xfff8_0000_0000_0000
        ));
        assert!(!f64_matches(
            &NanPattern::CanonicalNan,
            0x7ff8_0000_0000_0001
        ));
        assert!(f64_matches(
            &NanPattern::ArithmeticNan,
            0x7ff8_0000_0000_0001
        ));
        assert!(!f64_matches(
            &NanPattern::ArithmeticNan,
            0x7ff4_0000_0000_0000
        ));
    }

    #[test]
    fn v128_patterns() {
        let lanes = [
            0x7fc0_0000u32,
            1.0f32.to_bits(),
            2.0f32.to_bits(),
            0xffff_fffe,
        ];
        let v = lanes
            .iter()
            .enumerate()
            .fold(0u128, |acc, (i, &l)| acc | (l as u128) << (32 * i));
        let f = |x: f32| NanPattern::Value(F32 { bits: x.to_bits() });
        let nan = NanPattern::<F32>::CanonicalNan;
        let neg2 = NanPattern::Value(F32 { bits: 0xffff_fffe });
        assert!(v128_matches(
            &V128Pattern::F32x4([nan, f(1.0), f(2.0), neg2]),
            v
        ));
        assert!(!v128_matches(
            &V128Pattern::F32x4([nan, f(1.0), f(3.0), neg2]),
            v
        ));
        assert!(v128_matches(
            &V128Pattern::I32x4([0x7fc0_0000, 0x3f80_0000, 0x4000_0000, -2]),
            v
        ));
        assert!(v128_matches(
            &V128Pattern::I64x2([0x3f80_0000_7fc0_0000, -0x1_c000_0000]),
            v
        ));
        let mut bytes = [0i8; 16];
        for (i, b) in v.to_le_bytes().iter().enumerate() {
            bytes[i] = *b as i8;
        }
        assert!(v128_matches(&V128Pattern::I8x16(bytes), v));
        bytes[15] = 0;
        assert!(!v128_matches(&V128Pattern::I8x16(bytes), v));
        assert_eq!(
            fmt_v128(v, Some(&V128Pattern::I32x4([0; 4]))),
            "i32x4 2143289344 1065353216 1073741824 -2"
        );
    }

    #[test]
    fn splitting_and_messages() {
        let src = "(a \"x)\\\"\" (; ( ;) ;; )\n) (; (; nested ;) ;) (b)";
        assert_eq!(split_top_level(src), Some(vec![(0, 24), (44, 47)]));
        assert_eq!(split_top_level("(a"), None);
        assert_eq!(split_top_level("a"), None);
        assert_eq!(chunk_keyword("(  assert_return (invoke))"), "assert_return");
        assert!(trap_message_matches(
            "out of bounds table access",
            "undefined element"
        ));
        assert!(trap_message_matches(
            "uninitialized element",
            "uninitialized element 2"
        ));
        assert!(!trap_message_matches("unreachable", "integer overflow"));
        let lines = LineIndex::new("ab\ncd\n");
        assert_eq!(lines.line_col(0), (1, 1));
        assert_eq!(lines.line_col(4), (2, 2));
    }
}
