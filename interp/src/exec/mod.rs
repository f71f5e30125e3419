//! The executor: runs register bytecode over frames on the store's value stack.
//!
//! Wasm calls never recurse on the host stack. A call pushes a [`Frame`] record (the
//! caller's function, return pc, frame base and instance) onto `StoreInner::frames` and
//! continues the same loop in the callee; a return pops it. Only host functions (and
//! the wasm they call back into) nest on the host stack.
//!
//! Dispatch lives in one place, [`Executor::run`]: fetch the instruction at `pc`, advance,
//! and `match`. The match itself is generated from the opcode table (`ops.rs`): family rows
//! expand to inline arms, every `other` row to a call of the handler method of the same
//! name in `handlers.rs`.

mod exn;
mod handlers;
mod limits;
mod native;
mod simd;
#[cfg(all(
    not(debug_assertions),
    any(target_arch = "x86_64", target_arch = "aarch64"),
    not(feature = "portable-dispatch")
))]
mod threaded;
#[cfg(all(
    not(debug_assertions),
    any(target_arch = "x86_64", target_arch = "aarch64"),
    not(feature = "portable-dispatch")
))]
pub(crate) use threaded::{Slot as Unit, thread};

/// The unit the dispatcher walks: the instruction itself for the `match` dispatcher; an
/// instruction with its handler's address for the threaded one.
#[cfg(not(all(
    not(debug_assertions),
    any(target_arch = "x86_64", target_arch = "aarch64"),
    not(feature = "portable-dispatch")
)))]
pub(crate) type Unit = Instr;

/// Reads the instruction out of a code unit.
pub(crate) trait CodeUnit {
    fn instr(&self) -> Instr;
}

impl CodeUnit for Instr {
    #[inline(always)]
    fn instr(&self) -> Instr {
        *self
    }
}

use crate::module::Module;
use crate::ops::{Cell, Dst, Imm, Instr, Reg};
use crate::prelude::*;
use crate::store::{FuncEntity, HostFunc, StoreInner};
use crate::translate::CompiledFunc;
use crate::trap::{FrameInfo, Trap, WasmBacktrace};
use anyhow::Result;
use core::any::Any;

/// A resolved call target.
enum Callee {
    Wasm {
        f: *const CompiledFunc,
        inst: u32,
        module: *const Module,
    },
    /// A host function and its parameter and result cell counts.
    Host {
        func: HostFunc,
        params: usize,
        results: usize,
    },
}

/// A suspended caller: where to continue when the callee returns.
///
/// `repr(C)`: native code pushes these records itself on a direct call (see
/// `crate::native::offsets`).
#[derive(Copy, Clone, Debug)]
#[repr(C)]
pub struct Frame {
    pub(crate) func: *const CompiledFunc,
    /// Absolute index of the frame's first cell in `StoreInner::stack`.
    pub(crate) base: usize,
    pub(crate) pc: u32,
    pub(crate) inst: u32,
}

impl Frame {
    /// The instance the frame's function belongs to.
    pub fn inst(&self) -> u32 {
        self.inst
    }
}

// SAFETY: `func` points into a `Module` kept alive (via `Arc`) by the store's instances;
// frames never leave the store they belong to, and the store is `Send`.
unsafe impl Send for Frame {}
// SAFETY: see above; frames are only read through `&mut StoreInner`.
unsafe impl Sync for Frame {}

/// Why the run loop stopped.
pub(crate) enum Exit {
    /// The entry function returned.
    Done,
    Trap(Trap),
    /// An error from a host function (or from translation), passed through unchanged.
    Error(anyhow::Error),
}

impl From<Trap> for Exit {
    fn from(t: Trap) -> Exit {
        Exit::Trap(t)
    }
}

type Step = Result<(), Exit>;

pub(crate) struct Executor<'s> {
    store: &'s mut StoreInner,
    data: &'s mut dyn Any,
    func: *const CompiledFunc,
    code: *const Unit,
    pc: usize,
    /// Absolute index of the frame's first cell in `store.stack`.
    base: usize,
    /// `store.stack.as_mut_ptr() + base`, refreshed whenever the stack may have moved.
    regs: *mut u64,
    inst: u32,
    module: *const Module,
    /// Memory 0 of the current instance (null and 0 when it has none).
    mem: *mut u8,
    mem_len: usize,
    entry_depth: usize,
    /// `Config`'s maximum call depth, cached.
    max_depth: usize,
    /// `Config::gc_stress`, cached (checked at every call).
    gc_stress: bool,
    /// No per-call hooks are active (no GC stress, no native tier): calls and returns
    /// may take the threaded dispatcher's fast path (`enter_fast`, `ret_fast`).
    #[allow(dead_code)]
    fast_calls: bool,
    /// Why the threaded dispatcher stopped (its handlers return nothing).
    #[allow(dead_code)]
    pending: Option<Exit>,
    /// The native tier's state (`native.rs`).
    jit: native::JitState,
}

