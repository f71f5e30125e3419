//! Translation of validated wasm function bodies into register bytecode.
//!
//! # Frame layout
//!
//! A function's frame is a window of 8-byte cells on the store's value stack:
//!
//! ```text
//! cell 0 ..            parameters
//!      .. temp_base    other locals (zeroed on entry)
//! temp_base ..         one "home" cell per position of the wasm operand stack
//! ```
//!
//! A local *is* a register. Each operand-stack position has a fixed home cell, so a value
//! computed at stack height `h` lands in `temp_base + h` (more precisely: the sum of the
//! cell sizes below it). The translator keeps a model of the operand stack whose entries
//! are a local, a constant or a temporary in its home; `local.get` and constants emit
//! nothing until an instruction consumes them.
//!
//! Calls need no copying: the arguments already sit in consecutive homes, and the callee's
//! frame starts at the first argument's home. Results come back in the callee's first
//! cells, which are exactly the homes the results occupy in the caller.
//!
//! Constants that an instruction needs in a register (those that do not fit an immediate
//! form) live in per-function constant cells between the locals and the temporaries,
//! written once on frame entry, so a constant in a loop costs nothing per iteration.
//!
//! Blocks: all results of a block (or params of a loop) live in the homes at the block's
//! entry height, so every branch to a label copies its values there. Values of locals on
//! the stack are copied to their homes on block entry (a later `local.set` inside the
//! block could otherwise change them on one path only).
//!
//! Exceptions: a `try_table` emits no code. It records a [`Handler`]: the code range of
//! its body and its catch clauses, each with the label's target and the cell where the
//! label's values start. A catch is a branch from the throwing instruction (or the call
//! the exception came out of) to the label, with the payload (and the `exnref`) as the
//! branch's values; the executor writes them to the label's homes and jumps. A catch of
//! the function's label lands on a return emitted after the body.

mod exn;
mod memory;
mod ops;
mod refs;
mod simd;

use crate::module::Module;
use crate::ops::{Dst, Instr, Reg, Target};
use crate::prelude::*;
use crate::types::ValType;
use smallvec::SmallVec;
use wasmparser::{BlockType, Operator};

/// A translated function.
#[derive(Debug)]
pub struct CompiledFunc {
    pub code: Box<[Instr]>,
    /// Cells the frame needs (params + locals + temporaries).
    pub frame_size: u32,
    /// Cells holding parameters.
    pub param_cells: u32,
    /// Cells of non-parameter locals, zeroed on entry (they follow the parameters).
    pub local_cells: u32,
    /// Constant cells, written on entry; they follow the locals.
    pub consts: Box<[u64]>,
    /// Cells of the results.
    pub result_cells: u32,
    /// The function's index in its module (imports included).
    pub func_index: u32,
    /// Safepoints: `(code index of a call, index into stack_maps)`, sorted by code index.
    pub safepoints: Box<[(u32, u32)]>,
    /// Stack maps: the frame cells holding live `externref`s, deduplicated.
    pub stack_maps: Box<[Box<[u16]>]>,
    /// Exception handlers of the `try_table`s, in the order the blocks open (so the
    /// handlers whose range contains a pc, latest first, go from innermost outwards).
    pub handlers: Box<[Handler]>,
    /// `code` with each instruction's handler, for the threaded dispatcher.
    #[cfg(all(
        not(debug_assertions),
        any(target_arch = "x86_64", target_arch = "aarch64"),
        not(feature = "portable-dispatch")
    ))]
    pub(crate) threaded: Box<[crate::exec::Unit]>,
    /// Tier-up state: call counter and native code (see `native`).
    pub jit: crate::native::JitSlot,
}

impl CompiledFunc {
    /// The code the build's dispatcher walks.
    pub(crate) fn units(&self) -> *const crate::exec::Unit {
        #[cfg(all(
            not(debug_assertions),
            any(target_arch = "x86_64", target_arch = "aarch64"),
            not(feature = "portable-dispatch")
        ))]
        return self.threaded.as_ptr();
        #[cfg(not(all(
            not(debug_assertions),
            any(target_arch = "x86_64", target_arch = "aarch64"),
            not(feature = "portable-dispatch")
        )))]
        return self.code.as_ptr();
    }

    /// The stack map of the call at code index `pc`: cells holding live `externref`s.
    pub fn stack_map(&self, pc: u32) -> &[u16] {
        match self.safepoints.binary_search_by_key(&pc, |&(p, _)| p) {
            Ok(i) => &self.stack_maps[self.safepoints[i].1 as usize],
            Err(_) => &[],
        }
    }
}

/// The catch clauses of one `try_table` and the code range of its body.
#[derive(Clone, Debug)]
pub struct Handler {
    pub start: u32,
    pub end: u32,
    pub catches: Box<[Catch]>,
}

/// One catch clause: where a matching exception goes.
#[derive(Copy, Clone, Debug)]
pub struct Catch {
    /// The module's tag index; `None` catches every exception.
    pub tag: Option<u32>,
    /// Whether the `exnref` follows the payload (`catch_ref`, `catch_all_ref`).
    pub with_ref: bool,
    /// The cell where the label's values start.
    pub dst: u16,
    /// The code index to continue at.
    pub target: u32,
}

impl CompiledFunc {
    /// The catch clauses that apply to an exception thrown at code index `pc`, innermost
    /// `try_table` first, each `try_table`'s clauses in order.
    pub fn catches_at(&self, pc: u32) -> impl Iterator<Item = &Catch> {
        self.handlers
            .iter()
            .rev()
            .filter(move |h| h.start <= pc && pc < h.end)
            .flat_map(|h| h.catches.iter())
    }
}

const MAX_CELLS: u32 = u16::MAX as u32;

#[derive(Copy, Clone, Debug, PartialEq)]
enum Kind {
    /// The value of a local, in its register.
    Local(u16),
    /// A computed value in its home cell.
    Temp,
    /// A constant (bits as stored in a cell).
    Const(u64),
}

