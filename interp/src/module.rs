//! Module decoding and validation.
//!
//! [`Module::new`] validates the whole binary with `wasmparser` (every function body
//! included), records the sections the runtime needs, and keeps the bytes. Function bodies
//! are translated to register bytecode lazily, on first call ([`Module::code`]), unless the
//! engine asks for eager translation.

use crate::engine::EngineCore;
use crate::prelude::*;
use crate::sync::OnceLock;
use crate::translate::{self, CompiledFunc};
use crate::types::{ExternType, FuncType, GlobalType, HeapType, MemoryType, TableType, ValType};
use core::ops::Range;
use hashbrown::HashMap;
use wasmparser::{Parser, Payload, Validator};

/// One operation of a constant expression.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum ConstOp {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    RefNull,
    RefFunc(u32),
    GlobalGet(u32),
    /// A `v128.const`, as its two cells (bytes 0..8 and 8..16, little-endian).
    V128([u64; 2]),
    I32Add,
    I32Sub,
    I32Mul,
    I64Add,
    I64Sub,
    I64Mul,
}

/// A constant expression (initializers of globals, tables, segment offsets and elements).
#[derive(Clone, Debug, PartialEq)]
pub struct ConstExpr(pub Box<[ConstOp]>);

impl ConstExpr {
    fn parse(expr: &wasmparser::ConstExpr<'_>) -> Result<ConstExpr, String> {
        use wasmparser::Operator as O;
        let mut ops = Vec::new();
        let mut reader = expr.get_operators_reader();
        while !reader.eof() {
            let op = reader.read().map_err(|e| e.to_string())?;
            ops.push(match op {
                O::I32Const { value } => ConstOp::I32(value),
                O::I64Const { value } => ConstOp::I64(value),
                O::F32Const { value } => ConstOp::F32(value.bits()),
                O::F64Const { value } => ConstOp::F64(value.bits()),
                O::RefNull { .. } => ConstOp::RefNull,
                O::RefFunc { function_index } => ConstOp::RefFunc(function_index),
                O::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
                O::V128Const { value } => {
                    ConstOp::V128(crate::simd::V128(*value.bytes()).to_cells())
                }
                O::I32Add => ConstOp::I32Add,
                O::I32Sub => ConstOp::I32Sub,
                O::I32Mul => ConstOp::I32Mul,
                O::I64Add => ConstOp::I64Add,
                O::I64Sub => ConstOp::I64Sub,
                O::I64Mul => ConstOp::I64Mul,
                O::End => continue,
                other => {
                    return Err(format!(
                        "unsupported constant expression operator {other:?}"
                    ));
                }
            });
        }
        Ok(ConstExpr(ops.into_boxed_slice()))
    }

    /// Evaluates the expression. `global` reads a global's cell, `func` turns a function
    /// index into a funcref cell.
    pub fn eval(&self, global: &dyn Fn(u32) -> u64, func: &dyn Fn(u32) -> u64) -> u64 {
        let mut stack: smallvec::SmallVec<[u64; 4]> = smallvec::SmallVec::new();
        for op in self.0.iter() {
            let v = match *op {
                ConstOp::I32(v) => v as u32 as u64,
                ConstOp::I64(v) => v as u64,
                ConstOp::F32(v) => v as u64,
                ConstOp::F64(v) => v,
                ConstOp::RefNull => 0,
                ConstOp::RefFunc(f) => func(f),
                ConstOp::GlobalGet(g) => global(g),
                ConstOp::V128([lo, _]) => lo,
                bin => {
                    // Validation guarantees two operands of the right type.
                    let b = stack.pop().unwrap_or(0);
                    let a = stack.pop().unwrap_or(0);
                    let (a32, b32) = (a as u32, b as u32);
                    match bin {
                        ConstOp::I32Add => a32.wrapping_add(b32) as u64,
                        ConstOp::I32Sub => a32.wrapping_sub(b32) as u64,
                        ConstOp::I32Mul => a32.wrapping_mul(b32) as u64,
                        ConstOp::I64Add => a.wrapping_add(b),
                        ConstOp::I64Sub => a.wrapping_sub(b),
                        _ => a.wrapping_mul(b),
                    }
                }
            };
            stack.push(v);
        }
        stack.pop().unwrap_or(0)
    }