/// Calls function `addr` of the store. `cells` holds the arguments and receives the
/// results; its length must be at least the larger of the two cell counts.
pub fn invoke(
    store: &mut StoreInner,
    data: &mut dyn Any,
    addr: u32,
    cells: &mut [u64],
) -> Result<()> {
    let (instance, index) = match &store.funcs[addr as usize] {
        FuncEntity::Host { func, .. } => {
            let func = func.clone();
            return func(store, data, cells);
        }
        FuncEntity::Wasm {
            instance, index, ..
        } => (*instance, *index),
    };
    let module: *const Module = &*store.instances[instance as usize].module;
    // SAFETY: the module is kept alive by the instance, which the store never drops.
    let module = unsafe { &*module };
    let func = module
        .code(index - module.num_imported_funcs)
        .map_err(|e| anyhow::anyhow!("failed to translate function {index}: {e}"))?;
    if store.frames.len() >= store.engine.config.max_call_depth {
        return Err(anyhow::Error::new(Trap::StackOverflow));
    }
    let base = store.stack_top;
    let need = base + (func.frame_size as usize).max(cells.len());
    grow_stack(store, need).map_err(anyhow::Error::new)?;
    let params = func.param_cells as usize;
    store.stack[base..base + params].copy_from_slice(&cells[..params]);
    let saved_top = store.stack_top;
    let entry_depth = store.frames.len();
    let max_depth = store.engine.config.max_call_depth;
    let gc_stress = store.engine.config.gc_stress;
    let jit = native::JitState::new(&store.engine);
    let fast_calls = !gc_stress && !jit.active();
    let mut ex = Executor {
        regs: core::ptr::null_mut(),
        store,
        data,
        func,
        code: func.units(),
        pc: 0,
        base,
        inst: instance,
        module,
        mem: core::ptr::null_mut(),
        mem_len: 0,
        entry_depth,
        max_depth,
        gc_stress,
        fast_calls,
        pending: None,
        jit,
    };
    ex.refresh_regs();
    ex.refresh_memory();
    ex.zero_locals();
    let outcome = ex.dispatch();
    let result = match outcome {
        Exit::Done => {
            let n = func.result_cells as usize;
            cells[..n].copy_from_slice(&ex.store.stack[base..base + n]);
            Ok(())
        }
        Exit::Trap(trap) => {
            let bt = ex.backtrace();
            Err(anyhow::Error::new(trap).context(bt))
        }
        Exit::Error(e) => Err(e),
    };
    ex.store.frames.truncate(entry_depth);
    ex.store.stack_top = saved_top;
    result
}

fn grow_stack(store: &mut StoreInner, need: usize) -> Result<(), Trap> {
    if need <= store.stack.len() {
        return Ok(());
    }
    let max = store.engine.config.max_stack_cells;
    if need > max {
        return Err(Trap::StackOverflow);
    }
    let new_len = need.max(store.stack.len() * 2).max(1024).min(max);
    store
        .stack
        .try_reserve_exact(new_len - store.stack.len())
        .map_err(|_| Trap::StackOverflow)?;
    store.stack.resize(new_len, 0);
    Ok(())
}