#[derive(Copy, Clone, Debug)]
struct Entry {
    kind: Kind,
    ty: ValType,
    home: u16,
}

#[derive(Copy, Clone, Debug, PartialEq)]
enum CtrlKind {
    Func,
    Block,
    Loop,
    If,
    Else,
}

/// A block's param or result types: inline for the common few, so entering a block
/// allocates nothing.
type Types = SmallVec<[ValType; 2]>;

struct Ctrl {
    kind: CtrlKind,
    /// Operand stack length at entry, below the params.
    height: usize,
    /// Home cell of stack position `height`: where params/results live.
    base_home: u32,
    params: Types,
    results: Types,
    /// For loops: the code index of the head.
    head: u32,
    /// Branches to patch with the end's code index.
    fixups: SmallVec<[usize; 4]>,
    /// For `if`: the branch to the else arm (or the end).
    else_fixup: Option<usize>,
    /// For `if`: the param entries, restored at `else`.
    param_entries: SmallVec<[Entry; 2]>,
    /// The rest of this block is unreachable.
    unreachable: bool,
    /// For a `try_table`: its index in `Translator::handlers`.
    handler: Option<usize>,
    /// Catch clauses (handler, clause) that land at this block's end.
    catch_fixups: Vec<(usize, usize)>,
}

impl Ctrl {
    fn label_types(&self) -> &[ValType] {
        if self.kind == CtrlKind::Loop {
            &self.params
        } else {
            &self.results
        }
    }
}

pub(crate) struct Translator<'m> {
    module: &'m Module,
    /// The function's index in the module (imports included).
    func_index: u32,
    /// Cells holding parameters (the other locals follow, up to `temp_base`).
    param_cells: u32,
    code: Vec<Instr>,
    stack: Vec<Entry>,
    ctrl: Vec<Ctrl>,
    local_regs: Vec<u16>,
    local_types: Vec<ValType>,
    temp_base: u32,
    max_cells: u32,
    /// Index of the last instruction if it wrote a single destination and no label
    /// follows it: its destination may be retargeted by `local.set`.
    last_result: Option<usize>,
    /// Depth of blocks opened inside unreachable code.
    dead: u32,
    /// Registers of `externref` locals (always part of a stack map).
    ref_locals: Vec<u16>,
    safepoints: Vec<(u32, u32)>,
    stack_maps: Vec<Box<[u16]>>,
    map_ids: hashbrown::HashMap<Box<[u16]>, u32>,
    /// Pooled constants; constant `i` is addressed as placeholder cell `CONST_TOP - i`
    /// until `finish` moves it to `temp_base + i`.
    consts: Vec<u64>,
    const_ids: hashbrown::HashMap<u64, u16>,
    /// Emit `consume_fuel` at every fuel block (see `crate::limits`).
    fuel: bool,
    /// Emit `check_epoch` at the entry and at loop headers.
    epoch: bool,
    /// Index of the current fuel block's `consume_fuel`.
    fuel_at: Option<usize>,
    handlers: Vec<Handler>,
    /// Catch clauses (handler, clause) of the function's label: they land on a return
    /// emitted after the body.
    return_catches: Vec<(usize, usize)>,
}

/// The translator's working buffers that do not end up in the [`CompiledFunc`]: kept
/// per thread (with `std`) and reused from one function to the next, so translating a
/// function does not allocate them (and grow them) anew.
#[derive(Default)]
struct Scratch {
    code: Vec<Instr>,
    stack: Vec<Entry>,
    ctrl: Vec<Ctrl>,
    local_regs: Vec<u16>,
    local_types: Vec<ValType>,
    ref_locals: Vec<u16>,
    map_ids: hashbrown::HashMap<Box<[u16]>, u32>,
    consts: Vec<u64>,
    const_ids: hashbrown::HashMap<u64, u16>,
}

impl Scratch {
    /// Takes this thread's buffers (empty ones without `std`, or while another
    /// translation on this thread holds them).
    fn take() -> Scratch {
        #[cfg(feature = "std")]
        return SCRATCH.with(core::cell::Cell::take);
        #[cfg(not(feature = "std"))]
        return Scratch::default();
    }

    /// Empties the buffers (keeping their capacity) and gives them back to the thread.
    fn give_back(mut self) {
        self.code.clear();
        self.stack.clear();
        self.ctrl.clear();
        self.local_regs.clear();
        self.local_types.clear();
        self.ref_locals.clear();
        self.map_ids.clear();
        self.consts.clear();
        self.const_ids.clear();
        // A huge function's code buffer is not kept for the thread's lifetime.
        if self.code.capacity() > SCRATCH_KEEP_INSTRS {
            self.code = Vec::new();
        }
        #[cfg(feature = "std")]
        SCRATCH.with(|s| s.set(self));
    }
}

/// The largest code buffer (in instructions, 12 bytes each) a thread keeps for the next
/// translation.
const SCRATCH_KEEP_INSTRS: usize = 1 << 16;

#[cfg(feature = "std")]
std::thread_local! {
    static SCRATCH: core::cell::Cell<Scratch> = core::cell::Cell::new(Scratch::default());
}

/// Placeholder cells for pooled constants count down from here.
const CONST_TOP: u16 = u16::MAX;

type R<T = ()> = Result<T, String>;

/// Translates defined function `def_index` of `module`.
pub fn translate(module: &Module, def_index: u32) -> Result<CompiledFunc, String> {
    let body = module.body(def_index);
    let mut t = Translator::new(module, def_index, &body)?;
    let mut reader = body.get_operators_reader().map_err(|e| e.to_string())?;
    while !reader.eof() {
        let op = reader.read().map_err(|e| e.to_string())?;
        t.visit(op)?;
        if t.done() {
            break;
        }
    }
    t.finish()
}

