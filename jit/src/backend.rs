//! The backend trait: what the ISA-independent compiler asks of one instruction set.
//!
//! Operands are frame cells (`u16` offsets from the frame base, 8 bytes each, as in the
//! interpreter) and immediates; how a backend addresses a cell, which registers it pins
//! and how it encodes an immediate that does not fit an instruction is its own business.
//! Every method that can trap gets the code index `pc` of its instruction, which the
//! backend reports in `VmCtx::exit_pc` with the trap status.

use crate::helpers::Helper;
use gloam_interp::Trap;

/// Operand width of an integer operation.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Width {
    W32,
    W64,
}

/// Binary integer operations without traps.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum IntOp {
    Add,
    Sub,
    Mul,
    And,
    Or,
    Xor,
    Shl,
    ShrS,
    ShrU,
    Rotl,
    Rotr,
}

/// Integer comparisons.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    Eq,
    Ne,
    LtS,
    LtU,
    GtS,
    GtU,
    LeS,
    LeU,
    GeS,
    GeU,
}

/// Division and remainder (trap on zero; signed division traps on overflow).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DivOp {
    DivS,
    DivU,
    RemS,
    RemU,
}

/// Unary integer operations. The extensions read the low bits of the source at the
/// operation's width and write a value of that width.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum IntUnOp {
    Clz,
    Ctz,
    Popcnt,
    /// 1 if zero, else 0 (an `i32` result at either width).
    Eqz,
    Extend8S,
    Extend16S,
    /// `W64` only: sign-extends the low 32 bits.
    Extend32S,
    /// `i64.extend_i32_u` / `i32.wrap_i64`: keeps the low 32 bits, zero-extended.
    Low32,
}

/// The right operand of an integer operation.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Rhs {
    Cell(u16),
    /// Sign-extended to the operation's width.
    Imm(i32),
}

/// A memory-0 address: `(cell[base] as u32).wrapping_add(add) as u64 + offset` (the
/// `add` is an `i32.add` of a constant the translator fused into the access).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Addr {
    pub base: u16,
    pub add: u32,
    pub offset: u32,
}

/// A memory load: `bytes` from memory, sign- or zero-extended to `width`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Load {
    pub bytes: u8,
    pub signed: bool,
    pub width: Width,
}

/// Inline float arithmetic (IEEE, NaNs as the hardware makes them; backends use this only
/// where that matches Rust's operators on the same host, which the interpreter runs).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FloatOp {
    Add,
    Sub,
    Mul,
    Div,
}

/// Float comparisons (false when either side is NaN, except `Ne`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FloatCond {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

/// One instruction set.
pub trait Backend {
    type Label: Copy;

    /// Keeps the cells of `ranked` (hottest first; `true` for a float cell) in registers
    /// for the whole function, as many as the backend has registers for; called before
    /// anything is emitted. However a backend does it, the frame cells must stay the
    /// interpreter's view of the frame at every exit, and the registers must be loaded
    /// again wherever code other than the function's own may have changed the frame.
    fn pin_cells(&mut self, ranked: &[(u16, bool)]);

    /// Says how many [`Self::call_direct`] sites the function has; called before anything
    /// is emitted. A backend may share code between many call sites (smaller code, one
    /// more call and return at run time) and inline it for few.
    fn direct_call_sites(&mut self, _sites: usize) {}

    /// Marks where the code of code index `pc` starts (for listings; a backend may ignore
    /// it).
    fn mark(&mut self, _pc: u32) {}

    fn new_label(&mut self) -> Self::Label;
    /// Places `label` at the current position.
    fn bind(&mut self, label: Self::Label);
    /// Records the current position as where execution continues at code index `pc`.
    fn resume_point(&mut self, pc: u32);

    fn copy(&mut self, dst: u16, src: u16);
    fn constant(&mut self, dst: u16, bits: u64);
    fn int_op(&mut self, w: Width, op: IntOp, dst: u16, a: u16, b: Rhs);
    fn int_cmp(&mut self, w: Width, c: Cond, dst: u16, a: u16, b: Rhs);
    /// Returns false, emitting nothing, when not inlined here (the caller calls a helper).
    fn int_unop(&mut self, w: Width, op: IntUnOp, dst: u16, src: u16) -> bool;
    fn int_div(&mut self, w: Width, op: DivOp, dst: u16, a: u16, b: u16, pc: u32);
    /// `dst = if cond (i32) != 0 { a } else { b }`, whole cells.
    fn select(&mut self, dst: u16, cond: u16, a: u16, b: u16);

