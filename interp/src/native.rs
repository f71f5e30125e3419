//! The interface between the executor and a native-code tier (the JIT in `gloam-jit`).
//!
//! This crate cannot depend on the JIT, so it defines the hook: an engine may hold a
//! [`CodeGen`] that turns a function's register bytecode into [`NativeCode`]. Native code
//! keeps the interpreter's frame layout (values live in their frame cells), and is entered
//! with
//!
//! ```text
//! extern "C" fn(vmctx: *mut VmCtx, frame_base: *mut u64) -> status
//! ```
//!
//! at the address in [`VmCtx::resume`]: the function start, or the instruction after one
//! that native code handed back to the executor. It runs until it returns (status
//! [`STATUS_RETURN`], results already in the first cells of its frame), needs the executor
//! to run one instruction for it ([`STATUS_STEP`]: calls, `memory.grow`, table operations,
//! an epoch check that found the deadline reached; the executor then pushes callee frames
//! exactly as for interpreted code, or runs the epoch action), or traps
//! (status [`STATUS_TRAP`] + [`trap_code`]). In the last two cases `VmCtx::exit_pc` holds
//! the code index of the instruction. Native code never calls back into the engine, so
//! frames of both tiers live on the store's frame stack alike: backtraces, stack maps and
//! the call-depth limit work the same for both.

use crate::limits::VMLimits;
use crate::ops::Instr;
use crate::prelude::*;
use crate::store::GlobalInst;
use crate::sync::OnceLock;
use crate::trap::Trap;
use core::any::Any;
use core::sync::atomic::{AtomicU32, Ordering};

/// Status: the function returned; its results are in the first cells of its frame.
pub const STATUS_RETURN: u32 = 0;
/// Status: run the instruction at `VmCtx::exit_pc` in the executor, then resume.
pub const STATUS_STEP: u32 = 1;
/// Status base for traps: `STATUS_TRAP + trap_code(t)`.
pub const STATUS_TRAP: u32 = 16;

/// The state native code reads and writes, `repr(C)` so its field offsets are fixed.
#[repr(C)]
#[derive(Debug)]
pub struct VmCtx {
    /// Base of memory 0 of the current instance (null when it has none).
    pub mem: *mut u8,
    /// Length of memory 0 in bytes.
    pub mem_len: u64,
    /// Native address where execution starts (set by the executor before each entry).
    pub resume: usize,
    /// Code index of the instruction that made native code exit with a step or trap.
    pub exit_pc: u32,
    pub _pad: u32,
    /// The store's globals (`StoreInner::globals`), valid while native code runs.
    pub globals: *mut GlobalInst,
    /// The current instance's global addresses (indices into `globals`).
    pub inst_globals: *const u32,
    /// The store's fuel counter and epoch deadline (`StoreInner::limits.vm`), valid while
    /// native code runs. Native code charges fuel in place, so the store's counter is
    /// exact whenever it has exited.
    pub limits: *mut VMLimits,
    /// The engine's epoch counter ([`Epoch::as_ptr`](crate::limits::Epoch::as_ptr)), which
    /// other threads bump while native code reads it.
    pub epoch: *const u64,
}

impl Default for VmCtx {
    fn default() -> VmCtx {
        VmCtx {
            mem: core::ptr::null_mut(),
            mem_len: 0,
            resume: 0,
            exit_pc: 0,
            _pad: 0,
            globals: core::ptr::null_mut(),
            inst_globals: core::ptr::null(),
            limits: core::ptr::null_mut(),
            epoch: core::ptr::null(),
        }
    }
}

/// Field offsets of [`VmCtx`], [`GlobalInst`] and [`VMLimits`] for code generators.
pub mod offsets {
    use super::VmCtx;
    use crate::limits::VMLimits;
    use crate::store::GlobalInst;
    pub const MEM: usize = core::mem::offset_of!(VmCtx, mem);
    pub const MEM_LEN: usize = core::mem::offset_of!(VmCtx, mem_len);
    pub const RESUME: usize = core::mem::offset_of!(VmCtx, resume);
    pub const EXIT_PC: usize = core::mem::offset_of!(VmCtx, exit_pc);
    pub const GLOBALS: usize = core::mem::offset_of!(VmCtx, globals);
    pub const INST_GLOBALS: usize = core::mem::offset_of!(VmCtx, inst_globals);
    pub const GLOBAL_SIZE: usize = core::mem::size_of::<GlobalInst>();
    pub const GLOBAL_VALUE: usize = core::mem::offset_of!(GlobalInst, value);
    pub const LIMITS: usize = core::mem::offset_of!(VmCtx, limits);
    pub const EPOCH: usize = core::mem::offset_of!(VmCtx, epoch);
    /// `VMLimits::fuel`, from the address in `VmCtx::limits`.
    pub const FUEL: usize = core::mem::offset_of!(VMLimits, fuel);
    /// `VMLimits::epoch_deadline`, from the address in `VmCtx::limits`.
    pub const EPOCH_DEADLINE: usize = core::mem::offset_of!(VMLimits, epoch_deadline);
}

