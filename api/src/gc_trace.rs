//! `gloam gc-trace`: a step-by-step view of rooting and collection.
//!
//! Runs one export of a module and prints every [`GcEvent`] as it happens: root pushes and
//! pops, scopes, allocations, each collection's marks (with the root that reached each
//! object) and frees. `--step` pauses after each event until Enter; `--break-on KIND`
//! pauses only after events of one kind; `--why ID` reports, at every collection and at the
//! end, which roots keep object `#ID` alive (or that it is unreachable).
//!
//! Test programs get externrefs from the built-in host module `gloam:gc`:
//!
//! | import                          | does                                                  |
//! |---------------------------------|-------------------------------------------------------|
//! | `new (param i32) (result externref)` | allocates an object whose host data is the i32   |
//! | `gc`                            | runs a collection (the wasm frames below are roots)   |
//! | `drop_count (result i32)`       | how many objects' host data has been dropped so far   |
//! | `value (param externref) (result i32)` | the i32 inside an object (traps on null)      |

use crate::{Caller, Engine, ExternRef, GcEvent, Linker, Module, RootKind, Rooted, Store, Val};
use anyhow::{Context, Result, anyhow, bail};
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// Options of a trace run.
#[derive(Clone, Debug, Default)]
pub struct TraceOptions {
    /// JSON lines instead of text.
    pub json: bool,
    /// Pause after every event.
    pub step: bool,
    /// Pause after events of this kind only: `alloc`, `gc` (collection start) or `free`.
    pub break_on: Option<String>,
    /// Report what keeps this object (raw heap index) alive.
    pub why: Option<u32>,
}

/// Host data of `gloam:gc` objects: counts its drops.
struct Counted {
    value: i32,
    drops: Arc<AtomicU32>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// Defines the `gloam:gc` host module in `linker`.
pub fn define_gc_host<T: 'static>(linker: &mut Linker<T>, drops: Arc<AtomicU32>) -> Result<()> {
    let d = drops.clone();
    linker.func_wrap(
        "gloam:gc",
        "new",
        move |caller: Caller<'_, T>, value: i32| {
            ExternRef::new(
                caller,
                Counted {
                    value,
                    drops: d.clone(),
                },
            )
        },
    )?;
    linker.func_wrap("gloam:gc", "gc", |mut caller: Caller<'_, T>| caller.gc())?;
    linker.func_wrap("gloam:gc", "drop_count", move || {
        drops.load(Ordering::SeqCst) as i32
    })?;
    linker.func_wrap(
        "gloam:gc",
        "value",
        |caller: Caller<'_, T>, r: Rooted<ExternRef>| -> Result<i32> {
            let data = r.data(&caller)?;
            data.downcast_ref::<Counted>()
                .map(|c| c.value)
                .ok_or_else(|| anyhow!("not a gloam:gc object"))
        },
    )?;
    Ok(())
}