macro_rules! define_run {
    (
        unary: [$(($un:ident, $unm:literal, $unt:ty, $unf:expr)),* $(,)?],
        unary_trap: [$(($ut:ident, $utm:literal, $utt:ty, $utf:expr)),* $(,)?],
        binary: [$(($bn:ident, $bnm:literal, $bnt:ty, $bnf:expr)),* $(,)?],
        binary_imm: [$(($bi:ident, $bim:literal, $bit:ty, $bif:expr)),* $(,)?],
        binary_trap: [$(($bt:ident, $btm:literal, $btt:ty, $btf:expr)),* $(,)?],
        br_cmp: [$(($bc:ident, $bcm:literal, $bct:ty, $bcf:expr, $bcfrom:ident, $bcnot:ident)),* $(,)?],
        br_cmp_imm: [$(($bci:ident, $bcim:literal, $bcit:ty, $bcif:expr, $bcifrom:ident, $bcinot:ident)),* $(,)?],
        load: [$(($ld:ident, $ldm:literal, $ldn:literal, $ldf:expr)),* $(,)?],
        store: [$(($st:ident, $stm:literal, $stn:literal, $stt:ty, $stf:expr)),* $(,)?],
        other: [$($(#[doc = $doc:literal])* $($hot:ident)? ($ot:ident, $otm:literal, { $($of:ident : $oft:ty),* $(,)? })),* $(,)?],
    ) => {
        impl Executor<'_> {
            /// The dispatch loop: runs until the entry frame returns or a trap.
            #[cfg_attr(
                all(
                    not(debug_assertions),
                    any(target_arch = "x86_64", target_arch = "aarch64"),
                    not(feature = "portable-dispatch")
                ),
                allow(dead_code)
            )]
            ///
            /// The hot state (instruction pointer, frame registers, memory 0) lives in the
            /// local `h` so it stays in machine registers; it is written back to the
            /// executor only around handlers that need the whole store.
            fn run(&mut self) -> Exit {
                let mut h = Hot::from_executor(self);
                loop {
                    // SAFETY: the translator ends every code path with a jump, return or
                    // trap, and all jump targets are in bounds, so `ip` stays inside the
                    // current function's code, which its module keeps alive.
                    let instr = unsafe { (*h.ip).instr() };
                    // SAFETY: as above; `ip` points at most one past a valid instruction.
                    h.ip = unsafe { h.ip.add(1) };
                    // Every arm ends in `continue` on success; only failing paths leave
                    // the loop, writing the state back first (for the backtrace).
                    macro_rules! trap {
                        ($e:expr) => {{
                            h.save(self);
                            return $e;
                        }};
                    }
                    match instr {
                        $(Instr::$un { dst, src } => {
                            let x = <$unt>::from_cell(h.get(src));
                            h.set(dst, ($unf)(x).to_cell());
                        })*
                        $(Instr::$ut { dst, src } => {
                            let x = <$utt>::from_cell(h.get(src));
                            match ($utf)(x) {
                                Ok(v) => h.set(dst, v.to_cell()),
                                Err(t) => trap!(Exit::Trap(t)),
                            }
                        })*
                        $(Instr::$bn { dst, a, b } => {
                            let (x, y) = (<$bnt>::from_cell(h.get(a)), <$bnt>::from_cell(h.get(b)));
                            h.set(dst, ($bnf)(x, y).to_cell());
                        })*
                        $(Instr::$bi { dst, a, imm } => {
                            let (x, y) = (<$bit>::from_cell(h.get(a)), <$bit>::from_imm(imm));
                            h.set(dst, ($bif)(x, y).to_cell());
                        })*
                        $(Instr::$bt { dst, a, b } => {
                            let (x, y) = (<$btt>::from_cell(h.get(a)), <$btt>::from_cell(h.get(b)));
                            match ($btf)(x, y) {
                                Ok(v) => h.set(dst, v.to_cell()),
                                Err(t) => trap!(Exit::Trap(t)),
                            }
                        })*
                        $(Instr::$bc { a, b, target } => {
                            let (x, y) = (<$bct>::from_cell(h.get(a)), <$bct>::from_cell(h.get(b)));
                            if ($bcf)(x, y) { h.jump(target); }
                        })*
                        $(Instr::$bci { a, imm, target } => {
                            let (x, y) = (<$bcit>::from_cell(h.get(a)), <$bcit>::from_imm(imm));
                            if ($bcif)(x, y) { h.jump(target); }
                        })*
                        $(Instr::$ld { dst, addr, offset } => {
                            match h.load::<$ldn>(addr, offset) {
                                Ok(bytes) => h.set(dst, ($ldf)(bytes).to_cell()),
                                Err(t) => trap!(Exit::Trap(t)),
                            }
                        })*
                        $(Instr::$st { addr, val, offset } => {
                            let v = <$stt>::from_cell(h.get(val));
                            if let Err(t) = h.store::<$stn>(addr, offset, ($stf)(v)) {
                                trap!(Exit::Trap(t));
                            }
                        })*
                        $(Instr::$ot { $($of),* } => {
                            if let Err(exit) = other_op!($($hot)? ; self, h, $ot, $($of),*) {
                                trap!(exit);
                            }
                        })*
                    }
                }
            }
        }
    };
}

/// Runs an `other` handler: `hot` ones on the local state, the rest on the executor with
/// the state written back first and reloaded after.
macro_rules! other_op {
    (hot ; $self:ident, $h:ident, $name:ident, $($a:ident),*) => {
        Hot::$name(&mut $h, $($a),*)
    };
    (limit ; $self:ident, $h:ident, $name:ident, $($a:ident),*) => {
        $self.$name(&mut $h, $($a),*)
    };
    ( ; $self:ident, $h:ident, $name:ident, $($a:ident),*) => {{
        $h.save($self);
        let r = $self.$name($($a),*);
        $h = Hot::from_executor($self);
        r
    }};
}

