//! Handlers of the `other` family of the opcode table: one method per opcode, named like
//! the opcode (hence the non-snake-case names).
#![allow(non_snake_case)]

use super::{CodeUnit, Executor, Exit, Hot, Step};
use crate::ops::{Cell, Dst, Instr, Reg, Target};
use crate::prelude::*;
use crate::trap::Trap;

impl Executor<'_> {
    /// Reads the `Data` word that follows the current instruction.
    fn data_word(&mut self) -> (u32, u32) {
        let (a, b) = match self.func().code.get(self.pc) {
            Some(Instr::Data { a, b }) => (*a, *b),
            _ => (0, 0),
        };
        self.pc += 1;
        (a, b)
    }

    fn table_addr(&self, table: u32) -> usize {
        self.store.instances[self.inst as usize].tables[table as usize] as usize
    }

    fn memory_addr(&self, mem: u32) -> usize {
        self.store.instances[self.inst as usize].memories[mem as usize] as usize
    }

    /// An address or length operand for store memory `m`: all 64 bits for a 64-bit
    /// memory, the low 32 otherwise.
    fn mem_operand(&self, r: Reg, m: usize) -> u64 {
        if self.store.memories[m].ty.memory64 {
            self.get(r)
        } else {
            self.get(r) as u32 as u64
        }
    }

    /// An index or length operand for store table `t` (see [`Self::mem_operand`]).
    fn table_operand(&self, r: Reg, t: usize) -> u64 {
        if self.store.tables[t].ty.table64 {
            self.get(r)
        } else {
            self.get(r) as u32 as u64
        }
    }

    fn global_addr(&self, global: u32) -> usize {
        self.store.instances[self.inst as usize].globals[global as usize] as usize
    }

    #[inline(always)]
    pub(super) fn Return(&mut self) -> Step {
        self.ret()
    }

    #[inline(always)]
    pub(super) fn Return1(&mut self, src: Reg) -> Step {
        self.set(Dst(0), self.get(src));
        self.ret()
    }

    pub(super) fn ReturnSpan(&mut self, start: Reg, len: u32) -> Step {
        let from = self.base + start.0 as usize;
        self.store
            .stack
            .copy_within(from..from + len as usize, self.base);
        self.ret()
    }

    #[inline(always)]
    pub(super) fn Call(&mut self, func: u32, base: Reg) -> Step {
        if self.gc_stress {
            self.stress_gc();
        }
        let callee = self.callee_of(func)?;
        self.call(callee, base)
    }

    pub(super) fn CallIndirect(&mut self, index: Reg, base: Reg, table: u16, ty: u32) -> Step {
        if self.gc_stress {
            self.stress_gc();
        }
        let addr = self.indirect_callee(index, table, ty)?;
        let callee = self.callee_at(addr)?;
        self.call(callee, base)
    }

    pub(super) fn ReturnCall(&mut self, func: u32, base: Reg) -> Step {
        if self.gc_stress {
            self.stress_gc();
        }
        let callee = self.callee_of(func)?;
        self.tail_call(callee, base)
    }

    pub(super) fn ReturnCallIndirect(
        &mut self,
        index: Reg,
        base: Reg,
        table: u16,
        ty: u32,
    ) -> Step {
        if self.gc_stress {
            self.stress_gc();
        }
        let addr = self.indirect_callee(index, table, ty)?;
        let callee = self.callee_at(addr)?;
        self.tail_call(callee, base)
    }

    pub(super) fn CallRef(&mut self, func: Reg, base: Reg) -> Step {
        if self.gc_stress {
            self.stress_gc();
        }
        let addr = self.ref_callee(func)?;
        let callee = self.callee_at(addr)?;
        self.call(callee, base)
    }

    pub(super) fn ReturnCallRef(&mut self, func: Reg, base: Reg) -> Step {
        if self.gc_stress {
            self.stress_gc();
        }
        let addr = self.ref_callee(func)?;
        let callee = self.callee_at(addr)?;
        self.tail_call(callee, base)
    }

    /// The store address of the function reference in `func` (validation checked its
    /// type; only null is left to check).
    fn ref_callee(&self, func: Reg) -> Result<u32, Trap> {
        match self.get(func) {
            0 => Err(Trap::NullReference),
            cell => Ok((cell - 1) as u32),
        }
    }

    pub(super) fn RefAsNonNull(&mut self, dst: Dst, src: Reg) -> Step {
        match self.get(src) {
            0 => Err(Exit::Trap(Trap::NullReference)),
            v => {
                self.set(dst, v);
                Ok(())
            }
        }
    }

    /// The store address of the function at `index` of table `table`, checked against
    /// type `ty` (the traps of `call_indirect`).
    /// Reads nothing but the table and the store, so the threaded fast path
    /// (`enter_fast_indirect`) can try it and leave a trap to the general path.
    #[inline(always)]
    pub(super) fn indirect_callee(&self, index: Reg, table: u16, ty: u32) -> Result<u32, Trap> {
        let i = self.get(index) as u32 as usize;
        let t = self.table_addr(table as u32);
        let elem = *self.store.tables[t]
            .elements
            .get(i)
            .ok_or(Trap::TableOutOfBounds)?;
        if elem == 0 {
            return Err(Trap::IndirectCallToNull);
        }
        let addr = (elem - 1) as u32;
        let expected = self.module().type_ids[ty as usize];
        if self.store.funcs[addr as usize].type_id() != expected {
            return Err(Trap::BadSignature);
        }
        Ok(addr)
    }

    #[inline(always)]
    pub(super) fn GlobalGet(&mut self, dst: Dst, global: u32) -> Step {
        let g = self.global_addr(global);
        self.set(dst, self.store.globals[g].value);
        Ok(())
    }

    #[inline(always)]
    pub(super) fn GlobalSet(&mut self, src: Reg, global: u32) -> Step {
        let g = self.global_addr(global);
        self.store.globals[g].value = self.get(src);
        Ok(())
    }

    pub(super) fn MemorySize(&mut self, dst: Dst, mem: u32) -> Step {
        let m = self.memory_addr(mem);
        self.set(dst, self.store.memories[m].pages());
        Ok(())
    }

    pub(super) fn MemoryGrow(&mut self, dst: Dst, delta: Reg, mem: u32) -> Step {
        let m = self.memory_addr(mem);
        let delta = self.mem_operand(delta, m);
        let failed = if self.store.memories[m].ty.memory64 {
            u64::MAX
        } else {
            u32::MAX as u64
        };
        let r = match self.store.grow_memory(self.data, m as u32, delta) {
            Ok(Some(old)) => old,
            Ok(None) => failed,
            Err(e) => return Err(Exit::Error(e)),
        };
        self.refresh_memory();
        self.set(dst, r);
        Ok(())
    }

    pub(super) fn MemoryFill(&mut self, dst: Reg, val: Reg, len: Reg, mem: u16) -> Step {
        let m = self.memory_addr(mem as u32);
        let (d, v, n) = (
            self.mem_operand(dst, m),
            self.get(val) as u8,
            self.mem_operand(len, m),
        );
        let mem = &mut self.store.memories[m].data;
        match d.checked_add(n) {
            Some(end) if end <= mem.len() as u64 => {
                mem[d as usize..end as usize].fill(v);
                Ok(())
            }
            _ => Err(Exit::Trap(Trap::MemoryOutOfBounds)),
        }
    }

    pub(super) fn MemoryCopy(&mut self, dst: Reg, src: Reg, len: Reg) -> Step {
        let (dm, sm) = self.data_word();
        let (dm, sm) = (self.memory_addr(dm), self.memory_addr(sm));
        let (d, s) = (self.mem_operand(dst, dm), self.mem_operand(src, sm));
        // The length is an `i64` only when both memories are 64-bit.
        let n = if self.store.memories[sm].ty.memory64 {
            self.mem_operand(len, dm)
        } else {
            self.get(len) as u32 as u64
        };
        let fits = |at: u64, size: usize| at.checked_add(n).is_some_and(|e| e <= size as u64);
        let memories = &mut self.store.memories;
        if !fits(d, memories[dm].data.len()) || !fits(s, memories[sm].data.len()) {
            return Err(Exit::Trap(Trap::MemoryOutOfBounds));
        }
        let (d, s, n) = (d as usize, s as usize, n as usize);
        if dm == sm {
            memories[dm].data.copy_within(s..s + n, d);
        } else {
            let (lo, hi) = memories.split_at_mut(dm.max(sm));
            let (to, from) = if dm < sm {
                (&mut lo[dm], &hi[0])
            } else {
                (&mut hi[0], &lo[sm])
            };
            to.data[d..d + n].copy_from_slice(&from.data[s..s + n]);
        }
        Ok(())
    }

    pub(super) fn MemoryInit(&mut self, dst: Reg, src: Reg, len: Reg, seg: u32) -> Step {
        let (mem, _) = self.data_word();
        let d = self.mem_operand(dst, self.memory_addr(mem));
        let (s, n) = (self.get(src) as u32 as u64, self.get(len) as u32 as u64);
        self.store.memory_init(self.inst, mem, seg, d, s, n)?;
        Ok(())
    }

    pub(super) fn UseMem(&mut self, mem: u32) -> Step {
        if mem == 0 {
            self.refresh_memory();
        } else {
            let m = self.memory_addr(mem);
            let data = &mut self.store.memories[m].data;
            self.mem = data.as_mut_ptr();
            self.mem_len = data.len();
        }
        Ok(())
    }

    pub(super) fn DataDrop(&mut self, seg: u32) -> Step {
        self.store.instances[self.inst as usize].data_dropped[seg as usize] = true;
        Ok(())
    }

    pub(super) fn TableGet(&mut self, dst: Dst, index: Reg, table: u32) -> Step {
        let t = self.table_addr(table);
        let i = usize::try_from(self.table_operand(index, t)).unwrap_or(usize::MAX);
        let v = *self.store.tables[t]
            .elements
            .get(i)
            .ok_or(Trap::TableOutOfBounds)?;
        self.set(dst, v);
        Ok(())
    }

    pub(super) fn TableSet(&mut self, index: Reg, val: Reg, table: u32) -> Step {
        let t = self.table_addr(table);
        let i = usize::try_from(self.table_operand(index, t)).unwrap_or(usize::MAX);
        let v = self.get(val);
        *self.store.tables[t]
            .elements
            .get_mut(i)
            .ok_or(Trap::TableOutOfBounds)? = v;
        Ok(())
    }

    pub(super) fn TableSize(&mut self, dst: Dst, table: u32) -> Step {
        let t = self.table_addr(table);
        self.set(dst, self.store.tables[t].elements.len() as u64);
        Ok(())
    }

    pub(super) fn TableGrow(&mut self, dst: Dst, init: Reg, delta: Reg, table: u16) -> Step {
        let t = self.table_addr(table as u32);
        let (init, delta) = (self.get(init), self.table_operand(delta, t));
        let failed = if self.store.tables[t].ty.table64 {
            u64::MAX
        } else {
            u32::MAX as u64
        };
        let r = match self.store.grow_table(self.data, t as u32, delta, init) {
            Ok(Some(old)) => old,
            Ok(None) => failed,
            Err(e) => return Err(Exit::Error(e)),
        };
        self.set(dst, r);
        Ok(())
    }

    pub(super) fn TableFill(&mut self, dst: Reg, val: Reg, len: Reg, table: u16) -> Step {
        let t = self.table_addr(table as u32);
        let (d, v, n) = (
            self.table_operand(dst, t),
            self.get(val),
            self.table_operand(len, t),
        );
        let elems = &mut self.store.tables[t].elements;
        match d.checked_add(n) {
            Some(end) if end <= elems.len() as u64 => {
                elems[d as usize..end as usize].fill(v);
                Ok(())
            }
            _ => Err(Exit::Trap(Trap::TableOutOfBounds)),
        }
    }

    pub(super) fn TableCopy(&mut self, dst: Reg, src: Reg, len: Reg) -> Step {
        let (dt, st) = self.data_word();
        let (dt, st) = (self.table_addr(dt), self.table_addr(st));
        let (d, s) = (self.table_operand(dst, dt), self.table_operand(src, st));
        // The length is an `i64` only when both tables are 64-bit.
        let n = if self.store.tables[st].ty.table64 {
            self.table_operand(len, dt)
        } else {
            self.get(len) as u32 as u64
        };
        let (dlen, slen) = (
            self.store.tables[dt].elements.len() as u64,
            self.store.tables[st].elements.len() as u64,
        );
        let fits = |at: u64, size: u64| at.checked_add(n).is_some_and(|e| e <= size);
        if !fits(d, dlen) || !fits(s, slen) {
            return Err(Exit::Trap(Trap::TableOutOfBounds));
        }
        let (d, s, n) = (d as usize, s as usize, n as usize);
        let tables = &mut self.store.tables;
        if dt == st {
            tables[dt].elements.copy_within(s..s + n, d);
        } else {
            let (lo, hi) = tables.split_at_mut(dt.max(st));
            let (dst_t, src_t) = if dt < st {
                (&mut lo[dt], &hi[0])
            } else {
                (&mut hi[0], &lo[st])
            };
            dst_t.elements[d..d + n].copy_from_slice(&src_t.elements[s..s + n]);
        }
        Ok(())
    }

    pub(super) fn TableInit(&mut self, dst: Reg, src: Reg, len: Reg) -> Step {
        let (table, seg) = self.data_word();
        let d = self.table_operand(dst, self.table_addr(table));
        let (s, n) = (self.get(src) as u32 as u64, self.get(len) as u32 as u64);
        self.store.table_init(self.inst, table, seg, d, s, n)?;
        Ok(())
    }

    pub(super) fn ElemDrop(&mut self, seg: u32) -> Step {
        self.store.instances[self.inst as usize].elems[seg as usize] = Box::new([]);
        Ok(())
    }

    pub(super) fn RefFunc(&mut self, dst: Dst, func: u32) -> Step {
        let addr = self.store.instances[self.inst as usize].funcs[func as usize];
        self.set(dst, addr as u64 + 1);
        Ok(())
    }

    pub(super) fn Data(&mut self, _a: u32, _b: u32) -> Step {
        // Operand words are skipped by the instruction they belong to.
        Err(Exit::Error(anyhow::anyhow!(
            "internal error: executed an operand word"
        )))
    }
}