impl<'m> Translator<'m> {
    /// A translator for defined function `def_index` of `module`, whose body is `body`,
    /// ready for the body's operators ([`Self::visit`], until [`Self::done`]).
    pub(crate) fn new(
        module: &'m Module,
        def_index: u32,
        body: &wasmparser::FunctionBody<'_>,
    ) -> R<Translator<'m>> {
        let func_index = module.num_imported_funcs + def_index;
        let ty = module.func_type(func_index);
        let mut scratch = Scratch::take();
        let mut local_regs = core::mem::take(&mut scratch.local_regs);
        let mut local_types = core::mem::take(&mut scratch.local_types);
        local_types.extend_from_slice(ty.params());
        let mut cells: u32 = 0;
        for p in ty.params() {
            local_regs.push(cells as u16);
            cells += p.cells() as u32;
        }
        let param_cells = cells;
        let mut locals = body.get_locals_reader().map_err(|e| e.to_string())?;
        for _ in 0..locals.get_count() {
            let (count, t) = locals.read().map_err(|e| e.to_string())?;
            let t = ValType::from_wasmparser(t, &module.heap_types)?;
            for _ in 0..count {
                if cells > MAX_CELLS {
                    return Err("function has too many locals".into());
                }
                local_regs.push(cells as u16);
                local_types.push(t);
                cells += t.cells() as u32;
            }
        }
        if cells > MAX_CELLS {
            return Err("function has too many locals".into());
        }
        let mut t = Translator {
            module,
            func_index,
            param_cells,
            code: core::mem::take(&mut scratch.code),
            stack: core::mem::take(&mut scratch.stack),
            ctrl: core::mem::take(&mut scratch.ctrl),
            local_regs,
            local_types,
            temp_base: cells,
            max_cells: cells,
            last_result: None,
            dead: 0,
            ref_locals: core::mem::take(&mut scratch.ref_locals),
            safepoints: Vec::new(),
            stack_maps: Vec::new(),
            map_ids: core::mem::take(&mut scratch.map_ids),
            consts: core::mem::take(&mut scratch.consts),
            const_ids: core::mem::take(&mut scratch.const_ids),
            fuel: module.consume_fuel,
            epoch: module.epoch_interruption,
            fuel_at: None,
            handlers: Vec::new(),
            return_catches: Vec::new(),
        };
        t.ref_locals.extend(
            t.local_types
                .iter()
                .zip(&t.local_regs)
                .filter(|(ty, _)| ty.is_gc_ref())
                .map(|(_, r)| *r),
        );
        t.ctrl.push(Ctrl {
            kind: CtrlKind::Func,
            height: 0,
            base_home: cells,
            params: Types::new(),
            results: ty.results().iter().copied().collect(),
            head: 0,
            fixups: SmallVec::new(),
            else_fixup: None,
            param_entries: SmallVec::new(),
            unreachable: false,
            handler: None,
            catch_fixups: Vec::new(),
        });
        t.block_head();
        Ok(t)
    }

    /// Whether the function's final `end` has been translated.
    pub(crate) fn done(&self) -> bool {
        self.ctrl.is_empty()
    }

    /// Finishes the translation after the body's last operator.
    pub(crate) fn finish(self) -> R<CompiledFunc> {
        let mut t = self;
        let ty = t.module.func_type(t.func_index);
        let result_cells: u32 = ty.results().iter().map(|r| r.cells() as u32).sum();
        t.return_pads();
        t.place_consts()?;
        // Only fuel metering emits `consume_fuel`: nothing to look for without it.
        if t.fuel {
            drop_empty_fuel_blocks(&mut t.code, &mut t.safepoints, &mut t.handlers);
        }
        peephole(&mut t.code);
        #[cfg(all(
            not(debug_assertions),
            any(target_arch = "x86_64", target_arch = "aarch64"),
            not(feature = "portable-dispatch")
        ))]
        let catch_targets: Vec<u32> = t
            .handlers
            .iter()
            .flat_map(|h| h.catches.iter().map(|c| c.target))
            .collect();
        let func = CompiledFunc {
            #[cfg(all(
                not(debug_assertions),
                any(target_arch = "x86_64", target_arch = "aarch64"),
                not(feature = "portable-dispatch")
            ))]
            threaded: crate::exec::thread(&t.code, &catch_targets),
            // One allocation of the exact size; the buffer goes back to the scratch.
            code: t.code.as_slice().into(),
            frame_size: t.max_cells.max(result_cells),
            param_cells: t.param_cells,
            local_cells: t.temp_base - t.param_cells,
            // Exact-size copies; the buffers go back to the scratch.
            consts: t.consts.as_slice().into(),
            result_cells,
            func_index: t.func_index,
            safepoints: t.safepoints.into_boxed_slice(),
            stack_maps: t.stack_maps.into_boxed_slice(),
            handlers: t.handlers.into_boxed_slice(),
            jit: Default::default(),
        };
        Scratch {
            code: t.code,
            stack: t.stack,
            ctrl: t.ctrl,
            local_regs: t.local_regs,
            local_types: t.local_types,
            ref_locals: t.ref_locals,
            map_ids: t.map_ids,
            consts: t.consts,
            const_ids: t.const_ids,
        }
        .give_back();
        Ok(func)
    }
}

impl<'m> Translator<'m> {
    #[inline(always)]
    pub(crate) fn visit(&mut self, op: Operator<'_>) -> R {
        if self.ctrl.last().is_some_and(|c| c.unreachable) {
            match op {
                Operator::Block { .. }
                | Operator::Loop { .. }
                | Operator::If { .. }
                | Operator::TryTable { .. } => self.dead += 1,
                Operator::Else if self.dead == 0 => self.visit_else()?,
                Operator::End if self.dead > 0 => self.dead -= 1,
                Operator::End => self.visit_end()?,
                _ => {}
            }
            return Ok(());
        }
        if self.fuel && fuel_cost(&op) != 0 {
            self.charge_fuel();
        }
        self.visit_op(op)
    }

    // ---- fuel and epochs (see `crate::limits`) -----------------------------------------

    /// Starts a fuel block here: a `consume_fuel` whose amount grows with every costing
    /// operator translated until the next block starts.
    fn fuel_block(&mut self) {
        if self.fuel {
            self.fuel_at = Some(self.emit(Instr::ConsumeFuel { amount: 0 }));
        }
    }

