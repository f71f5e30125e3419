//! Compile throughput on a large module, and time to first call on it.
//!
//! The module is generated here, deterministically, at bench time (a fixed-seed PRNG; the
//! same size gives the same bytes): a few thousand functions shaped like compiled C
//! (locals of three types, nested counted loops, `if`/`else`, `br_table` switches,
//! `br_if` exits, direct and indirect calls, mixed-width loads and stores, integer and
//! float arithmetic, conversions and `select`), a function table holding every function,
//! one memory, and a cheap export `run(n: i32) -> i64` that returns `sum(i*i, i < n)`
//! without calling any generated function. Generating 8 MiB takes well under a second,
//! so no multi-megabyte binary is committed. `--large-module FILE` measures any other
//! module instead: time to first call when it imports nothing and exports
//! `run(i32) -> i64` (its result is then only compared between engines), compile
//! throughput only otherwise (real programs usually import WASI or `env` functions).
//!
//! Per engine: compile time (bytes to a module ready to instantiate and call: validation
//! for lazy engines, plus translation or native compilation for eager ones) as the median
//! of several runs in fresh engines after one untimed warm-up compile, throughput as
//! module bytes / that time, and time to first call: compile + instantiate + one call of
//! `run`, in a fresh engine.

use crate::alloc::PeakScope;
use crate::engines::Runtime;
use crate::measure::{BenchError, Stage, guarded, median, prepare};
use crate::workload::Signature;
use std::time::{Duration, Instant};
use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, ElementSection, Elements, ExportKind, ExportSection,
    Function, FunctionSection, Ieee64, InstructionSink, MemArg, MemArgTarget, MemorySection,
    MemoryType, Module, RefType, TableSection, TableType, TypeSection, ValType,
};

/// The `n` passed to `run` for the time-to-first-call figure.
pub const RUN_N: i32 = 1000;

/// What the generated module's `run(n)` returns: the sum of `i * i` for `0 <= i < n`
/// (for `n >= 1`; the loop runs at least once).
pub fn expected_run(n: i32) -> i64 {
    let n = i64::from(n.max(1));
    (n - 1) * n * (2 * n - 1) / 6
}

/// A generated module and what it holds.
pub struct LargeModule {
    pub bytes: Vec<u8>,
    /// Bytes of function bodies (the code section's payload).
    pub code_bytes: usize,
    pub functions: usize,
}

/// xorshift64*: small, fast and the same on every host.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// A value in `0..n` (`n > 0`).
    fn below(&mut self, n: u32) -> u32 {
        ((self.next() >> 32) % u64::from(n)) as u32
    }
    fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent
    }
}

/// The function types of the module, by type index.
const TYPES: [(&[ValType], &[ValType]); 5] = [
    (&[ValType::I32, ValType::I32], &[ValType::I32]),
    (&[ValType::I32, ValType::I64], &[ValType::I64]),
    (&[ValType::F64, ValType::F64], &[ValType::F64]),
    (&[ValType::I32], &[]),
    (&[ValType::I32], &[ValType::I64]),
];
/// The type of `run`.
const RUN_TYPE: u32 = 4;
/// Locals each generated function declares after its parameters; the last
/// `LOOP_COUNTERS` i32 locals are loop counters that nothing else writes.
const LOCAL_I32: u32 = 6;
const LOCAL_I64: u32 = 3;
const LOCAL_F64: u32 = 3;
const LOOP_COUNTERS: u32 = 2;
/// Entries in the function table; call_indirect masks its index to this (a power of 2).
const TABLE_MASK: i32 = 63;

/// Generates the function bodies of one function.
struct FnGen<'a> {
    rng: &'a mut Rng,
    /// The types of all locals (parameters first).
    locals: Vec<ValType>,
    /// Index of the first loop-counter local.
    counters: u32,
    /// Functions defined so far, by type index: callees (always lower indices, so the
    /// call graph has no cycles).
    callees: &'a [Vec<u32>; 5],
    loop_depth: u32,
}

fn memarg(offset: u64, align: u32) -> MemArg {
    MemArg {
        offset,
        align,
        target: MemArgTarget::Memory(0),
        ordering: None,
    }
}