/// The entry point of native code (see the module docs).
pub type NativeEntry = unsafe extern "C" fn(*mut VmCtx, *mut u64) -> u32;

/// A function compiled to native code.
pub struct NativeCode {
    entry: NativeEntry,
    /// `(code index, native address)` of every place execution can start, sorted by code
    /// index: 0 (the function start) and the instruction after every step exit.
    resume: Box<[(u32, usize)]>,
    /// For each code index up to the last resume point, its index in `resume` (`u32::MAX`
    /// for none): the executor looks a resume address up on every step exit and return of
    /// a native frame, and a binary search there mispredicts when returns alternate.
    by_pc: Box<[u32]>,
    /// Bytes of machine code.
    size: usize,
    /// Keeps the executable memory alive.
    _owner: Box<dyn Any + Send + Sync>,
}

impl NativeCode {
    /// Wraps compiled code.
    ///
    /// # Safety
    ///
    /// `entry` must follow the convention of the module docs for the function it was
    /// compiled from, every address in `resume` must be a valid start address for native
    /// execution with the frame at that code index, and `owner` must keep the code alive.
    pub unsafe fn new(
        entry: NativeEntry,
        mut resume: Vec<(u32, usize)>,
        size: usize,
        owner: Box<dyn Any + Send + Sync>,
    ) -> NativeCode {
        resume.sort_unstable_by_key(|&(pc, _)| pc);
        resume.dedup_by_key(|&mut (pc, _)| pc);
        let len = resume.last().map_or(0, |&(pc, _)| pc as usize + 1);
        let mut by_pc = vec![u32::MAX; len];
        for (i, &(pc, _)) in resume.iter().enumerate() {
            by_pc[pc as usize] = i as u32;
        }
        NativeCode {
            entry,
            resume: resume.into_boxed_slice(),
            by_pc: by_pc.into_boxed_slice(),
            size,
            _owner: owner,
        }
    }

    /// The native address at which to continue the frame at code index `pc`.
    #[inline]
    pub fn resume_addr(&self, pc: u32) -> Option<usize> {
        let i = *self.by_pc.get(pc as usize)?;
        self.resume.get(i as usize).map(|&(_, addr)| addr)
    }

    pub fn entry(&self) -> NativeEntry {
        self.entry
    }

    /// Bytes of machine code.
    pub fn size(&self) -> usize {
        self.size
    }
}

impl core::fmt::Debug for NativeCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "NativeCode({} bytes)", self.size)
    }
}

/// A code generator: compiles one function, or says why it cannot (`"unsupported: OP"`).
pub trait CodeGen: Send + Sync {
    fn compile(
        &self,
        module: &crate::Module,
        func: &crate::translate::CompiledFunc,
    ) -> Result<NativeCode, String>;

    /// Compiles several functions of `module` at once (one outcome each, in order), which
    /// lets a code generator share executable memory and its setup across them.
    fn compile_all(
        &self,
        module: &crate::Module,
        funcs: &[&crate::translate::CompiledFunc],
    ) -> Vec<Result<NativeCode, String>> {
        funcs.iter().map(|f| self.compile(module, f)).collect()
    }
}

/// Per-function tier-up state: a call counter and the native code once compiled (or why
/// it could not be).
#[derive(Debug, Default)]
pub struct JitSlot {
    calls: AtomicU32,
    native: OnceLock<Result<NativeCode, String>>,
}

impl JitSlot {
    /// The native code, if the function was compiled.
    #[inline(always)]
    pub fn native(&self) -> Option<&NativeCode> {
        match self.native.get() {
            Some(Ok(n)) => Some(n),
            _ => None,
        }
    }