/// The `hot` handlers: registers and instruction pointer only.
impl Hot {
    #[inline(always)]
    pub(super) fn Unreachable(&mut self) -> Step {
        Err(Exit::Trap(Trap::UnreachableCodeReached))
    }

    #[inline(always)]
    pub(super) fn Copy(&mut self, dst: Dst, src: Reg) -> Step {
        self.set(dst, self.get(src));
        Ok(())
    }

    #[inline(always)]
    pub(super) fn Const32(&mut self, dst: Dst, value: u32) -> Step {
        self.set(dst, value as u64);
        Ok(())
    }

    #[inline(always)]
    pub(super) fn Const64(&mut self, dst: Dst, lo: u32, hi: u32) -> Step {
        self.set(dst, (hi as u64) << 32 | lo as u64);
        Ok(())
    }

    #[inline(always)]
    pub(super) fn Br(&mut self, target: Target) -> Step {
        self.jump(target);
        Ok(())
    }

    #[inline(always)]
    pub(super) fn BrIfNez(&mut self, cond: Reg, target: Target) -> Step {
        if self.get(cond) as u32 != 0 {
            self.jump(target);
        }
        Ok(())
    }

    #[inline(always)]
    pub(super) fn BrIfEqz(&mut self, cond: Reg, target: Target) -> Step {
        if self.get(cond) as u32 == 0 {
            self.jump(target);
        }
        Ok(())
    }