impl FnGen<'_> {
    fn local_of(&mut self, ty: ValType, writable: bool) -> Option<u32> {
        let candidates: Vec<u32> = (0..self.locals.len() as u32)
            .filter(|&i| self.locals[i as usize] == ty && !(writable && self.is_counter(i)))
            .collect();
        (!candidates.is_empty())
            .then(|| candidates[self.rng.below(candidates.len() as u32) as usize])
    }

    fn is_counter(&self, local: u32) -> bool {
        (self.counters..self.counters + LOOP_COUNTERS).contains(&local)
    }

    fn callee(&mut self, ty: usize) -> Option<u32> {
        let list = &self.callees[ty];
        (!list.is_empty()).then(|| list[self.rng.below(list.len() as u32) as usize])
    }

    /// An address in the first page, 8-aligned.
    fn address(&mut self, s: &mut InstructionSink, depth: u32) {
        self.expr(s, ValType::I32, depth.saturating_sub(1));
        s.i32_const(0xfff8).i32_and();
    }

    fn args(&mut self, s: &mut InstructionSink, ty: usize, depth: u32) {
        for &p in TYPES[ty].0 {
            self.expr(s, p, depth.saturating_sub(1));
        }
    }

    /// Code that pushes one value of `ty`.
    fn expr(&mut self, s: &mut InstructionSink, ty: ValType, depth: u32) {
        if depth == 0 || self.rng.chance(25) {
            match self.local_of(ty, false) {
                Some(l) if self.rng.chance(70) => {
                    s.local_get(l);
                }
                _ => {
                    let v = self.rng.next();
                    match ty {
                        ValType::I32 => s.i32_const((v as i32) >> self.rng.below(31)),
                        ValType::I64 => s.i64_const((v as i64) >> self.rng.below(63)),
                        _ => s.f64_const(Ieee64::from((v % 10_000) as f64 / 7.0)),
                    };
                }
            }
            return;
        }
        let d = depth - 1;
        match ty {
            ValType::I32 => match self.rng.below(9) {
                0..=2 => {
                    self.expr(s, ValType::I32, d);
                    self.expr(s, ValType::I32, d);
                    match self.rng.below(10) {
                        0 => s.i32_add(),
                        1 => s.i32_sub(),
                        2 => s.i32_mul(),
                        3 => s.i32_and(),
                        4 => s.i32_or(),
                        5 => s.i32_xor(),
                        6 => s.i32_shl(),
                        7 => s.i32_shr_u(),
                        8 => s.i32_rotl(),
                        _ => s.i32_lt_s(),
                    };
                }
                3 => {
                    self.expr(s, ValType::I64, d);
                    self.expr(s, ValType::I64, d);
                    if self.rng.chance(50) {
                        s.i64_lt_u()
                    } else {
                        s.i64_ne()
                    };
                }
                4 => {
                    self.expr(s, ValType::F64, d);
                    if self.rng.chance(50) {
                        self.expr(s, ValType::F64, d);
                        s.f64_gt();
                    } else {
                        s.i32_trunc_sat_f64_s();
                    }
                }
                5 => {
                    self.address(s, d);
                    match self.rng.below(3) {
                        0 => s.i32_load(memarg(u64::from(self.rng.below(8)), 2)),
                        1 => s.i32_load8_u(memarg(u64::from(self.rng.below(8)), 0)),
                        _ => s.i32_load16_s(memarg(0, 1)),
                    };
                }
                6 => {
                    self.expr(s, ValType::I64, d);
                    s.i32_wrap_i64();
                }
                7 => {
                    self.expr(s, ValType::I32, d);
                    self.expr(s, ValType::I32, d);
                    self.expr(s, ValType::I32, d);
                    s.select();
                }
                _ => match self.callee(0) {
                    Some(f) => {
                        self.args(s, 0, d);
                        s.call(f);
                    }
                    None => {
                        self.expr(s, ValType::I32, d);
                        s.i32_eqz();
                    }
                },
            },
            ValType::I64 => match self.rng.below(6) {
                0..=2 => {
                    self.expr(s, ValType::I64, d);
                    self.expr(s, ValType::I64, d);
                    match self.rng.below(8) {
                        0 => s.i64_add(),
                        1 => s.i64_sub(),
                        2 => s.i64_mul(),
                        3 => s.i64_and(),
                        4 => s.i64_xor(),
                        5 => s.i64_shr_u(),
                        6 => s.i64_rotl(),
                        _ => s.i64_or(),
                    };
                }
                3 => {
                    self.expr(s, ValType::I32, d);
                    if self.rng.chance(50) {
                        s.i64_extend_i32_s()
                    } else {
                        s.i64_extend_i32_u()
                    };
                }
                4 => {
                    self.address(s, d);
                    s.i64_load(memarg(u64::from(self.rng.below(4)) * 8, 3));
                }
                _ => match self.callee(1) {
                    Some(f) => {
                        self.args(s, 1, d);
                        s.call(f);
                    }
                    None => {
                        self.expr(s, ValType::I32, d);
                        s.i64_extend_i32_u();
                    }
                },
            },
            _ => match self.rng.below(6) {
                0..=2 => {
                    self.expr(s, ValType::F64, d);
                    self.expr(s, ValType::F64, d);
                    match self.rng.below(6) {
                        0 => s.f64_add(),
                        1 => s.f64_sub(),
                        2 => s.f64_mul(),
                        3 => s.f64_div(),
                        4 => s.f64_min(),
                        _ => s.f64_max(),
                    };
                }
                3 => {
                    self.expr(s, ValType::F64, d);
                    if self.rng.chance(50) {
                        s.f64_sqrt()
                    } else {
                        s.f64_abs()
                    };
                }
                4 => {
                    if self.rng.chance(50) {
                        self.address(s, d);
                        s.f64_load(memarg(8, 3));
                    } else {
                        self.expr(s, ValType::I32, d);
                        s.f64_convert_i32_s();
                    }
                }
                _ => match self.callee(2) {
                    Some(f) => {
                        self.args(s, 2, d);
                        s.call(f);
                    }
                    None => {
                        self.expr(s, ValType::F64, d);
                        s.f64_neg();
                    }
                },
            },
        }
    }

    fn block_of(&mut self, s: &mut InstructionSink, count: u32, depth: u32) {
        for _ in 0..count {
            self.stmt(s, depth);
        }
    }

    /// Code that leaves the operand stack as it found it.
    fn stmt(&mut self, s: &mut InstructionSink, depth: u32) {
        let nest = depth > 0;
        match self.rng.below(if nest { 10 } else { 5 }) {
            0 | 1 => {
                let ty = [ValType::I32, ValType::I64, ValType::F64][self.rng.below(3) as usize];
                let l = self.local_of(ty, true).expect("every type has a local");
                self.expr(s, ty, 3);
                s.local_set(l);
            }
            2 => {
                self.address(s, 3);
                match self.rng.below(4) {
                    0 => {
                        self.expr(s, ValType::I32, 2);
                        s.i32_store(memarg(u64::from(self.rng.below(4)) * 4, 2));
                    }
                    1 => {
                        self.expr(s, ValType::I64, 2);
                        s.i64_store(memarg(0, 3));
                    }
                    2 => {
                        self.expr(s, ValType::F64, 2);
                        s.f64_store(memarg(0, 3));
                    }
                    _ => {
                        self.expr(s, ValType::I32, 2);
                        s.i32_store8(memarg(u64::from(self.rng.below(8)), 0));
                    }
                }
            }
            3 => match self.callee(3) {
                Some(f) => {
                    self.args(s, 3, 2);
                    s.call(f);
                }
                None => {
                    self.expr(s, ValType::I32, 2);
                    s.drop();
                }
            },
            4 => {
                // call_indirect through the table, type 0, result kept.
                let l = self.local_of(ValType::I32, true).expect("has i32 locals");
                self.args(s, 0, 2);
                self.expr(s, ValType::I32, 1);
                s.i32_const(TABLE_MASK)
                    .i32_and()
                    .call_indirect(0, 0)
                    .local_set(l);
            }
            5 | 6 => {
                self.expr(s, ValType::I32, 3);
                s.if_(BlockType::Empty);
                let n = 1 + self.rng.below(4);
                self.block_of(s, n, depth - 1);
                if self.rng.chance(50) {
                    s.else_();
                    let n = 1 + self.rng.below(3);
                    self.block_of(s, n, depth - 1);
                }
                s.end();
            }
            7 if self.loop_depth < LOOP_COUNTERS => {
                let counter = self.counters + self.loop_depth;
                self.loop_depth += 1;
                s.i32_const(1 + self.rng.below(64) as i32)
                    .local_set(counter)
                    .loop_(BlockType::Empty);
                let n = 2 + self.rng.below(5);
                self.block_of(s, n, depth - 1);
                s.local_get(counter)
                    .i32_const(1)
                    .i32_sub()
                    .local_tee(counter)
                    .br_if(0)
                    .end();
                self.loop_depth -= 1;
            }
            8 => {
                // switch: k nested blocks, a br_table, a statement after each block end.
                let k = 2 + self.rng.below(5);
                for _ in 0..k {
                    s.block(BlockType::Empty);
                }
                self.expr(s, ValType::I32, 2);
                let targets: Vec<u32> = (0..k).map(|_| self.rng.below(k)).collect();
                s.br_table(targets, k - 1);
                for _ in 0..k {
                    s.end();
                    self.stmt(s, depth - 1);
                }
            }
            _ => {
                s.block(BlockType::Empty);
                self.stmt(s, depth - 1);
                self.expr(s, ValType::I32, 2);
                s.br_if(0);
                let n = 1 + self.rng.below(3);
                self.block_of(s, n, depth - 1);
                s.end();
            }
        }
    }
}