    fn jump(&mut self, target: Self::Label);
    /// Jumps when the i32 in `cond` is non-zero (`nonzero`) or zero (`!nonzero`).
    fn br_if(&mut self, cond: u16, nonzero: bool, target: Self::Label);
    fn br_cmp(&mut self, w: Width, c: Cond, a: u16, b: Rhs, target: Self::Label);
    /// Jumps to `targets[min(index, targets.len() - 1)]` (the last is the default).
    fn br_table(&mut self, index: u16, targets: &[Self::Label]);

    /// Loads from memory 0 at `addr`, with a bounds check.
    fn load(&mut self, l: Load, dst: u16, addr: Addr, pc: u32);
    /// Stores the low `bytes` of `val` to memory 0 at `addr`, with a bounds check.
    fn store(&mut self, bytes: u8, addr: Addr, val: u16, pc: u32);
    fn global_get(&mut self, dst: u16, global: u32);
    fn global_set(&mut self, src: u16, global: u32);

    /// The function's direct entry (see `gloam_interp::native`), placed before the code
    /// of code index 0: zeroes the `locals` cells from `start` and writes `consts` to the
    /// cells after them, as the executor does when it enters a frame.
    fn direct_entry(&mut self, start: u32, locals: u32, consts: &[u64]);
    /// A call of this module's defined function `def` with its frame at cell `base`: a
    /// direct call when the callee has native code and the limits allow (the frame
    /// record's continuation is `ret_pc`), else a step exit for the call at `pc`. The
    /// compiler records the resume point `ret_pc` right after.
    fn call_direct(&mut self, def: u32, base: u16, ret_pc: u32, pc: u32);

    /// Copies the `len` result cells at `start` to the frame base and returns.
    fn ret(&mut self, start: u16, len: u32);
    /// Hands the instruction at `pc` back to the executor (`STATUS_STEP`).
    fn step(&mut self, pc: u32);
    fn trap(&mut self, trap: Trap, pc: u32);

    /// Float operations; `w` is `W32` for `f32`, `W64` for `f64`.
    fn float_op(&mut self, w: Width, op: FloatOp, dst: u16, a: u16, b: u16);
    fn float_cmp(&mut self, w: Width, c: FloatCond, dst: u16, a: u16, b: u16);
    fn float_sqrt(&mut self, w: Width, dst: u16, src: u16);
    /// Integer (`from`, signed or not) to float (`to`); false if not inlined here.
    fn int_to_float(&mut self, from: Width, signed: bool, to: Width, dst: u16, src: u16) -> bool;
    /// `f32.demote_f64` (`to` = `W32`) or `f64.promote_f32` (`to` = `W64`).
    fn float_convert(&mut self, to: Width, dst: u16, src: u16);

    /// Fuel (`consume_fuel`): if the store's fuel counter (through `VmCtx::limits`) is
    /// below `amount`, traps with `Trap::OutOfFuel` at `pc`, charging nothing; else
    /// subtracts `amount` from it in place.
    fn consume_fuel(&mut self, amount: u32, pc: u32);
    /// Epochs (`check_epoch`): if the engine's epoch (an atomic load through
    /// `VmCtx::epoch`) is at or past the store's deadline, hands the instruction at `pc` to
    /// the executor (a step exit, out of line) to run the epoch action; otherwise falls
    /// through. The compiler records a resume point after the instruction's code, where
    /// native code continues when the action lets it (for `check_epoch_consume_fuel`, the
    /// executor's handler has charged the fuel then too).
    fn check_epoch(&mut self, pc: u32);
    /// `check_epoch_consume_fuel`: [`check_epoch`](Backend::check_epoch) then
    /// [`consume_fuel`](Backend::consume_fuel) at the same `pc` (a stop at the epoch
    /// charges nothing); a backend may share work between the two.
    fn check_epoch_consume_fuel(&mut self, amount: u32, pc: u32) {
        self.check_epoch(pc);
        self.consume_fuel(amount, pc);
    }

    /// Calls an out-of-line helper (`crate::helpers`) on cells `a` (and `b`), writing `dst`;
    /// a trapping helper's trap exits with `pc`.
    fn call_helper(&mut self, h: Helper, dst: u16, a: u16, b: u16, pc: u32);

    /// Assembles the code (position-independent, entry at offset 0), to be placed in
    /// executable memory by [`crate::link`].
    fn finish(self) -> Result<Assembled, String>;
}

/// One function's machine code before it is placed in executable memory.
#[derive(Debug)]
pub struct Assembled {
    /// The code; it runs at any address (16-byte aligned), its entry stub at offset 0.
    pub code: Vec<u8>,
    /// Byte offset of the direct entry, if the backend made one.
    pub direct: Option<usize>,
    /// `(code index, byte offset)` where each instruction's code starts, when the backend
    /// was asked for a listing (else empty).
    pub marks: Vec<(u32, usize)>,
    /// `(code index, byte offset)` of every resume point.
    pub resume: Vec<(u32, usize)>,
}