    #[inline(always)]
    pub(super) fn BrTable(&mut self, index: Reg, len: u32) -> Step {
        // The `len + 1` entries that follow are `br` instructions; the last is the default.
        let i = (self.get(index) as u32).min(len);
        // SAFETY: the translator emits `len + 1` entries after `br_table`.
        let entry = unsafe { self.ip.add(i as usize) };
        // Take a plain `br` entry's jump right away (one dispatch instead of two); other
        // entries (a `br` to a return becomes the return) run as the next instruction.
        // SAFETY: `entry` points at one of those entries.
        match unsafe { (*entry).instr() } {
            Instr::Br { target } => {
                // SAFETY: `entry` is inside the code, so one past it is in bounds or the
                // end; `jump` then goes where the entry's `br` would have (a threaded
                // target is relative to the instruction after the `br`).
                self.ip = unsafe { entry.add(1) };
                self.jump(target);
            }
            _ => self.ip = entry,
        }
        Ok(())
    }

    #[inline(always)]
    pub(super) fn Addr64(&mut self, dst: Dst, addr: Reg, offset: u32) -> Step {
        match self.get(addr).checked_add(offset as u64) {
            Some(ea) if ea <= u32::MAX as u64 => {
                self.set(dst, ea);
                Ok(())
            }
            _ => Err(Exit::Trap(Trap::MemoryOutOfBounds)),
        }
    }

