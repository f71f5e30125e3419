//! The executor's side of the native tier: tier-up counting and the loop that runs native
//! frames (see `crate::native` for the convention).
//!
//! Native code hands calls back to the executor as step exits, so a call from native code
//! pushes the same [`Frame`](super::Frame) the interpreter pushes and continues in the
//! callee, native or interpreted; a return to a frame whose function has native code
//! resumes it natively at the instruction after its call (even if that activation started
//! interpreted). Nothing nests on the host stack.
//!
//! Fuel and epoch checks run in native code against the store's counters (pointers in the
//! `VmCtx`); a check that finds the epoch deadline reached exits with a step, and `step`
//! runs the interpreter's handler (trap, or the deadline callback with the frame
//! suspended), after which native code resumes behind the check.

#![allow(non_snake_case)]

use super::{Executor, Exit, Hot, Step};
use crate::engine::EngineCore;
use crate::native::{
    DIRECT_CALL_DEPTH, STATUS_RETURN, STATUS_STEP, STATUS_TRAP, VmCtx, trap_from_code,
};
use crate::ops::Instr;

/// The executor's native-tier state.
pub(crate) struct JitState {
    /// Calls before a function is compiled; `None` when the engine has no code generator
    /// or the tier is off.
    threshold: Option<u32>,
    /// Whether `run_native`'s loop is active (then calls and returns only switch frames).
    driving: bool,
    vm: VmCtx,
}

impl JitState {
    pub(crate) fn new(engine: &EngineCore) -> JitState {
        JitState {
            threshold: engine.codegen.as_ref().and(engine.config.jit_threshold),
            driving: false,
            vm: VmCtx::default(),
        }
    }
}

impl JitState {
    /// Whether calls and returns must go through the tier's hooks.
    pub(crate) fn active(&self) -> bool {
        self.threshold.is_some()
    }
}

