//! Translation of exception handling: `throw`, `throw_ref` and `try_table` (see the
//! module docs of `translate` and `crate::exn`).

use super::{Catch, CtrlKind, Handler, MAX_CELLS, R, Translator};
use crate::ops::Instr;
use crate::prelude::*;

impl Translator<'_> {
    pub(super) fn visit_throw(&mut self, tag: u32) -> R {
        let n = self
            .module
            .tags
            .get(tag as usize)
            .map(|_| self.module.tag_type(tag).params().len())
            .ok_or_else(|| format!("no tag {tag}"))?;
        // The payload goes to consecutive homes, as a call's arguments do; the throw is a
        // safepoint (allocating the exception may collect).
        let base = self.call_args(n)?;
        self.emit(Instr::Throw { tag, base });
        self.set_unreachable();
        Ok(())
    }

    pub(super) fn visit_throw_ref(&mut self) -> R {
        let exn = self.pop_reg()?;
        self.emit(Instr::ThrowRef { exn });
        self.set_unreachable();
        Ok(())
    }

    /// A `try_table` is a block plus a [`Handler`] over its body. The catch labels are
    /// resolved outside the `try_table` (label 0 is the enclosing block).
    pub(super) fn visit_try_table(&mut self, tt: wasmparser::TryTable) -> R {
        use wasmparser::Catch as C;
        let h = self.handlers.len();
        let mut catches = Vec::with_capacity(tt.catches.len());
        // (ctrl index, clause) of catches that land at a block's end, patched there.
        let mut block_fixups = Vec::new();
        for (i, c) in tt.catches.iter().enumerate() {
            let (tag, with_ref, depth) = match *c {
                C::One { tag, label } => (Some(tag), false, label),
                C::OneRef { tag, label } => (Some(tag), true, label),
                C::All { label } => (None, false, label),
                C::AllRef { label } => (None, true, label),
            };
            let payload: u32 = match tag {
                Some(t) => self
                    .module
                    .tag_type(t)
                    .params()
                    .iter()
                    .map(|p| p.cells() as u32)
                    .sum(),
                None => 0,
            };
            let cells = payload + with_ref as u32;
            let n = self.ctrl.len();
            let ci = (depth as usize)
                .checked_add(1)
                .and_then(|d| n.checked_sub(d))
                .ok_or_else(|| format!("catch label {depth} out of range"))?;
            let f = &self.ctrl[ci];
            let (dst, target) = match f.kind {
                // The function's label: the values are the results, returned from the
                // operand stack's base (dead after the return) by a pad after the body.
                CtrlKind::Func => {
                    self.return_catches.push((h, i));
                    (self.temp_base, u32::MAX)
                }
                CtrlKind::Loop => (f.base_home, f.head),
                _ => {
                    block_fixups.push((ci, i));
                    (f.base_home, u32::MAX)
                }
            };
            if dst + cells > MAX_CELLS {
                return Err("function needs too many registers".into());
            }
            self.max_cells = self.max_cells.max(dst + cells);
            catches.push(Catch {
                tag,
                with_ref,
                dst: dst as u16,
                target,
            });
        }
        for (ci, i) in block_fixups {
            self.ctrl[ci].catch_fixups.push((h, i));
        }
        self.enter(CtrlKind::Block, tt.ty)?;
        let pc = self.pc();
        self.handlers.push(Handler {
            start: pc,
            end: pc,
            catches: catches.into_boxed_slice(),
        });
        self.ctrl.last_mut().expect("try_table frame").handler = Some(h);
        Ok(())
    }

    /// Emits the returns that catches of the function's label land on.
    pub(super) fn return_pads(&mut self) {
        let pads = core::mem::take(&mut self.return_catches);
        for (h, i) in pads {
            let c = self.handlers[h].catches[i];
            let cells = self.module_catch_cells(&c);
            let pc = self.pc();
            self.handlers[h].catches[i].target = pc;
            if cells == 0 {
                self.emit(Instr::Return {});
            } else {
                self.emit(Instr::ReturnSpan {
                    start: crate::ops::Reg(c.dst),
                    len: cells,
                });
            }
        }
    }

    /// Cells of the values a catch clause delivers.
    fn module_catch_cells(&self, c: &Catch) -> u32 {
        let payload: u32 = c.tag.map_or(0, |t| {
            self.module
                .tag_type(t)
                .params()
                .iter()
                .map(|p| p.cells() as u32)
                .sum()
        });
        payload + c.with_ref as u32
    }
}