/// The cheap export: `run(n) -> i64`, the sum of `i * i` for `i` in `0..n` (a do-while
/// loop, so `n <= 0` gives 0 after one pass with `i = 0`).
fn run_function() -> Function {
    // Locals: 1 = i (i32), 2 = acc (i64).
    let mut f = Function::new([(1, ValType::I32), (1, ValType::I64)]);
    let mut s = f.instructions();
    s.loop_(BlockType::Empty)
        .local_get(2)
        .local_get(1)
        .i64_extend_i32_s()
        .local_get(1)
        .i64_extend_i32_s()
        .i64_mul()
        .i64_add()
        .local_set(2)
        .local_get(1)
        .i32_const(1)
        .i32_add()
        .local_tee(1)
        .local_get(0)
        .i32_lt_s()
        .br_if(0)
        .end()
        .local_get(2)
        .end();
    f
}

/// Generates a module whose function bodies add up to at least `code_size` bytes.
pub fn generate(code_size: usize) -> LargeModule {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut types = TypeSection::new();
    for (params, results) in TYPES {
        types
            .ty()
            .function(params.iter().copied(), results.iter().copied());
    }
    let mut funcs = FunctionSection::new();
    let mut code = CodeSection::new();
    // Function 0 is `run`; generated functions follow.
    funcs.function(RUN_TYPE);
    code.function(&run_function());
    let mut callees: [Vec<u32>; 5] = Default::default();
    let mut count: u32 = 1;
    while code.byte_len() < code_size || count <= TABLE_MASK as u32 {
        let ty = rng.below(4) as usize;
        let params = TYPES[ty].0;
        let mut locals: Vec<ValType> = params.to_vec();
        locals.extend((0..LOCAL_I32).map(|_| ValType::I32));
        locals.extend((0..LOCAL_I64).map(|_| ValType::I64));
        locals.extend((0..LOCAL_F64).map(|_| ValType::F64));
        let counters = params.len() as u32 + LOCAL_I32 - LOOP_COUNTERS;
        let mut f = Function::new([
            (LOCAL_I32, ValType::I32),
            (LOCAL_I64, ValType::I64),
            (LOCAL_F64, ValType::F64),
        ]);
        let mut g = FnGen {
            rng: &mut rng,
            locals,
            counters,
            callees: &callees,
            loop_depth: 0,
        };
        let mut s = f.instructions();
        // Mostly small functions with a few big ones, like compiled C.
        let statements = 2 + g.rng.below(10);
        let depth = if g.rng.chance(20) { 3 } else { 2 };
        g.block_of(&mut s, statements, depth);
        for &r in TYPES[ty].1 {
            g.expr(&mut s, r, 3);
        }
        s.end();
        funcs.function(ty as u32);
        code.function(&f);
        callees[ty].push(count);
        count += 1;
    }
    let code_bytes = code.byte_len();

    let mut tables = TableSection::new();
    tables.table(TableType {
        element_type: RefType::FUNCREF,
        table64: false,
        minimum: u64::from(count),
        maximum: None,
        shared: false,
    });
    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: 1,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    let mut exports = ExportSection::new();
    exports
        .export("run", ExportKind::Func, 0)
        .export("memory", ExportKind::Memory, 0);
    let mut elements = ElementSection::new();
    let all: Vec<u32> = (0..count).collect();
    elements.active(
        Some(0),
        &ConstExpr::i32_const(0),
        Elements::Functions(all.into()),
    );

    let mut module = Module::new();
    module
        .section(&types)
        .section(&funcs)
        .section(&tables)
        .section(&memories)
        .section(&exports)
        .section(&elements)
        .section(&code);
    LargeModule {
        bytes: module.finish(),
        code_bytes,
        functions: count as usize,
    }
}