/// The executor state the dispatch loop keeps in machine registers.
///
/// The threaded dispatcher has no `code` register: its branch targets are relative to the
/// next instruction (see `threaded::thread`), and it saves the pc against `Executor::code`.
pub(crate) struct Hot {
    #[cfg(not(all(
        not(debug_assertions),
        any(target_arch = "x86_64", target_arch = "aarch64"),
        not(feature = "portable-dispatch")
    )))]
    code: *const Unit,
    ip: *const Unit,
    regs: *mut u64,
    mem: *mut u8,
    mem_len: usize,
}

impl Hot {
    /// Hot state at `ip` of the code starting at `code`.
    #[inline(always)]
    fn new(
        code: *const Unit,
        ip: *const Unit,
        regs: *mut u64,
        mem: *mut u8,
        mem_len: usize,
    ) -> Hot {
        #[cfg(all(
            not(debug_assertions),
            any(target_arch = "x86_64", target_arch = "aarch64"),
            not(feature = "portable-dispatch")
        ))]
        let _ = code;
        Hot {
            #[cfg(not(all(
                not(debug_assertions),
                any(target_arch = "x86_64", target_arch = "aarch64"),
                not(feature = "portable-dispatch")
            )))]
            code,
            ip,
            regs,
            mem,
            mem_len,
        }
    }

    #[inline(always)]
    fn from_executor(ex: &Executor<'_>) -> Hot {
        // SAFETY: `pc` is within the current function's code (see `run`).
        let ip = unsafe { ex.code.add(ex.pc) };
        Hot::new(ex.code, ip, ex.regs, ex.mem, ex.mem_len)
    }

    #[inline(always)]
    fn save(&self, ex: &mut Executor<'_>) {
        #[cfg(all(
            not(debug_assertions),
            any(target_arch = "x86_64", target_arch = "aarch64"),
            not(feature = "portable-dispatch")
        ))]
        let code = ex.code;
        #[cfg(not(all(
            not(debug_assertions),
            any(target_arch = "x86_64", target_arch = "aarch64"),
            not(feature = "portable-dispatch")
        )))]
        let code = self.code;
        // SAFETY: `ip` and `code` point into the current function's code.
        ex.pc = unsafe { self.ip.offset_from(code) } as usize;
    }

    /// Jumps to `target`: an absolute index for the `match` dispatcher, an offset from the
    /// next instruction in threaded code.
    #[inline(always)]
    fn jump(&mut self, target: crate::ops::Target) {
        #[cfg(all(
            not(debug_assertions),
            any(target_arch = "x86_64", target_arch = "aarch64"),
            not(feature = "portable-dispatch")
        ))]
        {
            // SAFETY: `thread` made every target relative to the instruction after the
            // branch, whose address `ip` holds here; the target is inside the function's
            // code.
            self.ip = unsafe { self.ip.offset(target.0 as i32 as isize) };
        }
        #[cfg(not(all(
            not(debug_assertions),
            any(target_arch = "x86_64", target_arch = "aarch64"),
            not(feature = "portable-dispatch")
        )))]
        {
            // SAFETY: branch targets are indices into the current function's code.
            self.ip = unsafe { self.code.add(target.0 as usize) };
        }
    }

    #[inline(always)]
    fn get(&self, r: Reg) -> u64 {
        // SAFETY: the translator only emits registers below the function's frame size, and
        // frame entry made `base + frame_size <= stack.len()`; `regs` is reloaded after
        // anything that may move the stack.
        unsafe { *self.regs.add(r.0 as usize) }
    }

    #[inline(always)]
    fn set(&mut self, d: Dst, v: u64) {
        // SAFETY: as in `get`.
        unsafe { *self.regs.add(d.0 as usize) = v }
    }

    /// The effective address of a `load`/`store` row: `addr + offset`, without wrapping.
    #[inline(always)]
    fn effective(&self, addr: Reg, offset: u32) -> u64 {
        self.get(addr) as u32 as u64 + offset as u64
    }

    /// The effective address of a fused `*Add` row: `(addr + imm) mod 2^32`, as the
    /// `i32.add` it replaces computed it.
    #[inline(always)]
    fn wrapped(&self, addr: Reg, imm: u32) -> u64 {
        (self.get(addr) as u32).wrapping_add(imm) as u64
    }

    /// `ea` as an index into memory 0, if `N` bytes fit there.
    #[inline(always)]
    fn check<const N: usize>(&self, ea: u64) -> Result<usize, Trap> {
        if ea + N as u64 > self.mem_len as u64 {
            return Err(Trap::MemoryOutOfBounds);
        }
        Ok(ea as usize)
    }

    #[inline(always)]
    fn load<const N: usize>(&self, addr: Reg, offset: u32) -> Result<[u8; N], Trap> {
        self.load_at(self.effective(addr, offset))
    }

    #[inline(always)]
    fn load_at<const N: usize>(&self, ea: u64) -> Result<[u8; N], Trap> {
        let ea = self.check::<N>(ea)?;
        // SAFETY: `ea + N <= mem_len`, and `mem`/`mem_len` describe the current instance's
        // memory 0 (reloaded after every handler that can call, grow or switch instance).
        Ok(unsafe { core::ptr::read_unaligned(self.mem.add(ea) as *const [u8; N]) })
    }

    #[inline(always)]
    fn store<const N: usize>(&mut self, addr: Reg, offset: u32, v: [u8; N]) -> Result<(), Trap> {
        self.store_at(self.effective(addr, offset), v)
    }

    #[inline(always)]
    fn store_at<const N: usize>(&mut self, ea: u64, v: [u8; N]) -> Result<(), Trap> {
        let ea = self.check::<N>(ea)?;
        // SAFETY: as in `load_at`.
        unsafe { core::ptr::write_unaligned(self.mem.add(ea) as *mut [u8; N], v) };
        Ok(())
    }
}

