//! Pinned cells and where values live.
//!
//! The cells the compiler ranked hottest live in machine registers for the whole function
//! (integer cells in `rbx`, `rbp`, `rsi` and `r8`-`r11`; float cells in `xmm2`-`xmm15`;
//! `xmm0` and `xmm1` stay scratch). A pinned cell's register is its value; its frame cell
//! is stale until a spill. Every read and write of a cell goes through [`X64::read_gpr`],
//! [`X64::write_gpr`], [`X64::read_xmm`] or [`X64::write_xmm`], which know where it is.
//!
//! Where code other than this function's looks at or changes the frame, the registers
//! meet the frame: [`X64::spill_pins`] before a step exit (the executor runs the
//! instruction, may collect garbage over the frame's stack map, and resumes native code
//! through a resume point), a direct call (the callee reads its arguments) and a helper
//! call (which reads its operands from the frame and clobbers caller-saved registers);
//! [`X64::reload_pins`] at every resume point (out of line: code falling through needs
//! none), at the direct entry and after direct and helper calls. Traps need no spill:
//! nothing reads a frame that trapped. A pinned `f32` cell's register holds the cell's 64
//! bits (the float zero-extended), as memory does.

// dynasm expands a dynamic register (`Rq(r)`) to an `.into()` of its number.
#![allow(clippy::useless_conversion)]

use super::{X64, cell};
use dynasmrt::{DynasmApi, DynasmLabelApi, dynasm};

/// Opcodes of the frame accesses [`X64::frame`] encodes: `(mandatory prefix, opcode)`.
pub(super) mod op {
    /// A mandatory prefix (if any) and the opcode bytes.
    pub type Op = (Option<u8>, &'static [u8]);
    /// `mov reg, [m]`
    pub const LOAD: Op = (None, &[0x8b]);
    /// `mov [m], reg`
    pub const STORE: Op = (None, &[0x89]);
    /// `lea reg, [m]`
    pub const LEA: Op = (None, &[0x8d]);
    /// `mov [m], imm32` (`reg` 0; the immediate follows)
    pub const STORE_IMM: Op = (None, &[0xc7]);
    /// `add reg, [m]`
    pub const ADD_LOAD: Op = (None, &[0x03]);
    /// `movsd xmm, [m]` / `movsd [m], xmm`
    pub const MOVSD_LOAD: Op = (Some(0xf2), &[0x0f, 0x10]);
    pub const MOVSD_STORE: Op = (Some(0xf2), &[0x0f, 0x11]);
    /// `movss xmm, [m]`
    pub const MOVSS_LOAD: Op = (Some(0xf3), &[0x0f, 0x10]);
}

/// Up to this many pinned cells, spills and reloads are inline; past it, calls of the
/// function's spill and reload routines (less code to emit at every call and exit).
const INLINE_PINS: usize = 3;

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

    /// Loads every pinned cell into its register (see the module docs for where): a call
    /// of the function's reload routine when there are more than a few.
    pub(super) fn reload_pins(&mut self) {
        if self.pinned.len() > INLINE_PINS {
            let l = *self
                .reload_fn
                .get_or_insert_with(|| self.ops.new_dynamic_label());
            asm!(self.ops ; call =>l);
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
            asm!(self.ops ; call =>l);
        } else {
            self.emit_spill();
        }
    }

    /// The spill and reload routines the function's code calls (leaf routines: they need
    /// no stack alignment), after its out-of-line paths.
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

    pub(super) fn emit_reload(&mut self) {
        for i in 0..self.pinned.len() {
            let (c, pin) = self.pinned[i];
            match pin {
                Pin::Gpr(r) => self.frame(op::LOAD, true, r, cell(c)),
                Pin::Xmm(r) => self.frame(op::MOVSD_LOAD, false, r, cell(c)),
            }
        }
    }

    pub(super) fn emit_spill(&mut self) {
        for i in 0..self.pinned.len() {
            let (c, pin) = self.pinned[i];
            match pin {
                Pin::Gpr(r) => self.frame(op::STORE, true, r, cell(c)),
                Pin::Xmm(r) => self.frame(op::MOVSD_STORE, false, r, cell(c)),
            }
        }
    }

    /// Emits the instruction `op` (see [`op`]) on register `reg` (dynasm number) and the
    /// frame operand `[r12 + d]`, 64-bit (REX.W) when `w64`.
    pub(super) fn frame(&mut self, op: op::Op, w64: bool, reg: u8, d: i32) {
        self.mem(op, w64, reg, 12, d);
    }