    /// Evaluates a `v128` expression (validated: `v128.const` or `global.get` of a v128
    /// global) to its two cells. `global` reads a global's two cells.
    pub fn eval_v128(&self, global: &dyn Fn(u32) -> [u64; 2]) -> [u64; 2] {
        match self.0.first() {
            Some(ConstOp::V128(cells)) => *cells,
            Some(ConstOp::GlobalGet(g)) => global(*g),
            _ => [0, 0],
        }
    }
}

#[derive(Clone, Debug)]
pub struct Import {
    pub module: String,
    pub name: String,
    pub ty: ImportKind,
}

/// What an import is, with indices into the module's own type lists.
#[derive(Clone, Debug)]
pub enum ImportKind {
    Func(u32),
    Table(TableType),
    Memory(MemoryType),
    Global(GlobalType),
    /// A tag, by the index of its function type.
    Tag(u32),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ExportKind {
    Func,
    Table,
    Memory,
    Global,
    Tag,
}

#[derive(Clone, Debug)]
pub struct Export {
    pub name: String,
    pub kind: ExportKind,
    pub index: u32,
}

#[derive(Clone, Debug)]
pub enum SegmentMode {
    Passive,
    Active { index: u32, offset: ConstExpr },
    Declared,
}

#[derive(Clone, Debug)]
pub struct ElemSegment {
    pub mode: SegmentMode,
    pub ty: ValType,
    pub items: Vec<ConstExpr>,
}

#[derive(Clone, Debug)]
pub struct DataSegment {
    pub mode: SegmentMode,
    /// Byte range of the contents within the module's bytes.
    pub range: Range<usize>,
}

#[derive(Clone, Debug)]
pub struct GlobalDef {
    pub ty: GlobalType,
    pub init: ConstExpr,
}

#[derive(Clone, Debug)]
pub struct TableDef {
    pub ty: TableType,
    pub init: Option<ConstExpr>,
}

/// Names from the name section.
#[derive(Clone, Debug, Default)]
pub struct Names {
    pub module: Option<String>,
    pub funcs: HashMap<u32, String>,
}

/// A validated module. Shared (`Arc`) between the stores and instances that use it.
pub struct Module {
    pub(crate) bytes: Box<[u8]>,
    /// The module's function types, by type index. Struct and array types (which only
    /// recursion groups use here) have an empty placeholder: validation ensures that
    /// no function or `call_indirect` uses one.
    pub types: Vec<FuncType>,
    /// Engine-wide canonical id of each entry of `types` (see `crate::registry`).
    pub type_ids: Vec<u32>,
    /// The heap type of each entry of `types` (concrete, with its canonical id).
    pub heap_types: Vec<HeapType>,
    pub imports: Vec<Import>,
    /// Type index of every function, imports first.
    pub funcs: Vec<u32>,
    pub num_imported_funcs: u32,
    /// Imported tables first; their `init` is `None`.
    pub tables: Vec<TableDef>,
    pub num_imported_tables: u32,
    pub memories: Vec<MemoryType>,
    pub num_imported_memories: u32,
    /// Defined globals only; imported globals come first in the index space.
    pub globals: Vec<GlobalDef>,
    pub global_types: Vec<GlobalType>,
    pub num_imported_globals: u32,
    /// Type index of every tag, imports first.
    pub tags: Vec<u32>,
    pub num_imported_tags: u32,
    pub exports: Vec<Export>,
    pub start: Option<u32>,
    pub elems: Vec<ElemSegment>,
    pub datas: Vec<DataSegment>,
    /// Byte range of each defined function's body.
    pub(crate) bodies: Vec<Range<usize>>,
    code: Box<[LazyCode]>,
    /// Direct entries of the functions with native code, by defined-function index (see
    /// `crate::native`).
    direct: Box<[crate::native::DirectEntry]>,
    pub names: Names,
    /// The proposals the module was validated with (decoding depends on them).
    features: wasmparser::WasmFeatures,
    /// The engine's `consume_fuel` and `epoch_interruption`: the translator emits fuel
    /// and epoch checks only when these are on.
    pub(crate) consume_fuel: bool,
    pub(crate) epoch_interruption: bool,
    /// Whether loops get `loop_header` rows (the engine tiers up after some calls: see
    /// `Instr::LoopHeader`).
    pub(crate) osr: bool,
    /// Threads a code generator may use to compile this module's functions (1 when the
    /// engine turned parallel compilation off, or without `std`).
    pub compile_threads: usize,
}

impl core::fmt::Debug for Module {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Module")
            .field("name", &self.names.module)
            .field("funcs", &self.funcs.len())
            .field("imports", &self.imports.len())
            .field("exports", &self.exports.len())
            .finish()
    }
}