crate::for_each_op!(define_run);

impl Executor<'_> {
    /// Runs the current function to completion with the build's dispatcher.
    fn dispatch(&mut self) -> Exit {
        // JIT hook: the entry function may run natively.
        if let Err(exit) = self.jit_entered() {
            return exit;
        }
        #[cfg(all(
            not(debug_assertions),
            any(target_arch = "x86_64", target_arch = "aarch64"),
            not(feature = "portable-dispatch")
        ))]
        return self.run_threaded();
        #[cfg(not(all(
            not(debug_assertions),
            any(target_arch = "x86_64", target_arch = "aarch64"),
            not(feature = "portable-dispatch")
        )))]
        return self.run();
    }

    #[inline(always)]
    fn func(&self) -> &CompiledFunc {
        // SAFETY: `func` points into a module kept alive by the store's instances.
        unsafe { &*self.func }
    }

    #[inline(always)]
    fn module(&self) -> &Module {
        // SAFETY: `module` is the current instance's module, kept alive by the store.
        unsafe { &*self.module }
    }

    #[inline(always)]
    fn get(&self, r: Reg) -> u64 {
        debug_assert!((r.0 as u32) < self.func().frame_size.max(1) + 65536);
        // SAFETY: the translator only emits registers below the function's frame size, and
        // frame entry made `base + frame_size <= stack.len()`; `regs` is refreshed after
        // anything that may move the stack.
        unsafe { *self.regs.add(r.0 as usize) }
    }

    #[inline(always)]
    fn set(&mut self, d: Dst, v: u64) {
        // SAFETY: as in `get`.
        unsafe { *self.regs.add(d.0 as usize) = v }
    }

    fn refresh_regs(&mut self) {
        // SAFETY: `base` is within the stack (checked when the frame was entered).
        self.regs = unsafe { self.store.stack.as_mut_ptr().add(self.base) };
    }

    fn refresh_memory(&mut self) {
        let inst = &self.store.instances[self.inst as usize];
        match inst.memories.first() {
            Some(&m) => {
                let mem = &mut self.store.memories[m as usize].data;
                self.mem = mem.as_mut_ptr();
                self.mem_len = mem.len();
            }
            None => {
                self.mem = core::ptr::null_mut();
                self.mem_len = 0;
            }
        }
    }

    /// Zeroes the frame's locals and writes its constant cells.
    #[inline(always)]
    fn zero_locals(&mut self) {
        // SAFETY: `func` points into a module kept alive by the store's instances; the
        // reference does not borrow `self`.
        let f = unsafe { &*self.func };
        let (start, n) = (f.param_cells as usize, f.local_cells as usize);
        debug_assert!(start + n + f.consts.len() <= f.frame_size as usize);
        // Frames are small: plain stores beat `memset`/`memcpy` calls here. The stores are
        // volatile only so that LLVM does not turn the loops back into those calls.
        for i in 0..n {
            // SAFETY: `regs` points at the frame base and the frame entry checked
            // `base + frame_size <= stack.len()`; locals and constants lie inside the frame.
            unsafe { self.regs.add(start + i).write_volatile(0) };
        }
        for (i, &c) in f.consts.iter().enumerate() {
            // SAFETY: as above.
            unsafe { self.regs.add(start + n + i).write_volatile(c) };
        }
    }

    /// Enters wasm function `f` of instance `inst` with its frame at `base` (relative).
    #[inline(always)]
    fn enter(
        &mut self,
        f: *const CompiledFunc,
        base: Reg,
        inst: u32,
        module: *const Module,
    ) -> Step {
        if self.store.frames.len() >= self.max_depth {
            return Err(Exit::Trap(Trap::StackOverflow));
        }
        let new_base = self.base + base.0 as usize;
        // SAFETY: `f` comes from `Module::code` of a module the store keeps alive.
        let frame_size = unsafe { (*f).frame_size } as usize;
        if new_base + frame_size > self.store.stack.len() {
            grow_stack(self.store, new_base + frame_size)?;
        }
        self.store.frames.push(Frame {
            func: self.func,
            pc: self.pc as u32,
            base: self.base,
            inst: self.inst,
        });
        self.func = f;
        self.code = self.func().units();
        self.pc = 0;
        self.base = new_base;
        self.refresh_regs();
        self.zero_locals();
        if inst != self.inst {
            self.inst = inst;
            self.module = module;
            self.refresh_memory();
        }
        // JIT hook: tier-up counting; native callees run here.
        self.jit_entered()
    }

    /// The common case of `call` for the threaded dispatcher: a translated function of the
    /// current instance, with room on the value stack and below the depth limit, and no
    /// per-call hooks. Enters it like [`Executor::enter`] (`ret_pc` is the caller's
    /// continuation) and returns true; returns false, changing nothing, for every other
    /// case, which the general path handles.
    #[allow(dead_code)]
    #[inline(always)]
    fn enter_fast(&mut self, func: u32, base: Reg, ret_pc: usize) -> bool {
        if !self.fast_calls {
            return false;
        }
        // SAFETY: `module` is the current instance's module, kept alive by the store; the
        // reference does not borrow `self`.
        let module = unsafe { &*self.module };
        let Some(def) = func.checked_sub(module.num_imported_funcs) else {
            return false;
        };
        let Some(f) = module.compiled(def) else {
            return false;
        };
        self.enter_compiled_fast(f, base, ret_pc)
    }

    /// `call_indirect`'s counterpart of [`Executor::enter_fast`]: the table entry must pass
    /// `indirect_callee`'s checks and be a translated function of the current instance.
    /// Every other case, traps included, is left to the general path (false, nothing
    /// changed).
    #[allow(dead_code)]
    #[inline(always)]
    fn enter_fast_indirect(
        &mut self,
        index: Reg,
        base: Reg,
        table: u16,
        ty: u32,
        ret_pc: usize,
    ) -> bool {
        if !self.fast_calls {
            return false;
        }
        let Ok(addr) = self.indirect_callee(index, table, ty) else {
            return false;
        };
        let FuncEntity::Wasm {
            instance, index, ..
        } = self.store.funcs[addr as usize]
        else {
            return false;
        };
        if instance != self.inst {
            return false;
        }
        // SAFETY: as in `enter_fast`.
        let module = unsafe { &*self.module };
        let Some(f) = index
            .checked_sub(module.num_imported_funcs)
            .and_then(|def| module.compiled(def))
        else {
            return false;
        };
        self.enter_compiled_fast(f, base, ret_pc)
    }

    /// The frame switch of the fast calls: `f` is a translated function of the current
    /// instance.
    #[inline(always)]
    fn enter_compiled_fast(&mut self, f: &CompiledFunc, base: Reg, ret_pc: usize) -> bool {
        let new_base = self.base + base.0 as usize;
        let frames = &mut self.store.frames;
        let depth = frames.len();
        if depth >= self.max_depth
            || depth == frames.capacity()
            || new_base + f.frame_size as usize > self.store.stack.len()
        {
            return false;
        }
        // A push without the growth path (whose call would give every threaded handler
        // that inlines this a stack frame).
        // SAFETY: `depth < capacity` (checked above), so slot `depth` is allocated, and it
        // is initialized before the length covers it.
        unsafe {
            frames.as_mut_ptr().add(depth).write(Frame {
                func: self.func,
                pc: ret_pc as u32,
                base: self.base,
                inst: self.inst,
            });
            frames.set_len(depth + 1);
        }
        self.func = f;
        self.code = f.units();
        self.base = new_base;
        // SAFETY: `new_base + frame_size <= stack.len()` (checked above), and the stack has
        // not moved since `regs` was last refreshed.
        self.regs = unsafe { self.regs.add(base.0 as usize) };
        self.zero_locals();
        true
    }

    /// The common case of a return for the threaded dispatcher: to a caller of the same
    /// instance inside this invocation, with no per-call hooks. Switches to the caller's
    /// frame and returns the pc to continue at; `None`, changing nothing, otherwise.
    #[allow(dead_code)]
    #[inline(always)]
    fn ret_fast(&mut self) -> Option<usize> {
        if !self.fast_calls || self.store.frames.len() == self.entry_depth {
            return None;
        }
        let fr = *self.store.frames.last()?;
        if fr.inst != self.inst {
            return None;
        }
        self.store.frames.pop();
        self.func = fr.func;
        self.code = self.func().units();
        self.base = fr.base;
        self.refresh_regs();
        Some(fr.pc as usize)
    }

    /// Returns from the current function (results already in its first cells).
    #[inline(always)]
    fn ret(&mut self) -> Step {
        if self.store.frames.len() == self.entry_depth {
            return Err(Exit::Done);
        }
        let Some(fr) = self.store.frames.pop() else {
            return Err(Exit::Done);
        };
        self.func = fr.func;
        self.code = self.func().units();
        self.pc = fr.pc as usize;
        self.base = fr.base;
        self.refresh_regs();
        if fr.inst != self.inst {
            self.inst = fr.inst;
            self.module = &*self.store.instances[fr.inst as usize].module;
            self.refresh_memory();
        }
        // JIT hook: a caller with native code resumes natively.
        self.jit_returned()
    }

    /// GC stress mode: collect at this safepoint, with the current frame suspended like a
    /// caller's so its stack map applies.
    fn stress_gc(&mut self) {
        self.store.frames.push(Frame {
            func: self.func,
            pc: self.pc as u32,
            base: self.base,
            inst: self.inst,
        });
        self.store.collect_garbage();
        self.store.frames.pop();
    }

    /// What store function `addr` is, for a call: a wasm function (translated now if it
    /// was not yet) or a host function with its cell counts.
    fn callee_at(&self, addr: u32) -> Result<Callee, Exit> {
        match &self.store.funcs[addr as usize] {
            FuncEntity::Wasm {
                instance, index, ..
            } => {
                let module: *const Module = &*self.store.instances[*instance as usize].module;
                // SAFETY: the module is kept alive by its instance in this store.
                let m = unsafe { &*module };
                let f = m
                    .code(index - m.num_imported_funcs)
                    .map_err(translate_error)?;
                Ok(Callee::Wasm {
                    f,
                    inst: *instance,
                    module,
                })
            }
            FuncEntity::Host { ty, func, .. } => {
                // Arguments and results are laid out by cells (a v128 takes two).
                let cells = |tys: &[crate::ValType]| tys.iter().map(|t| t.cells()).sum();
                Ok(Callee::Host {
                    func: func.clone(),
                    params: cells(ty.params()),
                    results: cells(ty.results()),
                })
            }
        }
    }

    /// The callee of `call func` / `return_call func` in the current instance.
    #[inline(always)]
    fn callee_of(&self, func: u32) -> Result<Callee, Exit> {
        let module = self.module();
        match func.checked_sub(module.num_imported_funcs) {
            Some(def) => Ok(Callee::Wasm {
                f: module.code(def).map_err(translate_error)?,
                inst: self.inst,
                module: self.module,
            }),
            None => self.callee_at(self.store.instances[self.inst as usize].funcs[func as usize]),
        }
    }

    /// Calls `callee` with its frame at `base`.
    #[inline(always)]
    fn call(&mut self, callee: Callee, base: Reg) -> Step {
        match callee {
            Callee::Wasm { f, inst, module } => self.enter(f, base, inst, module),
            Callee::Host {
                func,
                params,
                results,
            } => self
                .call_host(&func, params, results, base, false)
                .map(drop),
        }
    }

    /// A tail call of wasm function `f` of instance `inst`: its arguments, at `base`, move
    /// to the start of the current frame, which becomes the callee's. The call depth and
    /// the frame's position on the value stack stay as they were, so tail recursion runs
    /// in constant space.
    fn tail_enter(
        &mut self,
        f: *const CompiledFunc,
        base: Reg,
        inst: u32,
        module: *const Module,
    ) -> Step {
        // SAFETY: `f` comes from `Module::code` of a module the store keeps alive.
        let (params, frame_size) = unsafe { ((*f).param_cells, (*f).frame_size) };
        let from = self.base + base.0 as usize;
        self.store
            .stack
            .copy_within(from..from + params as usize, self.base);
        if self.base + frame_size as usize > self.store.stack.len() {
            grow_stack(self.store, self.base + frame_size as usize)?;
        }
        self.func = f;
        self.code = self.func().units();
        self.pc = 0;
        self.refresh_regs();
        self.zero_locals();
        if inst != self.inst {
            self.inst = inst;
            self.module = module;
            self.refresh_memory();
        }
        // JIT hook: tier-up counting; a native callee runs here.
        self.jit_entered()
    }

    /// A tail call of `callee` with its arguments at `base`. A host callee is called
    /// normally and its results returned at once.
    fn tail_call(&mut self, callee: Callee, base: Reg) -> Step {
        match callee {
            Callee::Wasm { f, inst, module } => self.tail_enter(f, base, inst, module),
            Callee::Host {
                func,
                params,
                results,
            } => {
                if !self.call_host(&func, params, results, base, true)? {
                    // It threw, and a handler further out caught the exception.
                    return Ok(());
                }
                let from = self.base + base.0 as usize;
                self.store
                    .stack
                    .copy_within(from..from + results, self.base);
                self.ret()
            }
        }
    }

    /// Calls a host function with its arguments at `base`; true when it returned. An
    /// exception it throws (the error [`ThrownException`](crate::ThrownException) with
    /// one pending) unwinds from the call, or for a tail call (`tail`) from the caller's
    /// call: false when a handler caught it (execution goes on there).
    fn call_host(
        &mut self,
        func: &HostFunc,
        np: usize,
        nr: usize,
        base: Reg,
        tail: bool,
    ) -> Result<bool, Exit> {
        let at = self.base + base.0 as usize;
        let n = np.max(nr);
        grow_stack(self.store, at + n)?;
        let mut cells: smallvec::SmallVec<[u64; 16]> = smallvec::SmallVec::new();
        cells.extend_from_slice(&self.store.stack[at..at + np]);
        cells.resize(n, 0);
        let saved_top = self.store.stack_top;
        self.store.stack_top = at + n;
        self.store.frames.push(Frame {
            func: self.func,
            pc: self.pc as u32,
            base: self.base,
            inst: self.inst,
        });
        let result = func(self.store, self.data, &mut cells);
        self.store.frames.pop();
        self.store.stack_top = saved_top;
        self.refresh_regs();
        self.refresh_memory();
        if let Err(e) = result {
            return match self.store.take_pending_exn_for(&e) {
                Some(exn) => self.throw_exn(exn, tail).map(|()| false),
                None => Err(Exit::Error(e)),
            };
        }
        self.store.stack[at..at + nr].copy_from_slice(&cells[..nr]);
        Ok(true)
    }

    fn backtrace(&self) -> WasmBacktrace {
        let mut frames = Vec::new();
        let describe = |func: *const CompiledFunc, pc: usize, inst: u32| {
            // SAFETY: frame functions point into modules kept alive by the store.
            let f = unsafe { &*func };
            let module = &self.store.instances[inst as usize].module;
            FrameInfo {
                func_index: f.func_index,
                func_name: module.func_name(f.func_index).map(str::to_string),
                module_name: module.names.module.clone(),
                pc: pc.saturating_sub(1) as u32,
            }
        };
        frames.push(describe(self.func, self.pc, self.inst));
        for fr in self.store.frames[self.entry_depth..].iter().rev() {
            frames.push(describe(fr.func, fr.pc as usize, fr.inst));
        }
        WasmBacktrace::new(frames)
    }
}