    /// Emits the instruction `op` on register `reg` and the memory operand `[base + d]`
    /// (dynasm numbers). dynasm encodes a run-time displacement in 32 bits; frame cells
    /// and `VmCtx` fields are mostly near their base, and a one-byte displacement (none
    /// for 0) makes such an access 3 or 4 bytes shorter.
    pub(super) fn mem(&mut self, op: op::Op, w64: bool, reg: u8, base: u8, d: i32) {
        // At most: prefix, REX, 2 opcode bytes, ModRM, SIB, 4 displacement bytes; built
        // here and appended at once.
        let mut buf = [0u8; 10];
        let mut n = 0;
        let mut put = |byte: u8| {
            buf[n] = byte;
            n += 1;
        };
        let (prefix, opcode) = op;
        if let Some(p) = prefix {
            put(p);
        }
        // REX: W for 64 bits, R and B for registers past 7 (none needed: no REX).
        let rex = 0x40 | (u8::from(w64) << 3) | ((reg >> 3 & 1) << 2) | (base >> 3 & 1);
        if rex != 0x40 {
            put(rex);
        }
        for &o in opcode {
            put(o);
        }
        let (r, b) = ((reg & 7) << 3, base & 7);
        // Displacement bytes: none for 0, except from rbp or r13 (low bits 101), which
        // have no form without one.
        let disp = match d {
            0 if b != 5 => 0,
            -128..=127 => 1,
            _ => 4,
        };
        let mode = match disp {
            0 => 0x00,
            1 => 0x40,
            _ => 0x80,
        };
        put(mode | r | b);
        if b == 4 {
            // Base rsp or r12 (low bits 100): a SIB byte with that base and no index.
            put(0x24);
        }
        match disp {
            0 => {}
            1 => put(d as i8 as u8),
            _ => d.to_le_bytes().into_iter().for_each(put),
        }
        self.ops.extend(buf[..n].iter().copied());
    }

    /// The integer register holding cell `c` now, if any: `rax` (0) when the `rax` cache
    /// holds it, else its pinned register.
    pub(super) fn int_reg(&self, c: u16) -> Option<u8> {
        if self.rax == Some(c) {
            Some(0)
        } else {
            self.gpr(c)
        }
    }

    /// Loads cell `c` into integer register `reg` (dynasm number): all 64 bits, or
    /// (`w64` false) the low 32 zero-extended. Updates the `rax` cache when `reg` is `rax`.
    pub(super) fn read_gpr(&mut self, w64: bool, reg: u8, c: u16) {
        match (self.int_reg(c), self.pin_of(c)) {
            // Already there, whole: a 32-bit reader uses the low half (a reader that
            // needs it zero-extended, such as `i32.wrap_i64`, extends it itself).
            (Some(r), _) if r == reg => return,
            (Some(r), _) => {
                if w64 {
                    asm!(self.ops ; mov Rq(reg), Rq(r));
                } else {
                    asm!(self.ops ; mov Rd(reg), Rd(r));
                }
            }
            (None, Some(Pin::Xmm(x))) => {
                if w64 {
                    asm!(self.ops ; movq Rq(reg), Rx(x));
                } else {
                    asm!(self.ops ; movd Rd(reg), Rx(x));
                }
            }
            _ => {
                self.frame(op::LOAD, w64, reg, cell(c));
            }
        }
        if reg == 0 {
            self.rax = if w64 { Some(c) } else { None };
        }
    }

    /// Makes integer register `reg` (all 64 bits) the new value of cell `c`. `rax` then
    /// caches the cell; another register invalidates a cache of it.
    pub(super) fn write_gpr(&mut self, reg: u8, c: u16) {
        match self.pin_of(c) {
            Some(Pin::Gpr(r)) if r == reg => {}
            Some(Pin::Gpr(r)) => asm!(self.ops ; mov Rq(r), Rq(reg)),
            Some(Pin::Xmm(x)) => asm!(self.ops ; movq Rx(x), Rq(reg)),
            None => self.frame(op::STORE, true, reg, cell(c)),
        }
        if reg == 0 {
            self.rax = Some(c);
        } else if self.rax == Some(c) {
            self.rax = None;
        }
    }

    /// Loads cell `c` into float register `x`: 64 bits, or (`w64` false) an `f32` (the
    /// low 32 bits; the load from memory zero-extends).
    pub(super) fn read_xmm(&mut self, w64: bool, x: u8, c: u16) {
        match (self.pin_of(c), self.rax == Some(c)) {
            (Some(Pin::Xmm(r)), _) if r == x => {}
            (Some(Pin::Xmm(r)), _) => asm!(self.ops ; movaps Rx(x), Rx(r)),
            (Some(Pin::Gpr(r)), _) => asm!(self.ops ; movq Rx(x), Rq(r)),
            (None, true) => asm!(self.ops ; movq Rx(x), rax),
            (None, false) if w64 => self.frame(op::MOVSD_LOAD, false, x, cell(c)),
            (None, false) => self.frame(op::MOVSS_LOAD, false, x, cell(c)),
        }
    }

    /// Makes float register `x` the new value of cell `c`: 64 bits, or (`w64` false) its
    /// low 32 bits zero-extended. May use `rax` (and then caches the cell in it).
    pub(super) fn write_xmm(&mut self, w64: bool, x: u8, c: u16) {
        if self.rax == Some(c) {
            self.rax = None;
        }
        match self.pin_of(c) {
            // Computed in place (for an `f32`, from a zero-extended value: bits 32..63
            // are still zero).
            Some(Pin::Xmm(r)) if r == x => {}
            Some(Pin::Xmm(r)) if w64 => asm!(self.ops ; movaps Rx(r), Rx(x)),
            Some(Pin::Xmm(r)) => asm!(self.ops ; xorps Rx(r), Rx(r) ; movss Rx(r), Rx(x)),
            Some(Pin::Gpr(r)) if w64 => asm!(self.ops ; movq Rq(r), Rx(x)),
            Some(Pin::Gpr(r)) => asm!(self.ops ; movd Rd(r), Rx(x)),
            None if w64 => self.frame(op::MOVSD_STORE, false, x, cell(c)),
            None => {
                asm!(self.ops ; movd eax, Rx(x));
                self.frame(op::STORE, true, 0, cell(c));
                self.rax = Some(c);
            }
        }
    }
}