/// One engine's figures on the large module.
#[derive(Clone, Debug)]
pub struct Throughput {
    /// Compile times of the runs, each in a fresh engine.
    pub compiles: Vec<Duration>,
    /// Compile + instantiate + one call of `run`, in a fresh engine, and what the call
    /// returned (`None` for a compile-only measurement).
    pub first_call: Option<(Duration, i64)>,
    /// Heap high-water mark of the time-to-first-call run, or of the last compile for a
    /// compile-only measurement (see [`crate::alloc`]).
    pub peak_heap: Option<u64>,
}

impl Throughput {
    pub fn compile(&self) -> Duration {
        median(&self.compiles)
    }

    /// Module bytes per second of compile time, in MB/s (10^6 bytes).
    pub fn mb_per_s(&self, module_bytes: usize) -> f64 {
        let secs = self.compile().as_secs_f64();
        if secs > 0.0 {
            module_bytes as f64 / secs / 1e6
        } else {
            f64::INFINITY
        }
    }
}

/// What [`measure_throughput`] does after the compiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FirstCall {
    /// Time compile + instantiate + `run(RUN_N)`; with `expected`, the result must equal
    /// it (else a checksum error).
    Run { expected: Option<i64> },
    /// Compile only: the module has imports, or no `run(i32) -> i64` export.
    Skip,
}

