//! Pinned cells and where values live.
//!
//! The cells the compiler ranked hottest live in machine registers for the whole function
//! (integer cells in `x23`-`x28`, `x12`-`x15` and `x3`-`x7`; float cells in `d8`-`d15`
//! and `d16`-`d23`; `v0`-`v7` stay scratch). `x0`-`x2` carry helper arguments and the
//! exit status; the argument registers above them are free while no helper call is in
//! flight, and every helper call spills the pins before and reloads them after. A pinned cell's register is its value; its frame
//! cell is stale until a spill. Every read and write of a cell goes through
//! [`Aarch64::int_src`], [`Aarch64::int_done`], [`Aarch64::float_src`] or
//! [`Aarch64::float_done`], which know where it is.
//!
//! Where code other than this function's looks at or changes the frame, the registers
//! meet the frame: [`Aarch64::spill_pins`] before a step exit, a direct call and a helper
//! call; [`Aarch64::reload_pins`] at every resume point (out of line: code falling through
//! needs none), at the direct entry and after direct and helper calls. Traps need no
//! spill: nothing reads a frame that trapped. A pinned `f32` cell's register holds the
//! cell's 64 bits (the float zero-extended), as memory does: every instruction that
//! writes an `S` register clears the rest of the vector register.
//!
//! The callee-saved registers among these are saved by the entry stub only: a direct
//! callee uses them for its own pins without saving them, which is fine because its
//! caller reloads every pinned register after the call.

// dynasm expands a dynamic register (`X(r)`) to an `.into()` of its number.
#![allow(clippy::useless_conversion)]

use super::{Aarch64, X8};
use dynasmrt::{DynasmApi, DynasmLabelApi, dynasm};

/// Up to this many pinned cells, spills and reloads are inline; past it, calls of the
/// function's spill and reload routines.
const INLINE_PINS: usize = 4;

/// Where a pinned cell lives.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Pin {
    Gpr(u8),
    Fpr(u8),
}

/// Registers for integer cells.
const GPRS: [u8; 15] = [23, 24, 25, 26, 27, 28, 12, 13, 14, 15, 3, 4, 5, 6, 7];
/// Registers for float cells.
const FPRS: [u8; 16] = [8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23];

impl Aarch64 {
    /// Pins the cells of `ranked` (hottest first; `true` for float cells) to registers
    /// while registers of their class are left.
    pub(super) fn pin(&mut self, ranked: &[(u16, bool)]) {
        let (mut gprs, mut fprs) = (GPRS.iter(), FPRS.iter());
        for &(c, float) in ranked {
            let reg = if float {
                fprs.next().map(|&r| Pin::Fpr(r))
            } else {
                gprs.next().map(|&r| Pin::Gpr(r))
            };
            let Some(reg) = reg else { continue };
            let i = c as usize;
            if self.pins.len() <= i {
                self.pins.resize(i + 1, None);
            }
            if self.pins[i].is_none() {
                self.pins[i] = Some(reg);
                self.pinned.push((c, reg));
            }
        }
    }

    /// The register pinned to cell `c`, if any.
    #[inline]
    pub(super) fn pin_of(&self, c: u16) -> Option<Pin> {
        self.pins.get(c as usize).copied().flatten()
    }

    /// The integer register pinned to cell `c`, if any.
    #[inline]
    pub(super) fn gpr(&self, c: u16) -> Option<u8> {
        match self.pin_of(c) {
            Some(Pin::Gpr(r)) => Some(r),
            _ => None,
        }
    }

    /// The float register pinned to cell `c`, if any.
    #[inline]
    pub(super) fn fpr(&self, c: u16) -> Option<u8> {
        match self.pin_of(c) {
            Some(Pin::Fpr(r)) => Some(r),
            _ => None,
        }
    }

    /// Loads every pinned cell into its register (see the module docs for where): a call
    /// of the function's reload routine when there are more than a few.
    pub(super) fn reload_pins(&mut self) {
        if self.pinned.len() > INLINE_PINS {
            let l = *self
                .reload_fn
                .get_or_insert_with(|| self.ops.new_dynamic_label());
            asm!(self.ops ; bl =>l);
        } else {
            self.emit_reload();
        }
    }