fn json_kind(kind: &RootKind) -> String {
    match kind {
        RootKind::Lifo { index } => format!(r#"{{"root":"lifo","index":{index}}}"#),
        RootKind::Manual { index } => format!(r#"{{"root":"manual","index":{index}}}"#),
        RootKind::Owned => r#"{"root":"owned"}"#.to_string(),
        RootKind::Global { global } => format!(r#"{{"root":"global","global":{global}}}"#),
        RootKind::Table { table, index } => {
            format!(r#"{{"root":"table","table":{table},"index":{index}}}"#)
        }
        RootKind::WasmFrame {
            func_index,
            pc,
            cell,
        } => {
            format!(r#"{{"root":"wasm-frame","func":{func_index},"pc":{pc},"cell":{cell}}}"#)
        }
        RootKind::Edge { from } => {
            format!(r#"{{"root":"edge","from":{}}}"#, from.as_raw())
        }
        RootKind::PendingException => r#"{"root":"pending-exception"}"#.to_string(),
    }
}

/// One event as a JSON object (one line).
pub fn event_json(seq: u64, e: &GcEvent) -> String {
    let body = match e {
        GcEvent::Alloc { object, live } => format!(r#""object":{},"live":{live}"#, object.as_raw()),
        GcEvent::OutOfMemory { live, limit } => format!(r#""live":{live},"limit":{limit}"#),
        GcEvent::RootPush { kind, object } | GcEvent::RootPop { kind, object } => {
            format!(r#""object":{},"kind":{}"#, object.as_raw(), json_kind(kind))
        }
        GcEvent::ScopeEnter { depth, lifo_len } => {
            format!(r#""depth":{depth},"lifo_len":{lifo_len}"#)
        }
        GcEvent::ScopeExit { depth, popped } => format!(r#""depth":{depth},"popped":{popped}"#),
        GcEvent::CollectStart { live } => format!(r#""live":{live}"#),
        GcEvent::Mark { object, via } => {
            format!(r#""object":{},"via":{}"#, object.as_raw(), json_kind(via))
        }
        GcEvent::Free { object } => format!(r#""object":{}"#, object.as_raw()),
        GcEvent::CollectEnd { freed, live } => format!(r#""freed":{freed},"live":{live}"#),
    };
    format!(r#"{{"seq":{seq},"event":"{}",{body}}}"#, e.name())
}

fn pauses(opts: &TraceOptions, e: &GcEvent) -> bool {
    match opts.break_on.as_deref() {
        Some("alloc") => matches!(e, GcEvent::Alloc { .. }),
        Some("gc") => matches!(e, GcEvent::CollectStart { .. }),
        Some("free") => matches!(e, GcEvent::Free { .. }),
        Some(_) => false,
        None => opts.step,
    }
}

struct Tracer {
    out: Box<dyn Write + Send>,
    input: Box<dyn BufRead + Send>,
    opts: TraceOptions,
    seq: u64,
    /// Roots that marked the `--why` object in the current collection.
    why_marks: Vec<RootKind>,
    input_closed: bool,
}

impl Tracer {
    fn event(&mut self, e: &GcEvent) {
        self.seq += 1;
        let line = if self.opts.json {
            event_json(self.seq, e)
        } else {
            format!("[{:>5}] {e}", self.seq)
        };
        let _ = writeln!(self.out, "{line}");
        if let Some(id) = self.opts.why {
            match e {
                GcEvent::CollectStart { .. } => self.why_marks.clear(),
                GcEvent::Mark { object, via } if object.as_raw() == id => {
                    self.why_marks.push(via.clone())
                }
                GcEvent::CollectEnd { .. } => {
                    let msg = why_text(id, &self.why_marks);
                    let _ = writeln!(self.out, "        why #{id}: {msg}");
                }
                _ => {}
            }
        }
        if pauses(&self.opts, e) && !self.input_closed {
            let _ = write!(
                self.out,
                "        -- paused after {}; Enter to continue --",
                e.name()
            );
            let _ = self.out.flush();
            let mut line = String::new();
            // End of input means nobody is stepping any more: run to the end.
            if matches!(self.input.read_line(&mut line), Ok(0) | Err(_)) {
                self.input_closed = true;
            }
            let _ = writeln!(self.out);
        }
        let _ = self.out.flush();
    }
}

fn why_text(id: u32, roots: &[RootKind]) -> String {
    if roots.is_empty() {
        return format!("unreachable: no root reaches #{id}");
    }
    let chains: Vec<String> = roots.iter().map(|r| format!("{r} -> #{id}")).collect();
    format!("alive: {}", chains.join("; "))
}

/// Runs `invoke` of the module in `path` with `args`, tracing GC events to `out`.
pub fn run(
    path: &std::path::Path,
    invoke: &str,
    args: &[Val],
    opts: TraceOptions,
    input: Box<dyn BufRead + Send>,
    out: Box<dyn Write + Send>,
) -> Result<Vec<Val>> {
    if let Some(kind) = &opts.break_on
        && !["alloc", "gc", "free"].contains(&kind.as_str())
    {
        bail!("--break-on takes alloc, gc or free, not `{kind}`");
    }
    let engine = Engine::default();
    let module = Module::from_file(&engine, path)?;
    let mut store = Store::new(&engine, ());
    let why = opts.why;
    let tracer = Arc::new(Mutex::new(Tracer {
        out,
        input,
        opts,
        seq: 0,
        why_marks: Vec::new(),
        input_closed: false,
    }));
    let sink = tracer.clone();
    store.set_gc_observer(move |e: &GcEvent| {
        if let Ok(mut t) = sink.lock() {
            t.event(e);
        }
    });
    let mut linker = Linker::new(&engine);
    define_gc_host(&mut linker, Arc::new(AtomicU32::new(0)))?;
    let instance = linker.instantiate(&mut store, &module)?;
    let func = instance
        .get_func(&mut store, invoke)
        .ok_or_else(|| anyhow!("no exported function named `{invoke}`"))?;
    let ty = func.ty(&store);
    let mut results: Vec<Val> = ty
        .results()
        .iter()
        .map(|t| Val::default_for_ty(*t))
        .collect();
    func.call(&mut store, args, &mut results)
        .with_context(|| format!("calling `{invoke}`"))?;
    if let Some(id) = why {
        let roots = store.gc_why(id);
        let mut t = tracer.lock().map_err(|_| anyhow!("tracer poisoned"))?;
        let msg = if store.inner.gc.heap.contains_raw(id) {
            why_text(id, &roots)
        } else {
            format!("#{id} is not a live object (never allocated, or freed)")
        };
        writeln!(t.out, "why #{id} after the run: {msg}")?;
    }
    store.clear_gc_observer();
    Ok(results)
}
