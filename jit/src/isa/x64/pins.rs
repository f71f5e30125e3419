//! Pinned cells: the frame cells the compiler ranked hottest live in machine registers
//! for the whole function, written through.
//!
//! Every write of a pinned cell updates both its register and its frame cell, so the
//! frame is always the interpreter's view (exits, traps and the executor's stack maps need
//! nothing spilled), and a read may use either: the register where the operation can take
//! it, memory anywhere else. Registers go stale only where code other than this
//! function's writes the frame or clobbers them: at a resume point (entered from the
//! executor), after a direct call (the callee wrote its frame over the caller's
//! temporaries, and used the registers itself) and after a helper call (caller-saved
//! registers); there [`X64::reload_pins`] loads every pinned cell again.
//!
//! Integer cells go to `rbx`, `rbp`, `rsi` and `r8`-`r11`; float cells to `xmm2`-`xmm15`
//! (`xmm0` and `xmm1` stay scratch). A pinned `f32` cell's register holds the cell's 64
//! bits (the float zero-extended), as memory does.

// dynasm expands a dynamic register (`Rq(r)`) to an `.into()` of its number.
#![allow(clippy::useless_conversion)]

use super::{X64, cell};
use dynasmrt::{DynasmApi, dynasm};

/// Where a pinned cell lives.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Pin {
    Gpr(u8),
    Xmm(u8),
}

/// Registers for integer cells (dynasm numbers: rbx, rbp, rsi, r8-r11). `rbx` and `rbp`
/// are callee-saved, and the entry stub saves them.
const GPRS: [u8; 7] = [3, 5, 6, 8, 9, 10, 11];
/// Registers for float cells.
const XMMS: [u8; 14] = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

impl X64 {
    /// Pins the cells of `ranked` (hottest first; `true` for float cells) to registers
    /// while registers of their class are left.
    pub(super) fn pin(&mut self, ranked: &[(u16, bool)]) {
        let (mut gprs, mut xmms) = (GPRS.iter(), XMMS.iter());
        for &(c, float) in ranked {
            let reg = if float {
                xmms.next().map(|&r| Pin::Xmm(r))
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
    pub(super) fn xmm(&self, c: u16) -> Option<u8> {
        match self.pin_of(c) {
            Some(Pin::Xmm(r)) => Some(r),
            _ => None,
        }
    }

    /// Loads every pinned cell into its register (see the module docs for where).
    pub(super) fn reload_pins(&mut self) {
        for i in 0..self.pinned.len() {
            let (c, pin) = self.pinned[i];
            let d = cell(c);
            match pin {
                Pin::Gpr(r) => asm!(self.ops ; mov Rq(r), QWORD [r12 + d]),
                Pin::Xmm(r) => asm!(self.ops ; movsd Rx(r), QWORD [r12 + d]),
            }
        }
    }

    /// After `rax` was written to cell `c`: the same value into its register.
    pub(super) fn write_pin_from_rax(&mut self, c: u16) {
        match self.pin_of(c) {
            Some(Pin::Gpr(r)) => asm!(self.ops ; mov Rq(r), rax),
            Some(Pin::Xmm(r)) => asm!(self.ops ; movq Rx(r), rax),
            None => {}
        }
    }

    /// `rax` = the whole cell `c`, from its register if pinned.
    pub(super) fn read_rax(&mut self, c: u16) {
        match self.pin_of(c) {
            Some(Pin::Gpr(r)) => asm!(self.ops ; mov rax, Rq(r)),
            Some(Pin::Xmm(r)) => asm!(self.ops ; movq rax, Rx(r)),
            None => asm!(self.ops ; mov rax, QWORD [r12 + cell(c)]),
        }
    }

    /// `xmm0` = cell `c` as a float of width `w` (64 bits: the whole cell).
    pub(super) fn read_xmm0(&mut self, w64: bool, c: u16) {
        match self.pin_of(c) {
            Some(Pin::Xmm(r)) => asm!(self.ops ; movaps xmm0, Rx(r)),
            Some(Pin::Gpr(r)) => asm!(self.ops ; movq xmm0, Rq(r)),
            None if w64 => asm!(self.ops ; movsd xmm0, QWORD [r12 + cell(c)]),
            None => asm!(self.ops ; movss xmm0, DWORD [r12 + cell(c)]),
        }
    }
}