fn err(e: wasmparser::BinaryReaderError) -> String {
    e.to_string()
}

impl Module {
    /// Decodes and validates `bytes`. Errors are human-readable strings with offsets.
    pub fn new(engine: &EngineCore, bytes: &[u8]) -> Result<Module, String> {
        let features = engine.config.features;
        let mut validator = Validator::new_with_features(features);
        let mut m = Module {
            bytes: bytes.to_vec().into_boxed_slice(),
            types: Vec::new(),
            type_ids: Vec::new(),
            heap_types: Vec::new(),
            imports: Vec::new(),
            funcs: Vec::new(),
            num_imported_funcs: 0,
            tables: Vec::new(),
            num_imported_tables: 0,
            memories: Vec::new(),
            num_imported_memories: 0,
            globals: Vec::new(),
            global_types: Vec::new(),
            num_imported_globals: 0,
            tags: Vec::new(),
            num_imported_tags: 0,
            exports: Vec::new(),
            start: None,
            elems: Vec::new(),
            datas: Vec::new(),
            bodies: Vec::new(),
            code: Box::new([]),
            direct: Box::new([]),
            names: Names::default(),
            features,
            consume_fuel: engine.config.consume_fuel,
            epoch_interruption: engine.config.epoch_interruption,
            osr: engine.codegen.is_some()
                && matches!(engine.config.jit_threshold, Some(t) if t > 0),
            compile_threads: if engine.config.parallel_compilation {
                parallelism()
            } else {
                1
            },
        };
        // Function bodies are validated after the parse (on several threads for a large
        // module: see `check_bodies`).
        let mut bodies = Vec::new();
        // The parser gets the same features as the validator: some encodings (memory
        // limits, for one) are decoded according to the enabled proposals.
        let mut parser = Parser::new(0);
        parser.set_features(features);
        for payload in parser.parse_all(bytes) {
            let payload = payload.map_err(err)?;
            let valid = validator.payload(&payload).map_err(err)?;
            match payload {
                Payload::TypeSection(reader) => {
                    for group in reader {
                        let start = m.types.len() as u32;
                        let group = group.map_err(err)?;
                        for t in engine.register_group(&group, start, &m.heap_types)? {
                            m.type_ids.push(t.heap.id());
                            m.heap_types.push(t.heap);
                            m.types.push(t.func);
                        }
                    }
                }
                Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        let import = import.map_err(err)?;
                        let ty = match import.ty {
                            wasmparser::TypeRef::Func(t) => {
                                m.funcs.push(t);
                                m.num_imported_funcs += 1;
                                ImportKind::Func(t)
                            }
                            wasmparser::TypeRef::Table(t) => {
                                let t = table_type(&t, &m.heap_types)?;
                                m.tables.push(TableDef { ty: t, init: None });
                                m.num_imported_tables += 1;
                                ImportKind::Table(t)
                            }
                            wasmparser::TypeRef::Memory(t) => {
                                let t = memory_type(&t);
                                m.memories.push(t);
                                m.num_imported_memories += 1;
                                ImportKind::Memory(t)
                            }
                            wasmparser::TypeRef::Global(t) => {
                                let t = global_type(&t, &m.heap_types)?;
                                m.global_types.push(t);
                                m.num_imported_globals += 1;
                                ImportKind::Global(t)
                            }
                            wasmparser::TypeRef::Tag(t) => {
                                m.tags.push(t.func_type_idx);
                                m.num_imported_tags += 1;
                                ImportKind::Tag(t.func_type_idx)
                            }
                            other => return Err(format!("unsupported import kind {other:?}")),
                        };
                        m.imports.push(Import {
                            module: import.module.to_string(),
                            name: import.name.to_string(),
                            ty,
                        });
                    }
                }
                Payload::FunctionSection(reader) => {
                    for t in reader {
                        m.funcs.push(t.map_err(err)?);
                    }
                }
                Payload::TableSection(reader) => {
                    for table in reader {
                        let table = table.map_err(err)?;
                        let init = match &table.init {
                            wasmparser::TableInit::RefNull => None,
                            wasmparser::TableInit::Expr(e) => Some(ConstExpr::parse(e)?),
                        };
                        m.tables.push(TableDef {
                            ty: table_type(&table.ty, &m.heap_types)?,
                            init,
                        });
                    }
                }
                Payload::TagSection(reader) => {
                    for tag in reader {
                        m.tags.push(tag.map_err(err)?.func_type_idx);
                    }
                }
                Payload::MemorySection(reader) => {
                    for mem in reader {
                        m.memories.push(memory_type(&mem.map_err(err)?));
                    }
                }
                Payload::GlobalSection(reader) => {
                    for g in reader {
                        let g = g.map_err(err)?;
                        let ty = global_type(&g.ty, &m.heap_types)?;
                        m.global_types.push(ty);
                        m.globals.push(GlobalDef {
                            ty,
                            init: ConstExpr::parse(&g.init_expr)?,
                        });
                    }
                }
                Payload::ExportSection(reader) => {
                    for e in reader {
                        let e = e.map_err(err)?;
                        let kind = match e.kind {
                            wasmparser::ExternalKind::Func => ExportKind::Func,
                            wasmparser::ExternalKind::Table => ExportKind::Table,
                            wasmparser::ExternalKind::Memory => ExportKind::Memory,
                            wasmparser::ExternalKind::Global => ExportKind::Global,
                            wasmparser::ExternalKind::Tag => ExportKind::Tag,
                            other => return Err(format!("unsupported export kind {other:?}")),
                        };
                        m.exports.push(Export {
                            name: e.name.to_string(),
                            kind,
                            index: e.index,
                        });
                    }
                }
                Payload::StartSection { func, .. } => m.start = Some(func),
                Payload::ElementSection(reader) => {
                    for elem in reader {
                        let elem = elem.map_err(err)?;
                        let mode = match elem.kind {
                            wasmparser::ElementKind::Passive => SegmentMode::Passive,
                            wasmparser::ElementKind::Declared => SegmentMode::Declared,
                            wasmparser::ElementKind::Active {
                                table_index,
                                offset_expr,
                            } => SegmentMode::Active {
                                index: table_index.unwrap_or(0),
                                offset: ConstExpr::parse(&offset_expr)?,
                            },
                        };
                        let (ty, items) = match elem.items {
                            wasmparser::ElementItems::Functions(funcs) => {
                                let mut items = Vec::new();
                                for f in funcs {
                                    let f = f.map_err(err)?;
                                    items.push(ConstExpr(Box::new([ConstOp::RefFunc(f)])));
                                }
                                (ValType::FuncRef, items)
                            }
                            wasmparser::ElementItems::Expressions(ty, exprs) => {
                                let mut items = Vec::new();
                                for e in exprs {
                                    items.push(ConstExpr::parse(&e.map_err(err)?)?);
                                }
                                (ValType::from_ref_type(ty, &m.heap_types)?, items)
                            }
                        };
                        m.elems.push(ElemSegment { mode, ty, items });
                    }
                }
                Payload::DataSection(reader) => {
                    for data in reader {
                        let data = data.map_err(err)?;
                        let mode = match data.kind {
                            wasmparser::DataKind::Passive => SegmentMode::Passive,
                            wasmparser::DataKind::Active {
                                memory_index,
                                offset_expr,
                            } => SegmentMode::Active {
                                index: memory_index,
                                offset: ConstExpr::parse(&offset_expr)?,
                            },
                        };
                        let start = data.data.as_ptr() as usize - bytes.as_ptr() as usize;
                        m.datas.push(DataSegment {
                            mode,
                            range: start..start + data.data.len(),
                        });
                    }
                }
                Payload::CodeSectionEntry(body) => {
                    if let wasmparser::ValidPayload::Func(func, body) = valid {
                        bodies.push((func, body));
                    }
                    let range = body.range();
                    m.bodies.push(range.start as usize..range.end as usize);
                }
                Payload::CustomSection(reader) => {
                    if let wasmparser::KnownCustom::Name(names) = reader.as_known() {
                        // A malformed name section is not an error (it is a custom section).
                        let _ = read_names(&mut m.names, names);
                    }
                }
                _ => {}
            }
        }
        m.code = (0..m.bodies.len()).map(|_| OnceLock::new()).collect();
        m.direct = (0..m.bodies.len()).map(|_| Default::default()).collect();
        m.check_bodies(engine, bodies)?;
        Ok(m)
    }

    /// Threads for validating and translating this module: one per core for a module with
    /// at least `PARALLEL_MIN_BYTES` of code (unless the engine turned that off), else 1.
    fn compile_threads_for(&self, engine: &EngineCore) -> usize {
        let code_bytes: usize = self.bodies.iter().map(|r| r.len()).sum();
        if engine.config.parallel_compilation && code_bytes >= PARALLEL_MIN_BYTES {
            parallelism()
        } else {
            1
        }
    }

    /// Validates the function bodies (and translates them, with eager translation).
    /// A large module's bodies are shared out to one thread per core, unless the engine
    /// turned parallel compilation off. Reports the first failing function's error
    /// (validation errors before translation errors), whatever the threads' order.
    fn check_bodies(&self, engine: &EngineCore, bodies: Vec<FuncJob<'_>>) -> Result<(), String> {
        let eager = engine.config.eager_translation;
        let threads = self.compile_threads_for(engine);
        if threads <= 1 && !eager {
            let mut allocs = wasmparser::FuncValidatorAllocations::default();
            for (func, body) in bodies {
                let valid;
                (valid, allocs) = crate::unsupported::validate_body_fast(
                    func,
                    allocs,
                    &body,
                    &self.heap_types,
                    self.features,
                );
                valid?;
            }
            return Ok(());
        }
        if threads <= 1 {
            return self.check_and_translate(bodies);
        }
        self.check_bodies_parallel(bodies, eager, threads)
    }

    /// [`Self::check_bodies`] on one thread with eager translation. A translation error is
    /// kept (in the function's slot, too) while validation goes on, so the errors win in
    /// the same order as with separate passes.
    fn check_and_translate(&self, bodies: Vec<FuncJob<'_>>) -> Result<(), String> {
        let mut allocs = wasmparser::FuncValidatorAllocations::default();
        let mut first_translation_error = None;
        for (i, (func, body)) in bodies.into_iter().enumerate() {
            let valid;
            (valid, allocs) = self.check_and_translate_one(i, func, body, allocs);
            if let Err(e) = valid? {
                first_translation_error.get_or_insert(e);
            }
        }
        first_translation_error.map_or(Ok(()), Err)
    }

    /// Validates and translates defined function `i` with one decoding of its body: every
    /// operator goes to the translator right after the validator. The translation (or its
    /// error) fills the function's slot. Returns `Err` for a validation error, else
    /// `Ok` of the translation's outcome, and the validator's allocations for the next.
    fn check_and_translate_one(
        &self,
        i: usize,
        func: wasmparser::FuncToValidate<wasmparser::ValidatorResources>,
        body: wasmparser::FunctionBody<'_>,
        allocs: wasmparser::FuncValidatorAllocations,
    ) -> (
        Result<Result<(), String>, String>,
        wasmparser::FuncValidatorAllocations,
    ) {
        let mut v = func.into_validator(allocs);
        let mut t = translate::Translator::new(self, i as u32, &body);
        let valid = crate::unsupported::validate_body_with(
            &mut v,
            &body,
            &self.heap_types,
            self.features,
            |op| {
                let step = match &mut t {
                    Ok(t) if !t.done() => t.visit(op),
                    _ => Ok(()),
                };
                if let Err(e) = step {
                    t = Err(e);
                }
            },
        );
        let allocs = v.into_allocations();
        if let Err(e) = valid {
            return (Err(e), allocs);
        }
        let result = t.and_then(translate::Translator::finish);
        let outcome = result.as_ref().map(|_| ()).map_err(Clone::clone);
        // The slot is empty: nothing else can reach the module before `new` returns.
        let _ = self.code[i].set(result.map(Box::new));
        (Ok(outcome), allocs)
    }

    #[cfg(feature = "std")]
    fn check_bodies_parallel(
        &self,
        bodies: Vec<FuncJob<'_>>,
        eager: bool,
        threads: usize,
    ) -> Result<(), String> {
        use std::sync::Mutex;
        // Each job: validate a body (and translate it, with eager translation). The first
        // error by function index wins (validation's over translation's).
        let jobs = Mutex::new(bodies.into_iter().enumerate());
        let first_error: Mutex<Option<(bool, usize, String)>> = Mutex::new(None);
        let note = |translation: bool, i: usize, e: String| {
            let mut slot = first_error.lock().unwrap_or_else(|p| p.into_inner());
            if slot
                .as_ref()
                .is_none_or(|(t, j, _)| (translation, i) < (*t, *j))
            {
                *slot = Some((translation, i, e));
            }
        };
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    let mut allocs = wasmparser::FuncValidatorAllocations::default();
                    loop {
                        let next = jobs.lock().unwrap_or_else(|p| p.into_inner()).next();
                        let Some((i, (func, body))) = next else { break };
                        if eager {
                            let outcome;
                            (outcome, allocs) = self.check_and_translate_one(i, func, body, allocs);
                            match outcome {
                                Err(e) => note(false, i, e),
                                Ok(Err(e)) => note(true, i, e),
                                Ok(Ok(())) => {}
                            }
                            continue;
                        }
                        let valid;
                        (valid, allocs) = crate::unsupported::validate_body_fast(
                            func,
                            allocs,
                            &body,
                            &self.heap_types,
                            self.features,
                        );
                        if let Err(e) = valid {
                            note(false, i, e);
                        }
                    }
                });
            }
        });
        match first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some((_, _, e)) => Err(e),
            None => Ok(()),
        }
    }

    #[cfg(not(feature = "std"))]
    fn check_bodies_parallel(
        &self,
        _bodies: Vec<FuncJob<'_>>,
        _eager: bool,
        _threads: usize,
    ) -> Result<(), String> {
        unreachable!("`parallelism` is 1 without `std`")
    }

    /// Translates every function body not translated yet, on one thread per core for a
    /// large module (see [`Self::check_bodies`]); the first error by function index.
    pub fn translate_all(&self, engine: &EngineCore) -> Result<(), String> {
        let threads = self.compile_threads_for(engine);
        #[cfg(feature = "std")]
        if threads > 1 {
            use core::sync::atomic::{AtomicUsize, Ordering};
            let next = AtomicUsize::new(0);
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(|| {
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= self.bodies.len() {
                                break;
                            }
                            // Errors are kept in the slot and reported below, in order.
                            let _ = self.code(i as u32);
                        }
                    });
                }
            });
        }
        let _ = threads;
        for i in 0..self.bodies.len() {
            self.code(i as u32)?;
        }
        Ok(())
    }

    /// The register bytecode of defined function `def_index` (0 = first non-imported
    /// function), translated on first use.
    pub fn code(&self, def_index: u32) -> Result<&CompiledFunc, String> {
        let slot = self
            .code
            .get(def_index as usize)
            .ok_or_else(|| format!("no function body {def_index}"))?;
        let result = slot.get_or_init(|| translate::translate(self, def_index).map(Box::new));
        result.as_deref().map_err(Clone::clone)
    }

    /// Gives `f` (a function of this module) the native code `make` compiles, unless it
    /// has an outcome already, and publishes its direct entry to native callers. Returns
    /// the native code, if any.
    pub fn install_native<'f>(
        &self,
        f: &'f CompiledFunc,
        make: impl FnOnce() -> Result<crate::native::NativeCode, String>,
    ) -> Option<&'f crate::native::NativeCode> {
        let native = f.jit.compile_with(make)?;
        if let (Some(addr), Some(slot)) = (
            native.direct(),
            f.func_index
                .checked_sub(self.num_imported_funcs)
                .and_then(|def| self.direct.get(def as usize)),
        ) {
            slot.publish(f, addr);
        }
        Some(native)
    }

    /// The direct-entry table native code reads (see `crate::native`).
    pub(crate) fn direct_table(&self) -> *const crate::native::DirectEntry {
        self.direct.as_ptr()
    }

    /// The register bytecode of defined function `def_index` if it has been translated
    /// already: the check a call's fast path makes (it never translates).
    #[inline(always)]
    pub(crate) fn compiled(&self, def_index: u32) -> Option<&CompiledFunc> {
        match self.code.get(def_index as usize)?.get()? {
            Ok(f) => Some(f),
            Err(_) => None,
        }
    }

    /// The function type of function `index` (imports included).
    pub fn func_type(&self, index: u32) -> &FuncType {
        &self.types[self.funcs[index as usize] as usize]
    }

    /// The type of an import.
    pub fn import_type(&self, import: &Import) -> ExternType {
        match &import.ty {
            ImportKind::Func(t) => ExternType::Func(self.types[*t as usize].clone()),
            ImportKind::Table(t) => ExternType::Table(*t),
            ImportKind::Memory(t) => ExternType::Memory(*t),
            ImportKind::Global(t) => ExternType::Global(*t),
            ImportKind::Tag(t) => ExternType::Tag(self.types[*t as usize].clone()),
        }
    }

    /// The type of an export.
    pub fn export_type(&self, export: &Export) -> ExternType {
        match export.kind {
            ExportKind::Func => ExternType::Func(self.func_type(export.index).clone()),
            ExportKind::Table => ExternType::Table(self.tables[export.index as usize].ty),
            ExportKind::Memory => ExternType::Memory(self.memories[export.index as usize]),
            ExportKind::Global => ExternType::Global(self.global_types[export.index as usize]),
            ExportKind::Tag => ExternType::Tag(self.tag_type(export.index).clone()),
        }
    }

    /// The payload type of tag `index` (imports included).
    pub fn tag_type(&self, index: u32) -> &FuncType {
        &self.types[self.tags[index as usize] as usize]
    }

    /// The bytes of a data segment.
    pub fn data_bytes(&self, seg: u32) -> &[u8] {
        &self.bytes[self.datas[seg as usize].range.clone()]
    }

    /// The name of function `index` from the name section.
    pub fn func_name(&self, index: u32) -> Option<&str> {
        self.names.funcs.get(&index).map(String::as_str)
    }

    /// Number of functions defined (not imported) by the module.
    pub fn num_defined_funcs(&self) -> u32 {
        self.bodies.len() as u32
    }

    /// The function body bytes of defined function `def_index` and their offset.
    pub(crate) fn body(&self, def_index: u32) -> wasmparser::FunctionBody<'_> {
        let range = self.bodies[def_index as usize].clone();
        let reader = wasmparser::BinaryReader::new_features(
            &self.bytes[range.clone()],
            range.start as u64,
            self.features,
        );
        wasmparser::FunctionBody::new(reader)
    }
}