impl Executor<'_> {
    /// Hook after a frame was entered: counts the call, compiles a function that became
    /// hot, and runs native frames if the new frame has native code.
    #[inline(always)]
    pub(super) fn jit_entered(&mut self) -> Step {
        match self.jit.threshold {
            None => Ok(()),
            Some(t) => self.jit_entered_slow(t),
        }
    }

    #[inline(never)]
    fn jit_entered_slow(&mut self, threshold: u32) -> Step {
        // SAFETY: `func` points into a module kept alive by the store's instances; the
        // reference does not borrow `self`.
        let f = unsafe { &*self.func };
        if f.jit.count_call(threshold)
            && let Some(cg) = self.store.engine.codegen.clone()
        {
            // SAFETY: as above, for the current instance's module.
            let module = unsafe { &*self.module };
            module.install_native(f, || cg.compile(module, f));
        }
        if self.jit.driving || f.jit.native().is_none() {
            return Ok(());
        }
        self.run_native()
    }

    /// A loop header in interpreted code (`Instr::LoopHeader`, with `pc` past it): counts
    /// the iteration toward compiling the function, and once it has native code,
    /// continues the loop there (on-stack replacement: same frame, entered at this
    /// header's resume point).
    pub(super) fn LoopHeader(&mut self) -> Step {
        let Some(threshold) = self.jit.threshold else {
            return Ok(());
        };
        // SAFETY: `func` points into a module kept alive by the store's instances; the
        // reference does not borrow `self`.
        let f = unsafe { &*self.func };
        if f.jit.count_call(threshold)
            && let Some(cg) = self.store.engine.codegen.clone()
        {
            // SAFETY: as above, for the current instance's module.
            let module = unsafe { &*self.module };
            module.install_native(f, || cg.compile(module, f));
        }
        let header = self.pc - 1;
        match f.jit.native() {
            Some(native) if !self.jit.driving && native.resume_addr(header as u32).is_some() => {
                self.pc = header;
                self.run_native()
            }
            _ => Ok(()),
        }
    }

    /// Hook after a return switched to the caller's frame: resumes it natively if its
    /// function has native code.
    #[inline(always)]
    pub(super) fn jit_returned(&mut self) -> Step {
        if self.jit.threshold.is_none() || self.jit.driving || self.func().jit.native().is_none() {
            return Ok(());
        }
        self.run_native()
    }

    /// Runs native frames until the current frame is an interpreted one (`Ok`), the entry
    /// frame returns (`Err(Exit::Done)`), or a trap or error.
    #[inline(never)]
    fn run_native(&mut self) -> Step {
        self.jit.driving = true;
        let r = self.drive_native();
        self.jit.driving = false;
        r
    }

    fn drive_native(&mut self) -> Step {
        // Set once per drive, not per entry (a call-heavy function enters native code at
        // every call and return): the store does not move while the executor borrows it,
        // nor the engine's counter while the store holds the engine. Rust code touches the
        // store's counters only between native runs (in `step`, and the host code it
        // calls), native code only during them; the pointer escapes into the `VmCtx` every
        // native call gets, so the compiler keeps no counter in a register across one.
        self.jit.vm.limits = &mut self.store.limits.vm;
        self.jit.vm.epoch = self.store.engine.epoch.as_ptr();
        loop {
            // SAFETY: `func` points into a module kept alive by the store's instances.
            let f = unsafe { &*self.func };
            let Some(native) = f.jit.native() else {
                return Ok(());
            };
            let Some(addr) = native.resume_addr(self.pc as u32) else {
                return Ok(());
            };
            let vm = &mut self.jit.vm;
            vm.resume = addr;
            vm.mem = self.mem;
            vm.mem_len = self.mem_len as u64;
            vm.globals = self.store.globals.as_mut_ptr();
            vm.inst_globals = self.store.instances[self.inst as usize].globals.as_ptr();
            // Direct calls push frame records in place, within the vector's capacity and
            // the depth limit; GC stress wants every call to reach the executor.
            let frames = &mut self.store.frames;
            vm.frames = frames.as_mut_ptr();
            vm.frames_len = frames.len();
            vm.frames_limit = if self.gc_stress {
                0
            } else {
                frames
                    .capacity()
                    .min(self.max_depth)
                    .min(frames.len() + DIRECT_CALL_DEPTH)
            };
            let stack = self.store.stack.as_mut_ptr_range();
            (vm.stack, vm.stack_end) = (stack.start, stack.end);
            // SAFETY: `module` is the current instance's module, kept alive by the store.
            vm.direct = unsafe { &*self.module }.direct_table();
            vm.inst = self.inst;
            // SAFETY: `native` was compiled from `f`, whose frame is the current one:
            // `regs` points at its base with `frame_size` cells in bounds (checked on
            // entry), `resume` is a start address for code index `pc`, and the `VmCtx`
            // describes the current instance's memory 0, globals and the store's fuel and
            // epoch deadline, which nothing else touches while native code runs (it never
            // calls back into the engine), and the engine's epoch counter, which other
            // threads only bump atomically (native code reads it with one aligned load).
            let status = unsafe { (native.entry())(&mut self.jit.vm, self.regs) };
            let vm = &self.jit.vm;
            let at = vm.exit_pc;
            // SAFETY: native code only pushed and popped frame records within the
            // capacity, each initialized before its push counted (`frames_len` never
            // exceeds `frames_limit`, which is at most the capacity); `Frame` is `Copy`.
            unsafe { self.store.frames.set_len(vm.frames_len) };
            if status != STATUS_RETURN {
                // The exit came from the innermost frame, which direct calls may have
                // entered: continue there.
                self.func = vm.exit_func;
                self.code = self.func().units();
                // SAFETY: `exit_regs` is the base of a frame inside the value stack (native
                // code enters frames only below `stack_end`), which has not moved.
                let cells = unsafe { vm.exit_regs.offset_from(self.store.stack.as_ptr()) };
                self.base = cells as usize;
                self.regs = vm.exit_regs;
            }
            match status {
                STATUS_RETURN => self.ret()?,
                STATUS_STEP => {
                    self.pc = at as usize + 1;
                    self.step(at)?;
                }
                s => {
                    self.pc = at as usize + 1;
                    let trap = s.checked_sub(STATUS_TRAP).and_then(trap_from_code);
                    return Err(match trap {
                        Some(t) => Exit::Trap(t),
                        None => Exit::Error(anyhow::anyhow!(
                            "internal error: native code exited with status {s}"
                        )),
                    });
                }
            }
        }
    }
}

macro_rules! define_step {
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
            /// Runs the instruction at code index `at` for native code, with `pc` already
            /// past it (as the dispatchers have it when they call a handler). Only the
            /// instructions `crate::native::steppable` accepts get here.
            #[allow(unused_variables)]
            fn step(&mut self, at: u32) -> Step {
                match self.func().code[at as usize] {
                    $(Instr::$ot { $($of),* } => step_row!($($hot)? ; self, $ot, $($of),*),)*
                    _ => Err(not_steppable()),
                }
            }
        }
    };
}

macro_rules! step_row {
    (hot ; $($rest:tt)*) => {
        Err(not_steppable())
    };
    // Fuel and epoch checks on their slow path: the handler with hot state made from the
    // executor (it writes the state back itself when it runs the epoch action).
    (limit ; $self:ident, $name:ident, $($a:ident),*) => {{
        let mut h = Hot::from_executor($self);
        $self.$name(&mut h, $($a),*)
    }};
    ( ; $self:ident, $name:ident, $($a:ident),*) => {
        $self.$name($($a),*)
    };
}

fn not_steppable() -> Exit {
    Exit::Error(anyhow::anyhow!(
        "internal error: native code handed back an instruction the executor cannot step"
    ))
}

crate::for_each_op!(define_step);