    #[inline(always)]
    pub(super) fn Clamp32(&mut self, dst: Dst, src: Reg) -> Step {
        self.set(dst, self.get(src).min(u32::MAX as u64));
        Ok(())
    }

    #[inline(always)]
    pub(super) fn Select(&mut self, dst: Dst, cond: Reg, a: Reg, b: Reg) -> Step {
        let v = if self.get(cond) as u32 != 0 {
            self.get(a)
        } else {
            self.get(b)
        };
        self.set(dst, v);
        Ok(())
    }
}

/// The fused `*Add` rows of the opcode table: a load or store at `(addr + imm) mod 2^32`.
macro_rules! fused_memory {
    (
        loads: [$($ld:ident: $ln:literal => $lf:expr,)*],
        stores: [$($st:ident: $sn:literal, $sty:ty => $sf:expr,)*],
    ) => {
        impl Hot {
            $(
                #[inline(always)]
                pub(super) fn $ld(&mut self, dst: Dst, addr: Reg, imm: u32) -> Step {
                    let bytes = self.load_at::<$ln>(self.wrapped(addr, imm))?;
                    self.set(dst, ($lf)(bytes).to_cell());
                    Ok(())
                }
            )*
            $(
                #[inline(always)]
                pub(super) fn $st(&mut self, addr: Reg, val: Reg, imm: u32) -> Step {
                    let v = <$sty>::from_cell(self.get(val));
                    self.store_at::<$sn>(self.wrapped(addr, imm), ($sf)(v))?;
                    Ok(())
                }
            )*
        }
    };
}

