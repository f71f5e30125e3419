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
//! the code index of the instruction, and `VmCtx::exit_func`/`exit_regs` the function and
//! frame it was in. Native code never calls back into the engine, so frames of both tiers
//! live on the store's frame stack alike: backtraces, stack maps and the call-depth limit
//! work the same for both.
//!
//! **Direct calls.** A call from native code to a function of the same instance that has
//! native code too need not leave native code: the caller pushes the [`Frame`] record the
//! executor would push (into the store's frame vector, through `VmCtx::frames`, within
//! its capacity and the depth limit), and calls the callee's direct entry on the host
//! stack, which zeroes the callee's locals and runs its body. The callee's return returns
//! to the caller, which pops the record. Each module keeps a table of its functions'
//! direct entries ([`DirectEntry`], through `VmCtx::direct`) that compiled callers read at
//! run time; an empty slot, a full frame vector, a value stack too short for the callee's
//! frame, or [`DIRECT_CALL_DEPTH`] calls nested already make the call a step exit instead. Any exit
//! (step or trap) from a nested native frame drops the host stack back to the entry's: the
//! executor continues from the innermost frame, whose callers resume one by one as it
//! returns, exactly as if every call had been a step exit.

use crate::exec::Frame;
use crate::limits::VMLimits;
use crate::ops::Instr;
use crate::prelude::*;
use crate::store::GlobalInst;
use crate::sync::OnceLock;
use crate::translate::CompiledFunc;
use crate::trap::Trap;
use core::any::Any;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

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
    /// The store's frame records (`StoreInner::frames`): base, length (which native code
    /// changes as it calls and returns) and the length up to which native code may push
    /// (the least of the capacity, the depth limit and [`DIRECT_CALL_DEPTH`] more than at
    /// entry, which bounds the host stack direct calls use; 0 turns direct calls off).
    pub frames: *mut Frame,
    pub frames_len: usize,
    pub frames_limit: usize,
    /// The store's value stack: its first cell, and one past its last.
    pub stack: *mut u64,
    pub stack_end: *mut u64,
    /// The current module's direct-entry table, by defined-function index.
    pub direct: *const DirectEntry,
    /// The current instance (for the frame records native code pushes).
    pub inst: u32,
    pub _pad2: u32,
    /// Native code's own: the host stack pointer at entry (exits return to it).
    pub entry_sp: usize,
    /// The function and frame base (`regs`) of the frame that exited with a step or trap.
    pub exit_func: *const CompiledFunc,
    pub exit_regs: *mut u64,
}

/// Direct calls native code may nest on the host stack in one entry: a call past it takes
/// a step exit, and the callee starts on a fresh host stack. Each nested call uses the
/// stack for its return address and saved frame base (and a helper call at the innermost),
/// so this stays within a few hundred KiB.
pub const DIRECT_CALL_DEPTH: usize = 4096;

/// One slot of a module's direct-entry table: the native address at which a caller enters
/// the function with a fresh frame (0 until the function has native code), and the
/// function's frame size in cells (valid once the address is set).
#[repr(C)]
#[derive(Debug, Default)]
pub struct DirectEntry {
    pub addr: AtomicUsize,
    pub frame_size: AtomicUsize,
}

impl DirectEntry {
    /// Publishes `f`'s direct entry: the frame size first, then the address that makes
    /// callers use it.
    pub fn publish(&self, f: &CompiledFunc, addr: usize) {
        self.frame_size
            .store(f.frame_size as usize, Ordering::Relaxed);
        self.addr.store(addr, Ordering::Release);
    }
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
            frames: core::ptr::null_mut(),
            frames_len: 0,
            frames_limit: 0,
            stack: core::ptr::null_mut(),
            stack_end: core::ptr::null_mut(),
            direct: core::ptr::null(),
            inst: 0,
            _pad2: 0,
            entry_sp: 0,
            exit_func: core::ptr::null(),
            exit_regs: core::ptr::null_mut(),
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
    pub const FRAMES: usize = core::mem::offset_of!(VmCtx, frames);
    pub const FRAMES_LEN: usize = core::mem::offset_of!(VmCtx, frames_len);
    pub const FRAMES_LIMIT: usize = core::mem::offset_of!(VmCtx, frames_limit);
    pub const STACK: usize = core::mem::offset_of!(VmCtx, stack);
    pub const STACK_END: usize = core::mem::offset_of!(VmCtx, stack_end);
    pub const DIRECT: usize = core::mem::offset_of!(VmCtx, direct);
    pub const INST: usize = core::mem::offset_of!(VmCtx, inst);
    pub const ENTRY_SP: usize = core::mem::offset_of!(VmCtx, entry_sp);
    pub const EXIT_FUNC: usize = core::mem::offset_of!(VmCtx, exit_func);
    pub const EXIT_REGS: usize = core::mem::offset_of!(VmCtx, exit_regs);
    /// A [`DirectEntry`](super::DirectEntry): its size and fields.
    pub const DIRECT_SIZE: usize = core::mem::size_of::<super::DirectEntry>();
    pub const DIRECT_ADDR: usize = core::mem::offset_of!(super::DirectEntry, addr);
    pub const DIRECT_FRAME_SIZE: usize = core::mem::offset_of!(super::DirectEntry, frame_size);
    /// A frame record ([`Frame`](crate::exec::Frame)): its size and fields.
    pub const FRAME_SIZE: usize = core::mem::size_of::<crate::exec::Frame>();
    pub const FRAME_FUNC: usize = core::mem::offset_of!(crate::exec::Frame, func);
    pub const FRAME_BASE: usize = core::mem::offset_of!(crate::exec::Frame, base);
    pub const FRAME_PC: usize = core::mem::offset_of!(crate::exec::Frame, pc);
    pub const FRAME_INST: usize = core::mem::offset_of!(crate::exec::Frame, inst);
}

/// The entry point of native code (see the module docs).
pub type NativeEntry = unsafe extern "C" fn(*mut VmCtx, *mut u64) -> u32;

/// A function compiled to native code.
pub struct NativeCode {
    entry: NativeEntry,
    /// The direct entry (see the module docs), if the code has one.
    direct: Option<usize>,
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
    /// execution with the frame at that code index, `direct` (if any) must be a direct
    /// entry of the function following the module docs' convention for direct calls, and
    /// `owner` must keep the code alive.
    pub unsafe fn new(
        entry: NativeEntry,
        direct: Option<usize>,
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
            direct,
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

    /// The direct entry for calls from native code, if any.
    pub fn direct(&self) -> Option<usize> {
        self.direct
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