    /// Writes every pinned cell's register to its frame cell (a call of the spill routine
    /// when there are more than a few).
    pub(super) fn spill_pins(&mut self) {
        if self.pinned.len() > INLINE_PINS {
            let l = *self
                .spill_fn
                .get_or_insert_with(|| self.ops.new_dynamic_label());
            asm!(self.ops ; bl =>l);
        } else {
            self.emit_spill();
        }
    }

    /// The spill and reload routines the function's code calls (leaf routines, called
    /// with `bl`: the caller keeps its own return address in its stack slot), after its
    /// out-of-line paths.
    pub(super) fn emit_pin_routines(&mut self) {
        if let Some(l) = self.spill_fn {
            asm!(self.ops ; =>l);
            self.emit_spill();
            asm!(self.ops ; ret);
        }
        if let Some(l) = self.reload_fn {
            asm!(self.ops ; =>l);
            self.emit_reload();
            asm!(self.ops ; ret);
        }
    }

    fn emit_reload(&mut self) {
        for i in 0..self.pinned.len() {
            let (c, pin) = self.pinned[i];
            match pin {
                Pin::Gpr(r) => self.ldr_cell(r, c),
                Pin::Fpr(v) => self.ldr_cell_d(v, c),
            }
        }
    }

    fn emit_spill(&mut self) {
        for i in 0..self.pinned.len() {
            let (c, pin) = self.pinned[i];
            match pin {
                Pin::Gpr(r) => self.str_cell(r, c),
                Pin::Fpr(v) => self.str_cell_d(v, c),
            }
        }
    }

    /// A register holding all 64 bits of cell `c`: its pinned integer register, else
    /// `scratch` loaded from the cell (or moved from its float register).
    pub(super) fn int_src(&mut self, c: u16, scratch: u8) -> u8 {
        match self.pin_of(c) {
            Some(Pin::Gpr(r)) => r,
            Some(Pin::Fpr(v)) => {
                asm!(self.ops ; fmov X(scratch), D(v));
                scratch
            }
            None => {
                self.ldr_cell(scratch, c);
                scratch
            }
        }
    }

    /// The register to compute cell `c`'s new integer value in: its pinned integer
    /// register, else `x8`. (Hand it to [`Aarch64::int_done`] afterwards.)
    pub(super) fn int_dst(&self, c: u16) -> u8 {
        self.gpr(c).unwrap_or(X8)
    }

    /// Makes integer register `r` (all 64 bits) the new value of cell `c`.
    pub(super) fn int_done(&mut self, r: u8, c: u16) {
        match self.pin_of(c) {
            Some(Pin::Gpr(p)) if p == r => {}
            Some(Pin::Gpr(p)) => asm!(self.ops ; mov X(p), X(r)),
            Some(Pin::Fpr(v)) => asm!(self.ops ; fmov D(v), X(r)),
            None => self.str_cell(r, c),
        }
    }

    /// A float register holding cell `c` (all 64 bits: an `f32` zero-extended): its
    /// pinned float register, else `scratch` loaded.
    pub(super) fn float_src(&mut self, c: u16, scratch: u8) -> u8 {
        match self.pin_of(c) {
            Some(Pin::Fpr(v)) => v,
            Some(Pin::Gpr(r)) => {
                asm!(self.ops ; fmov D(scratch), X(r));
                scratch
            }
            None => {
                self.ldr_cell_d(scratch, c);
                scratch
            }
        }
    }

    /// The float register to compute cell `c`'s new value in: its pinned float register,
    /// else `v0`.
    pub(super) fn float_dst(&self, c: u16) -> u8 {
        self.fpr(c).unwrap_or(0)
    }

    /// Makes float register `v` (all 64 bits; an `f32` result of an `S` instruction has
    /// the rest cleared) the new value of cell `c`.
    pub(super) fn float_done(&mut self, v: u8, c: u16) {
        match self.pin_of(c) {
            Some(Pin::Fpr(p)) if p == v => {}
            Some(Pin::Fpr(p)) => asm!(self.ops ; fmov D(p), D(v)),
            Some(Pin::Gpr(r)) => asm!(self.ops ; fmov X(r), D(v)),
            None => self.str_cell_d(v, c),
        }
    }
}