fused_memory! {
    loads: [
        I32LoadAdd: 4 => |b: [u8; 4]| i32::from_le_bytes(b),
        I64LoadAdd: 8 => |b: [u8; 8]| i64::from_le_bytes(b),
        F32LoadAdd: 4 => |b: [u8; 4]| u32::from_le_bytes(b),
        F64LoadAdd: 8 => |b: [u8; 8]| u64::from_le_bytes(b),
        I32Load8SAdd: 1 => |b: [u8; 1]| i8::from_le_bytes(b) as i32,
        I32Load8UAdd: 1 => |b: [u8; 1]| b[0] as i32,
        I32Load16SAdd: 2 => |b: [u8; 2]| i16::from_le_bytes(b) as i32,
        I32Load16UAdd: 2 => |b: [u8; 2]| u16::from_le_bytes(b) as i32,
        I64Load8SAdd: 1 => |b: [u8; 1]| i8::from_le_bytes(b) as i64,
        I64Load8UAdd: 1 => |b: [u8; 1]| b[0] as i64,
        I64Load16SAdd: 2 => |b: [u8; 2]| i16::from_le_bytes(b) as i64,
        I64Load16UAdd: 2 => |b: [u8; 2]| u16::from_le_bytes(b) as i64,
        I64Load32SAdd: 4 => |b: [u8; 4]| i32::from_le_bytes(b) as i64,
        I64Load32UAdd: 4 => |b: [u8; 4]| u32::from_le_bytes(b) as i64,
    ],
    stores: [
        I32StoreAdd: 4, u32 => |v: u32| v.to_le_bytes(),
        I64StoreAdd: 8, u64 => |v: u64| v.to_le_bytes(),
        F32StoreAdd: 4, u32 => |v: u32| v.to_le_bytes(),
        F64StoreAdd: 8, u64 => |v: u64| v.to_le_bytes(),
        I32Store8Add: 1, u32 => |v: u32| [v as u8],
        I32Store16Add: 2, u32 => |v: u32| (v as u16).to_le_bytes(),
        I64Store8Add: 1, u64 => |v: u64| [v as u8],
        I64Store16Add: 2, u64 => |v: u64| (v as u16).to_le_bytes(),
        I64Store32Add: 4, u64 => |v: u64| (v as u32).to_le_bytes(),
    ],
}