    /// Adds one operator to the current fuel block.
    fn charge_fuel(&mut self) {
        if let Some(Instr::ConsumeFuel { amount } | Instr::FuelEpoch { amount }) =
            self.fuel_at.and_then(|i| self.code.get_mut(i))
        {
            *amount = amount.saturating_add(1);
        }
    }

    /// The head of a function or loop: an epoch check and a fuel block (fused into one
    /// instruction when both are on).
    fn block_head(&mut self) {
        if self.epoch && self.fuel {
            self.safepoint();
            self.fuel_at = Some(self.emit(Instr::FuelEpoch { amount: 0 }));
        } else {
            self.epoch_check();
            self.fuel_block();
        }
    }

    /// Emits an epoch check (a safepoint: its callback may run a collection).
    fn epoch_check(&mut self) {
        if self.epoch {
            self.safepoint();
            self.emit(Instr::CheckEpoch {});
        }
    }

    // ---- stack model -------------------------------------------------------------------

    #[inline]
    fn home_at(&self, height: usize) -> u32 {
        match height.checked_sub(1).and_then(|i| self.stack.get(i)) {
            Some(e) => e.home as u32 + e.ty.cells() as u32,
            None => self.temp_base,
        }
    }

    #[inline(always)]
    fn push(&mut self, kind: Kind, ty: ValType) -> R<u16> {
        let home = self.home_at(self.stack.len());
        let end = home + ty.cells() as u32;
        if end > MAX_CELLS {
            return Err(too_many_registers());
        }
        self.max_cells = self.max_cells.max(end);
        self.stack.push(Entry {
            kind,
            ty,
            home: home as u16,
        });
        Ok(home as u16)
    }

    #[inline]
    fn push_temp(&mut self, ty: ValType) -> R<Dst> {
        self.push(Kind::Temp, ty).map(Dst)
    }

    #[inline(always)]
    fn push_const(&mut self, bits: u64, ty: ValType) -> R {
        self.push(Kind::Const(bits), ty).map(drop)
    }

    #[inline]
    fn pop(&mut self) -> R<Entry> {
        self.stack
            .pop()
            .ok_or_else(|| "operand stack underflow in translator".to_string())
    }

    #[inline(always)]
    fn emit(&mut self, instr: Instr) -> usize {
        let idx = self.code.len();
        self.code.push(instr);
        // Every reader of `last_result` checks the instruction's destination itself
        // (`local_set`, `branch_on`) or its opcode (`address_add`), so recording one
        // without a destination changes nothing and spares an operand walk per
        // instruction.
        self.last_result = Some(idx);
        idx
    }

    fn pc(&self) -> u32 {
        self.code.len() as u32
    }

    /// A label starts here: nothing before it may be rewritten by later instructions.
    fn label(&mut self) {
        self.last_result = None;
    }

    fn emit_const(&mut self, dst: u16, bits: u64) {
        if bits >> 32 == 0 {
            self.emit(Instr::Const32 {
                dst: Dst(dst),
                value: bits as u32,
            });
        } else {
            self.emit(Instr::Const64 {
                dst: Dst(dst),
                lo: bits as u32,
                hi: (bits >> 32) as u32,
            });
        }
    }

    /// Emits what puts `e`'s value into cell `dst` (nothing if it is already there).
    fn emit_move(&mut self, dst: u16, e: Entry) {
        match e.kind {
            Kind::Temp if e.home == dst => {}
            Kind::Temp => self.emit_copy(dst, e.home, e.ty),
            Kind::Local(r) if r == dst => {}
            Kind::Local(r) => self.emit_copy(dst, r, e.ty),
            Kind::Const(bits) => self.emit_const(dst, bits),
        }
    }

    fn emit_copy(&mut self, dst: u16, src: u16, ty: ValType) {
        if matches!(ty, ValType::V128) {
            self.emit(Instr::V128Copy {
                dst: Dst(dst),
                src: Reg(src),
            });
            return;
        }
        for i in 0..ty.cells() as u16 {
            self.emit(Instr::Copy {
                dst: Dst(dst + i),
                src: Reg(src + i),
            });
        }
    }

    /// The register holding `e`'s value; a constant gets a pooled constant cell.
    #[inline(always)]
    fn use_reg(&mut self, e: Entry) -> Reg {
        match e.kind {
            Kind::Local(r) => Reg(r),
            Kind::Temp => Reg(e.home),
            Kind::Const(bits) if e.ty.cells() == 1 => Reg(self.const_cell(bits)),
            Kind::Const(bits) => {
                self.emit_const(e.home, bits);
                Reg(e.home)
            }
        }
    }

    /// The placeholder cell of pooled constant `bits`.
    fn const_cell(&mut self, bits: u64) -> u16 {
        let next = self.consts.len() as u16;
        let id = *self.const_ids.entry(bits).or_insert(next);
        if id == next {
            self.consts.push(bits);
        }
        CONST_TOP - id
    }

    /// Moves the pooled constants to cells `temp_base..temp_base + n`, shifting every
    /// temporary (and stack-map cell) above them up by `n`.
    fn place_consts(&mut self) -> R {
        let n = self.consts.len() as u32;
        if n == 0 {
            return Ok(());
        }
        let base = self.temp_base;
        let first_placeholder = CONST_TOP as u32 + 1 - n;
        if self.max_cells + n > first_placeholder {
            return Err("function needs too many registers".into());
        }
        let remap = |cell: u16| -> u16 {
            let c = cell as u32;
            if c >= first_placeholder {
                (base + (CONST_TOP as u32 - c)) as u16
            } else if c >= base {
                (c + n) as u16
            } else {
                cell
            }
        };
        for instr in &mut self.code {
            instr.map_cells(remap);
        }
        for map in &mut self.stack_maps {
            for c in map.iter_mut() {
                *c = remap(*c);
            }
        }
        for h in &mut self.handlers {
            for c in h.catches.iter_mut() {
                c.dst = remap(c.dst);
            }
        }
        self.max_cells += n;
        Ok(())
    }