fn read_names(names: &mut Names, reader: wasmparser::NameSectionReader<'_>) -> Result<(), String> {
    for name in reader {
        match name.map_err(err)? {
            wasmparser::Name::Module { name, .. } => names.module = Some(name.to_string()),
            wasmparser::Name::Function(map) => {
                for naming in map {
                    let naming = naming.map_err(err)?;
                    names.funcs.insert(naming.index, naming.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn table_type(t: &wasmparser::TableType, heaps: &[HeapType]) -> Result<TableType, String> {
    Ok(TableType {
        element: ValType::from_ref_type(t.element_type, heaps)?,
        min: t.initial,
        max: t.maximum,
        table64: t.table64,
    })
}

fn memory_type(t: &wasmparser::MemoryType) -> MemoryType {
    MemoryType {
        min: t.initial,
        max: t.maximum,
        memory64: t.memory64,
        shared: t.shared,
    }
}

fn global_type(t: &wasmparser::GlobalType, heaps: &[HeapType]) -> Result<GlobalType, String> {
    Ok(GlobalType {
        content: ValType::from_wasmparser(t.content_type, heaps)?,
        mutable: t.mutable,
    })
}

/// A function body waiting for validation.
type FuncJob<'a> = (
    wasmparser::FuncToValidate<wasmparser::ValidatorResources>,
    wasmparser::FunctionBody<'a>,
);

/// Modules with less code than this validate and translate on the calling thread: for
/// them, starting threads costs more than it saves.
const PARALLEL_MIN_BYTES: usize = 256 * 1024;

/// Threads for compiling one module: one per core (at most 16); 1 without `std`.
fn parallelism() -> usize {
    #[cfg(feature = "std")]
    {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(16))
    }
    #[cfg(not(feature = "std"))]
    {
        1
    }
}

/// A function's bytecode, translated on first use (or the translation error).
type LazyCode = OnceLock<Result<Box<CompiledFunc>, String>>;

/// Shared, reference-counted module.
pub type ModuleRef = Arc<Module>;