    /// The compilation outcome, if one was attempted.
    pub fn outcome(&self) -> Option<&Result<NativeCode, String>> {
        self.native.get()
    }

    /// Counts a call; true when the count has reached `threshold` and no compilation was
    /// attempted yet.
    #[inline(always)]
    pub fn count_call(&self, threshold: u32) -> bool {
        if self.native.get().is_some() {
            return false;
        }
        self.calls.fetch_add(1, Ordering::Relaxed) >= threshold
    }

    /// Compiles with `f` unless that was done already; returns the native code, if any.
    pub fn compile_with(
        &self,
        f: impl FnOnce() -> Result<NativeCode, String>,
    ) -> Option<&NativeCode> {
        self.native.get_or_init(f).as_ref().ok()
    }
}

/// The code of a trap in a status word (`STATUS_TRAP + code`).
pub fn trap_code(t: Trap) -> u32 {
    match t {
        Trap::UnreachableCodeReached => 0,
        Trap::MemoryOutOfBounds => 1,
        Trap::TableOutOfBounds => 2,
        Trap::IndirectCallToNull => 3,
        Trap::BadSignature => 4,
        Trap::IntegerOverflow => 5,
        Trap::IntegerDivisionByZero => 6,
        Trap::BadConversionToInteger => 7,
        Trap::StackOverflow => 8,
        Trap::NullReference => 9,
        Trap::OutOfFuel => 10,
        Trap::Interrupt => 11,
    }
}

/// The trap of a trap code (see [`trap_code`]).
pub fn trap_from_code(code: u32) -> Option<Trap> {
    Some(match code {
        0 => Trap::UnreachableCodeReached,
        1 => Trap::MemoryOutOfBounds,
        2 => Trap::TableOutOfBounds,
        3 => Trap::IndirectCallToNull,
        4 => Trap::BadSignature,
        5 => Trap::IntegerOverflow,
        6 => Trap::IntegerDivisionByZero,
        7 => Trap::BadConversionToInteger,
        8 => Trap::StackOverflow,
        9 => Trap::NullReference,
        10 => Trap::OutOfFuel,
        11 => Trap::Interrupt,
        _ => return None,
    })
}

macro_rules! define_steppable {
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
        /// Whether native code may hand `instr` back to the executor to run (a step exit):
        /// the runtime operations of the `other` family (calls, globals, memory and table
        /// operations; the rows not marked `hot`), except returns and operand words, and
        /// the epoch checks (`limit` rows), whose slow path native code hands back. Not
        /// `consume_fuel`: native code charges fuel and traps on its own.
        pub fn steppable(instr: &Instr) -> bool {
            if matches!(
                instr,
                Instr::Return { .. }
                    | Instr::Return1 { .. }
                    | Instr::ReturnSpan { .. }
                    // Tail calls replace the frame that native code runs in: a function
                    // with them stays interpreted for now.
                    | Instr::ReturnCall { .. }
                    | Instr::ReturnCallIndirect { .. }
                    | Instr::ReturnCallRef { .. }
                    // Native code keeps memory 0 in registers: a function reaching other
                    // memories stays interpreted for now.
                    | Instr::UseMem { .. }
                    // An entry point of native code (the compiler makes it a resume
                    // point), never handed back.
                    | Instr::LoopHeader { .. }
                    // Exceptions unwind frames in the executor: a function that throws
                    // (or has a handler table, see `gloam_jit`) stays interpreted.
                    | Instr::Throw { .. }
                    | Instr::ThrowRef { .. }
                    | Instr::Data { .. }
                    | Instr::ConsumeFuel { .. }
            ) {
                return false;
            }
            match instr {
                $(Instr::$ot { .. } => steppable_row!($($hot)?),)*
                _ => false,
            }
        }
    };
}

macro_rules! steppable_row {
    (hot) => {
        false
    };
    // Epoch checks (alone or with a fuel charge): native code does the fast path and hands
    // a check that found the deadline reached to the executor, which runs the
    // interpreter's handler.
    (limit) => {
        true
    };
    () => {
        true
    };
}

crate::for_each_op!(define_steppable);

/// Whether `instr` is an operand word of the instruction before it (never executed).
pub fn is_operand_word(instr: &Instr) -> bool {
    matches!(instr, Instr::Data { .. } | Instr::V128Imm { .. })
}