/// Adds the `externref`s held by every suspended wasm frame of `store` to `roots`, using
/// each frame's stack map at its call site. The one stack walk both tiers use.
pub fn frame_roots(store: &StoreInner, roots: &mut Vec<(gloam_gc::VMGcRef, gloam_gc::RootKind)>) {
    for (i, fr) in store.frames.iter().enumerate() {
        // SAFETY: frame functions point into modules kept alive by the store's instances.
        let f = unsafe { &*fr.func };
        let call_pc = fr.pc.saturating_sub(1);
        // The cells from the next frame's base up are that frame's: the call's arguments
        // became its parameters, which its own map covers, and after a tail call they
        // may hold values of other types. (A host callee's arguments lie below the base
        // of any frame it enters, so they stay covered here.)
        let limit = store.frames.get(i + 1).map_or(usize::MAX, |next| next.base);
        for &cell in f.stack_map(call_pc) {
            let at = fr.base + cell as usize;
            if at >= limit {
                continue;
            }
            let value = store.stack.get(at).copied().unwrap_or(0);
            if let Some(r) = gloam_gc::VMGcRef::from_raw(value as u32) {
                let kind = gloam_gc::RootKind::WasmFrame {
                    func_index: f.func_index,
                    pc: call_pc,
                    cell: cell as u32,
                };
                roots.push((r, kind));
            }
        }
    }
}

fn translate_error(e: String) -> Exit {
    Exit::Error(anyhow::anyhow!("failed to translate function: {e}"))
}