    #[inline(always)]
    fn pop_reg(&mut self) -> R<Reg> {
        let e = self.pop()?;
        Ok(self.use_reg(e))
    }

    /// Moves stack entry `i` into its home and makes it a temporary.
    fn materialize(&mut self, i: usize) {
        let e = self.stack[i];
        if e.kind != Kind::Temp {
            self.emit_move(e.home, e);
            self.stack[i].kind = Kind::Temp;
        }
    }

    /// Copies stack entries that read local register `r` to their homes, before `r`
    /// is overwritten. Returns whether it emitted anything.
    fn preserve_local(&mut self, r: u16) -> bool {
        let mut any = false;
        for i in 0..self.stack.len() {
            if self.stack[i].kind == Kind::Local(r) {
                self.materialize(i);
                any = true;
            }
        }
        any
    }

    // ---- locals ------------------------------------------------------------------------

    fn local_reg(&self, index: u32) -> R<u16> {
        self.local_regs
            .get(index as usize)
            .copied()
            .ok_or_else(|| format!("no local {index}"))
    }

    fn local_set(&mut self, index: u32, tee: bool) -> R {
        let r = self.local_reg(index)?;
        let v = self.pop()?;
        let reads_local = self.stack.iter().any(|e| e.kind == Kind::Local(r));
        let retarget = match (v.kind, self.last_result) {
            // A v128 result may be retargeted too: its handler reads every operand
            // before it writes the two destination cells.
            (Kind::Temp, Some(idx)) if !reads_local => {
                idx + 1 == self.code.len() && self.code[idx].dst() == Some(Dst(v.home))
            }
            _ => false,
        };
        if retarget {
            let idx = self.code.len() - 1;
            self.code[idx].set_dst(Dst(r));
        } else {
            self.preserve_local(r);
            self.emit_move(r, v);
        }
        self.last_result = None;
        if tee {
            self.push(Kind::Local(r), v.ty)?;
        }
        Ok(())
    }

    // ---- families ----------------------------------------------------------------------

    fn unary(&mut self, f: fn(Dst, Reg) -> Instr, result: ValType) -> R {
        let src = self.pop_reg()?;
        let dst = self.push_temp(result)?;
        self.emit(f(dst, src));
        Ok(())
    }

    /// Changes the type of the top entry without touching its bits (reinterpret).
    fn retype(&mut self, ty: ValType) -> R {
        let e = self.pop()?;
        self.push(e.kind, ty)?;
        Ok(())
    }

    fn binary(
        &mut self,
        f: fn(Dst, Reg, Reg) -> Instr,
        imm: Option<fn(Dst, Reg, i32) -> Instr>,
        swapped_imm: Option<fn(Dst, Reg, i32) -> Instr>,
        result: ValType,
    ) -> R {
        let b = self.pop()?;
        let a = self.pop()?;
        if let (Some(imm), Kind::Const(bits)) = (imm, b.kind)
            && let Some(v) = fits_imm(bits, b.ty)
        {
            let ra = self.use_reg(a);
            let dst = self.push_temp(result)?;
            self.emit(imm(dst, ra, v));
            return Ok(());
        }
        if let (Some(imm), Kind::Const(bits)) = (swapped_imm, a.kind)
            && let Some(v) = fits_imm(bits, a.ty)
        {
            let rb = self.use_reg(b);
            let dst = self.push_temp(result)?;
            self.emit(imm(dst, rb, v));
            return Ok(());
        }
        let ra = self.use_reg(a);
        let rb = self.use_reg(b);
        let dst = self.push_temp(result)?;
        self.emit(f(dst, ra, rb));
        Ok(())
    }

    // ---- control -----------------------------------------------------------------------

    fn block_type(&self, bt: BlockType) -> R<(Types, Types)> {
        Ok(match bt {
            BlockType::Empty => (Types::new(), Types::new()),
            BlockType::Type(t) => (
                Types::new(),
                smallvec::smallvec![ValType::from_wasmparser(t, &self.module.heap_types)?],
            ),
            BlockType::FuncType(i) => {
                let ft = self
                    .module
                    .types
                    .get(i as usize)
                    .ok_or_else(|| format!("no type {i}"))?;
                (
                    ft.params().iter().copied().collect(),
                    ft.results().iter().copied().collect(),
                )
            }
        })
    }

    fn enter(&mut self, kind: CtrlKind, bt: BlockType) -> R {
        let (params, results) = self.block_type(bt)?;
        for i in 0..self.stack.len() {
            if matches!(self.stack[i].kind, Kind::Local(_)) {
                self.materialize(i);
            }
        }
        let height = self.stack.len() - params.len();
        if kind != CtrlKind::Block {
            for i in height..self.stack.len() {
                self.materialize(i);
            }
        }
        self.label();
        // A loop's head is its epoch check and fuel block, so every back edge runs them,
        // and, when the engine tiers up, its on-stack-replacement point.
        let head = self.pc();
        if kind == CtrlKind::Loop {
            if self.module.osr {
                self.emit(Instr::LoopHeader {});
            }
            self.block_head();
        }
        let base_home = self.home_at(height);
        let param_entries = SmallVec::from_slice(&self.stack[height..]);
        self.ctrl.push(Ctrl {
            kind,
            height,
            base_home,
            params,
            results,
            head,
            fixups: SmallVec::new(),
            else_fixup: None,
            param_entries,
            unreachable: false,
            handler: None,
            catch_fixups: Vec::new(),
        });
        Ok(())
    }

    fn set_unreachable(&mut self) {
        if let Some(c) = self.ctrl.last_mut() {
            c.unreachable = true;
            let h = c.height;
            self.stack.truncate(h);
        }
    }

    fn frame(&self, depth: u32) -> R<&Ctrl> {
        let n = self.ctrl.len();
        (depth as usize)
            .checked_add(1)
            .and_then(|d| n.checked_sub(d))
            .and_then(|i| self.ctrl.get(i))
            .ok_or_else(|| format!("branch depth {depth} out of range"))
    }