/// Whether `wasm` can be instantiated with no imports and exports `run(i32) -> i64` (as
/// gloam reads it; a module gloam rejects is not callable).
pub fn callable(wasm: &[u8]) -> bool {
    let engine = gloam::Engine::default();
    let Ok(module) = gloam::Module::new(&engine, wasm) else {
        return false;
    };
    let run_ok = match module.get_export("run") {
        Some(gloam::ExternType::Func(f)) => {
            f.params() == [gloam::ValType::I32] && f.results() == [gloam::ValType::I64]
        }
        _ => false,
    };
    module.imports().len() == 0 && run_ok
}

/// Measures `rt` on `wasm`: one untimed and `runs` timed compiles in fresh engines, then
/// (unless `first_call` is [`FirstCall::Skip`]) one time-to-first-call run.
pub fn measure_throughput(
    rt: &dyn Runtime,
    wasm: &[u8],
    runs: usize,
    first_call: FirstCall,
) -> Result<Throughput, BenchError> {
    guarded(|| {
        let mut compiles = Vec::with_capacity(runs);
        let mut heap = None;
        // One untimed compile first, so that whichever engine runs first in the process
        // does not also pay for the process's cold heap and page faults.
        for run in 0..=runs.max(1) {
            let engine = rt
                .engine()
                .map_err(|e| BenchError::from_anyhow(Stage::Compile, &e))?;
            heap = PeakScope::start();
            let start = Instant::now();
            let module = engine
                .compile(wasm)
                .map_err(|e| BenchError::from_anyhow(Stage::Compile, &e))?;
            if run > 0 {
                compiles.push(start.elapsed());
            }
            drop(module);
        }
        let FirstCall::Run { expected } = first_call else {
            return Ok(Throughput {
                compiles,
                first_call: None,
                peak_heap: heap.map(|h| h.peak_bytes()),
            });
        };
        let mut start = None;
        let mut p = prepare(rt, "run", Signature::I32, wasm, || {
            heap = PeakScope::start();
            start = Some(Instant::now());
        })?;
        let result = p
            .instance
            .call(RUN_N)
            .map_err(|e| BenchError::from_anyhow(Stage::Call, &e))?;
        let elapsed = start.map(|s| s.elapsed()).unwrap_or_default();
        if let Some(expected) = expected
            && result != expected
        {
            return Err(BenchError::new(
                Stage::Checksum,
                format!("run({RUN_N}): expected {expected}, got {result}"),
            ));
        }
        Ok(Throughput {
            compiles,
            first_call: Some((elapsed, result)),
            peak_heap: heap.map(|h| h.peak_bytes()),
        })
    })
}