    /// Whether a branch to `depth` must copy values (or is a return).
    fn branch_is_simple(&self, depth: u32) -> R<bool> {
        let f = self.frame(depth)?;
        if f.kind == CtrlKind::Func {
            return Ok(false);
        }
        let types = f.label_types();
        let n = types.len();
        let mut home = f.base_home;
        for e in &self.stack[self.stack.len() - n..] {
            if e.kind != Kind::Temp || e.home as u32 != home {
                return Ok(false);
            }
            home += e.ty.cells() as u32;
        }
        Ok(true)
    }

    /// Emits the copies of a branch's values into the label's homes. The stack model is
    /// left alone (it stays valid for the fall-through path).
    fn branch_copies(&mut self, depth: u32) -> R {
        let f = self.frame(depth)?;
        if f.kind == CtrlKind::Func {
            // A return: `emit_return` moves the values itself, from the homes the stack
            // model records (copying them here would leave the model stale).
            return Ok(());
        }
        let n = f.label_types().len();
        let mut home = f.base_home;
        let start = self.stack.len() - n;
        for i in start..self.stack.len() {
            let e = self.stack[i];
            self.emit_move(home as u16, e);
            home += e.ty.cells() as u32;
        }
        Ok(())
    }

    /// Emits a jump to `depth`'s label, copies done; for the function level, a return.
    fn jump(&mut self, depth: u32) -> R {
        let f = self.frame(depth)?;
        match f.kind {
            CtrlKind::Func => self.emit_return(),
            CtrlKind::Loop => {
                let head = f.head;
                self.emit(Instr::Br {
                    target: Target(head),
                });
                Ok(())
            }
            _ => {
                let idx = self.emit(Instr::Br {
                    target: Target(u32::MAX),
                });
                self.add_fixup(depth, idx)
            }
        }
    }

    fn add_fixup(&mut self, depth: u32, idx: usize) -> R {
        let n = self.ctrl.len();
        let i = n - 1 - depth as usize;
        if self.ctrl[i].kind == CtrlKind::Loop {
            let head = self.ctrl[i].head;
            self.code[idx].set_target(Target(head));
        } else {
            self.ctrl[i].fixups.push(idx);
        }
        Ok(())
    }

    fn emit_return(&mut self) -> R {
        let n = self.ctrl[0].results.len();
        let start = self.stack.len() - n;
        match n {
            0 => {
                self.emit(Instr::Return {});
            }
            1 if self.stack[start].ty.cells() == 1 => {
                let e = self.stack[start];
                let src = self.use_reg(e);
                self.emit(Instr::Return1 { src });
            }
            _ => {
                let mut cells = 0;
                for i in start..self.stack.len() {
                    let e = self.stack[i];
                    self.emit_move(e.home, e);
                    cells += e.ty.cells() as u32;
                }
                let first = self.stack[start].home;
                self.emit(Instr::ReturnSpan {
                    start: Reg(first),
                    len: cells,
                });
            }
        }
        Ok(())
    }

    /// Emits a conditional branch on `cond` (jumping when its truth equals `when`),
    /// fusing it with the compare that produced it when possible. Returns the index of
    /// the instruction whose target must be set.
    fn branch_on(&mut self, cond: Entry, when: bool) -> usize {
        if cond.kind == Kind::Temp
            && let Some(idx) = self.last_result
            && idx + 1 == self.code.len()
            && self.code[idx].dst() == Some(Dst(cond.home))
        {
            let fused = match self.code[idx] {
                Instr::I32Eqz { src, .. } => Some(if when {
                    Instr::BrIfEqz {
                        cond: src,
                        target: Target(0),
                    }
                } else {
                    Instr::BrIfNez {
                        cond: src,
                        target: Target(0),
                    }
                }),
                Instr::I64Eqz { src, .. } => Some(if when {
                    Instr::BrI64EqImm {
                        a: src,
                        imm: 0,
                        target: Target(0),
                    }
                } else {
                    Instr::BrI64NeImm {
                        a: src,
                        imm: 0,
                        target: Target(0),
                    }
                }),
                other => other.fuse_branch(when, Target(0)),
            };
            if let Some(fused) = fused {
                self.code[idx] = fused;
                self.last_result = None;
                return idx;
            }
        }
        let r = self.use_reg(cond);
        let instr = if when {
            Instr::BrIfNez {
                cond: r,
                target: Target(0),
            }
        } else {
            Instr::BrIfEqz {
                cond: r,
                target: Target(0),
            }
        };
        self.emit(instr)
    }

    fn patch_here(&mut self, idx: usize) {
        let pc = self.pc();
        self.code[idx].set_target(Target(pc));
        self.label();
    }

    fn visit_br(&mut self, depth: u32) -> R {
        self.branch_copies(depth)?;
        self.jump(depth)?;
        self.set_unreachable();
        Ok(())
    }

    fn visit_br_if(&mut self, depth: u32) -> R {
        let cond = self.pop()?;
        if self.branch_is_simple(depth)? {
            let idx = self.branch_on(cond, true);
            self.add_fixup(depth, idx)?;
        } else {
            let skip = self.branch_on(cond, false);
            self.branch_copies(depth)?;
            self.jump(depth)?;
            self.patch_here(skip);
        }
        self.label();
        self.fuel_block();
        Ok(())
    }

    fn visit_br_table(&mut self, targets: wasmparser::BrTable<'_>) -> R {
        let index = self.pop_reg()?;
        let mut depths = Vec::with_capacity(targets.len() as usize + 1);
        for t in targets.targets() {
            depths.push(t.map_err(|e| e.to_string())?);
        }
        depths.push(targets.default());
        self.emit(Instr::BrTable {
            index,
            len: depths.len() as u32 - 1,
        });
        let first_slot = self.code.len();
        for _ in &depths {
            self.code.push(Instr::Br {
                target: Target(u32::MAX),
            });
        }
        for (i, &depth) in depths.iter().enumerate() {
            let slot = first_slot + i;
            if self.branch_is_simple(depth)? {
                self.add_fixup(depth, slot)?;
            } else {
                let stub = self.pc();
                self.code[slot].set_target(Target(stub));
                self.branch_copies(depth)?;
                self.jump(depth)?;
            }
        }
        self.set_unreachable();
        Ok(())
    }

    fn visit_if(&mut self, bt: BlockType) -> R {
        let cond = self.pop()?;
        // Block entry may copy locals to their homes; do that before the branch so both
        // arms see the same stack.
        let before = self.code.len();
        self.enter(CtrlKind::If, bt)?;
        let cond_fusable = self.code.len() == before;
        let idx = if cond_fusable {
            // `enter` cleared `last_result`; restore it for fusion with the compare.
            if before > 0 && self.code[before - 1].dst() == Some(Dst(cond.home)) {
                self.last_result = Some(before - 1);
            }
            self.branch_on(cond, false)
        } else {
            self.branch_on_reg(cond)
        };
        self.label();
        self.ctrl.last_mut().expect("if frame").else_fixup = Some(idx);
        self.fuel_block();
        Ok(())
    }

    fn branch_on_reg(&mut self, cond: Entry) -> usize {
        let r = self.use_reg(cond);
        self.emit(Instr::BrIfEqz {
            cond: r,
            target: Target(0),
        })
    }

    fn visit_else(&mut self) -> R {
        let reachable = !self.ctrl.last().expect("if frame").unreachable;
        if reachable {
            self.end_results_to_homes();
            let idx = self.emit(Instr::Br {
                target: Target(u32::MAX),
            });
            self.ctrl.last_mut().expect("if frame").fixups.push(idx);
        }
        let c = self.ctrl.last_mut().expect("if frame");
        let else_fixup = c.else_fixup.take();
        c.kind = CtrlKind::Else;
        c.unreachable = false;
        let (h, entries) = (c.height, c.param_entries.clone());
        if let Some(idx) = else_fixup {
            self.patch_here(idx);
        }
        self.stack.truncate(h);
        self.stack.extend(entries);
        self.label();
        self.fuel_block();
        Ok(())
    }

    /// Puts the block's results (the top of the stack) into their homes.
    fn end_results_to_homes(&mut self) {
        let n = self.ctrl.last().map_or(0, |c| c.results.len());
        for i in self.stack.len() - n..self.stack.len() {
            self.materialize(i);
        }
    }

    fn visit_end(&mut self) -> R {
        let c = self.ctrl.last().expect("control frame");
        let fallthrough = !c.unreachable;
        if c.kind == CtrlKind::Func {
            if fallthrough {
                self.emit_return()?;
            }
            self.ctrl.pop();
            return Ok(());
        }
        if fallthrough {
            self.end_results_to_homes();
        }
        let c = self.ctrl.pop().expect("control frame");
        let pc = self.pc();
        if let Some(h) = c.handler {
            self.handlers[h].end = pc;
        }
        for &(h, i) in &c.catch_fixups {
            self.handlers[h].catches[i].target = pc;
        }
        // A join point only if a branch (or a catch) lands here; after a plain
        // fall-through (a loop's end, a block nothing branches to) the current fuel block
        // goes on.
        let caught = !c.catch_fixups.is_empty();
        let joined = !c.fixups.is_empty() || c.else_fixup.is_some() || caught;
        let mut reachable = fallthrough || !c.fixups.is_empty() || caught;
        if let Some(idx) = c.else_fixup {
            // `if` without `else`: the false path falls through with the params (== results).
            self.code[idx].set_target(Target(pc));
            reachable = true;
        }
        for idx in c.fixups {
            self.code[idx].set_target(Target(pc));
        }
        self.label();
        self.stack.truncate(c.height);
        if reachable {
            for ty in c.results {
                self.push_temp(ty)?;
            }
            if joined {
                self.fuel_block();
            }
        } else {
            self.set_unreachable();
        }
        Ok(())
    }

    // ---- calls -------------------------------------------------------------------------

    /// Moves the top `n` entries (the arguments) into their homes and returns the home of
    /// the first, which becomes the callee's frame base.
    fn call_args(&mut self, n: usize) -> R<Reg> {
        let start = self.stack.len() - n;
        let base = self.home_at(start);
        for i in start..self.stack.len() {
            self.materialize(i);
        }
        // The map includes the arguments: they stay valid (as the callee's parameters)
        // while the callee runs, and GC stress mode collects before the callee starts.
        self.safepoint();
        self.stack.truncate(start);
        Ok(Reg(base as u16))
    }

    fn push_results(&mut self, results: &[ValType]) -> R {
        for &ty in results {
            self.push_temp(ty)?;
        }
        self.label();
        Ok(())
    }

    /// Records the stack map of the call about to be emitted: `externref` locals and the
    /// `externref` temporaries on the operand stack, arguments included.
    fn safepoint(&mut self) {
        if self.ref_locals.is_empty()
            && !self
                .stack
                .iter()
                .any(|e| e.ty.is_gc_ref() && e.kind == Kind::Temp)
        {
            return;
        }
        let mut cells = self.ref_locals.clone();
        cells.extend(
            self.stack
                .iter()
                .filter(|e| e.ty.is_gc_ref() && e.kind == Kind::Temp)
                .map(|e| e.home),
        );
        if cells.is_empty() {
            return;
        }
        let cells = cells.into_boxed_slice();
        let next = self.stack_maps.len() as u32;
        let id = *self.map_ids.entry(cells.clone()).or_insert(next);
        if id == next {
            self.stack_maps.push(cells);
        }
        self.safepoints.push((self.pc(), id));
    }

    fn visit_call(&mut self, func: u32) -> R {
        let module = self.module;
        let ty = module.func_type(func);
        let base = self.call_args(ty.params().len())?;
        self.emit(Instr::Call { func, base });
        self.push_results(ty.results())
    }

    fn visit_return_call(&mut self, func: u32) -> R {
        let module = self.module;
        let ty = module.func_type(func);
        let base = self.call_args(ty.params().len())?;
        self.emit(Instr::ReturnCall { func, base });
        self.set_unreachable();
        Ok(())
    }

    fn visit_return_call_indirect(&mut self, ty_index: u32, table: u32) -> R {
        let (_, index, base, table) = self.indirect_args(ty_index, table)?;
        self.emit(Instr::ReturnCallIndirect {
            index,
            base,
            table,
            ty: ty_index,
        });
        self.set_unreachable();
        Ok(())
    }

    fn visit_call_indirect(&mut self, ty_index: u32, table: u32) -> R {
        let (ty, index, base, table) = self.indirect_args(ty_index, table)?;
        self.emit(Instr::CallIndirect {
            index,
            base,
            table,
            ty: ty_index,
        });
        self.push_results(ty.results())
    }

    /// Pops the table index and the arguments of an indirect call through `table` with
    /// type `ty_index`: the type, the index register, the arguments' base and the table.
    fn indirect_args(
        &mut self,
        ty_index: u32,
        table: u32,
    ) -> R<(&'m crate::types::FuncType, Reg, Reg, u16)> {
        let module = self.module;
        let ty = module
            .types
            .get(ty_index as usize)
            .ok_or("bad type index")?;
        let index = self.pop()?;
        let mut index = self.use_reg(index);
        if self
            .module
            .tables
            .get(table as usize)
            .is_some_and(|t| t.ty.table64)
        {
            let dst = self.push_temp(ValType::I64)?;
            self.pop()?;
            self.emit(Instr::Clamp32 { dst, src: index });
            index = Reg::from(dst);
        }
        let base = self.call_args(ty.params().len())?;
        let table = u16::try_from(table).map_err(|_| "table index too large")?;
        Ok((ty, index, base, table))
    }

    fn visit_select(&mut self) -> R {
        let cond = self.pop()?;
        let b = self.pop()?;
        let a = self.pop()?;
        let (cond, rb, ra) = (self.use_reg(cond), self.use_reg(b), self.use_reg(a));
        let dst = self.push_temp(a.ty)?;
        self.emit(if matches!(a.ty, ValType::V128) {
            Instr::V128Select {
                dst,
                cond,
                a: ra,
                b: rb,
            }
        } else {
            Instr::Select {
                dst,
                cond,
                a: ra,
                b: rb,
            }
        });
        Ok(())
    }
}

/// Removes `consume_fuel 0` (fuel blocks without costing operators, e.g. between two
/// `end`s), remapping branch targets and safepoints: a target that named a removed
/// instruction now names the one after it, which is where execution went on anyway.
fn drop_empty_fuel_blocks(
    code: &mut Vec<Instr>,
    safepoints: &mut [(u32, u32)],
    handlers: &mut [Handler],
) {
    let empty = |i: &Instr| matches!(i, Instr::ConsumeFuel { amount: 0 });
    if !code.iter().any(empty) {
        return;
    }
    // removed[i]: how many instructions before index i are removed.
    let mut removed = Vec::with_capacity(code.len() + 1);
    let mut n = 0u32;
    for i in code.iter() {
        removed.push(n);
        n += empty(i) as u32;
    }
    removed.push(n);
    let map = |t: u32| t - removed.get(t as usize).copied().unwrap_or(n);
    for instr in code.iter_mut() {
        if let Some(t) = instr.target() {
            instr.set_target(Target(map(t.0)));
        }
    }
    for sp in safepoints.iter_mut() {
        sp.0 = map(sp.0);
    }
    for h in handlers.iter_mut() {
        h.start = map(h.start);
        h.end = map(h.end);
        for c in h.catches.iter_mut() {
            c.target = map(c.target);
        }
    }
    code.retain(|i| !empty(i));
}

/// Cheap rewrites after translation (positions and jump targets do not change):
/// - a `br` to another `br` jumps straight to the final target;
/// - a `br` to a return becomes that return;
/// - `copy rX, rY` followed by `return1 rX` returns `rY` directly (the frame is dead
///   after a return, so skipping the copy is unobservable).
fn peephole(code: &mut [Instr]) {
    for pc in 0..code.len() {
        if let Instr::Br { target } = code[pc] {
            let mut t = target.0 as usize;
            let mut hops = 0;
            while let Some(Instr::Br { target }) = code.get(t)
                && hops < 8
            {
                t = target.0 as usize;
                hops += 1;
            }
            code[pc] = match code.get(t) {
                Some(r @ (Instr::Return {} | Instr::Return1 { .. } | Instr::ReturnSpan { .. })) => {
                    *r
                }
                _ => Instr::Br {
                    target: Target(t as u32),
                },
            };
        }
    }
    for pc in 0..code.len().saturating_sub(1) {
        if let Instr::Copy { dst, src } = code[pc]
            && let Instr::Return1 { src: ret } = code[pc + 1]
            && Reg::from(dst) == ret
        {
            code[pc] = Instr::Return1 { src };
        }
    }
}

/// The error of a function whose frame outgrows 16-bit cell numbers (kept out of line:
/// `push` runs for nearly every operator).
#[cold]
fn too_many_registers() -> String {
    "function needs too many registers".into()
}

/// The fuel an operator costs (see `crate::limits`).
fn fuel_cost(op: &Operator<'_>) -> u32 {
    match op {
        Operator::Nop
        | Operator::Drop
        | Operator::Block { .. }
        | Operator::Loop { .. }
        | Operator::Else
        | Operator::End
        | Operator::Unreachable
        | Operator::Return => 0,
        _ => 1,
    }
}

/// An immediate for a constant operand of type `ty`, if it fits in an `i32`.
fn fits_imm(bits: u64, ty: ValType) -> Option<i32> {
    match ty {
        ValType::I32 => Some(bits as u32 as i32),
        ValType::I64 => i32::try_from(bits as i64).ok(),
        _ => None,
    }
}
