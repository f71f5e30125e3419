//! Translation of loads and stores: the memory an access names, the rows a memory other
//! than 0 or a 64-bit address needs around the access, and the folding of an address
//! `i32.add` into the access.

use super::{Entry, Kind, R, Translator};
use crate::ops::{Dst, Instr, Reg};
use crate::prelude::*;
use crate::types::ValType;

impl Translator<'_> {
    /// Emits a load; an `i32.add` of a constant that computed its address just before
    /// (into a temporary) is folded into it when the offset is 0.
    pub(super) fn load(
        &mut self,
        f: fn(Dst, Reg, u32) -> Instr,
        fused: Option<fn(Dst, Reg, u32) -> Instr>,
        m: wasmparser::MemArg,
        ty: ValType,
    ) -> R {
        let target = self.mem_target(m)?;
        let addr = self.pop()?;
        if target.is_plain()
            && target.offset == 0
            && let Some(fused) = fused
            && let Some((idx, base, imm)) = self.address_add(addr)
        {
            let dst = self.push_temp(ty)?;
            self.code[idx] = fused(dst, base, imm);
            self.last_result = Some(idx);
            return Ok(());
        }
        let (addr, offset) = self.access_start(target, addr)?;
        let dst = self.push_temp(ty)?;
        self.emit(f(dst, addr, offset));
        self.access_end(target);
        Ok(())
    }

    /// Emits a store, folding an address `i32.add` as [`Self::load`] does.
    pub(super) fn store(
        &mut self,
        f: fn(Reg, Reg, u32) -> Instr,
        fused: Option<fn(Reg, Reg, u32) -> Instr>,
        m: wasmparser::MemArg,
    ) -> R {
        let target = self.mem_target(m)?;
        let val = self.pop()?;
        let addr = self.pop()?;
        if target.is_plain()
            && target.offset == 0
            && let Some(fused) = fused
            && let Some((idx, base, imm)) = self.address_add(addr)
        {
            let val = self.use_reg(val);
            self.code[idx] = fused(base, val, imm);
            self.last_result = None;
            return Ok(());
        }
        let val = self.use_reg(val);
        let (addr, offset) = self.access_start(target, addr)?;
        self.emit(f(addr, val, offset));
        self.access_end(target);
        Ok(())
    }

    /// The memory a `MemArg` names, with its index type and offset.
    pub(super) fn mem_target(&self, m: wasmparser::MemArg) -> R<MemTarget> {
        let wasmparser::MemArgTarget::Memory(mem) = m.target else {
            return Err("GC array accesses are not supported".into());
        };
        let ty = self
            .module
            .memories
            .get(mem as usize)
            .ok_or_else(|| format!("no memory {mem}"))?;
        if !ty.memory64 && m.offset > u32::MAX as u64 {
            return Err("memory offset too large".into());
        }
        Ok(MemTarget {
            mem,
            memory64: ty.memory64,
            offset: m.offset,
        })
    }

    /// Emits what an access through `target` needs before its row (the memory switch,
    /// the 64-bit address check) and returns the address register and offset for the
    /// row. The caller has popped the access's operands, so a temporary pushed now
    /// lies in `addr`'s slot, below any other operand's home.
    pub(super) fn access_start(&mut self, target: MemTarget, addr: Entry) -> R<(Reg, u32)> {
        if target.mem != 0 {
            self.emit(Instr::UseMem { mem: target.mem });
        }
        let addr = self.use_reg(addr);
        if !target.memory64 {
            return Ok((addr, target.offset as u32));
        }
        let dst = self.push_temp(ValType::I64)?;
        self.pop()?;
        let offset = u32::try_from(target.offset).unwrap_or(u32::MAX);
        self.emit(Instr::Addr64 { dst, addr, offset });
        if target.offset > u32::MAX as u64 {
            // An offset past 4 GiB is always out of bounds: the first step passes only
            // for address 0 (giving `u32::MAX`), and one more byte then traps.
            self.emit(Instr::Addr64 {
                dst,
                addr: Reg::from(dst),
                offset: 1,
            });
        }
        Ok((Reg::from(dst), 0))
    }

    /// Switches back to memory 0 after an access to another memory.
    pub(super) fn access_end(&mut self, target: MemTarget) {
        if target.mem != 0 {
            self.emit(Instr::UseMem { mem: 0 });
        }
    }

    /// If `addr` is a temporary that the last instruction computed as `base + imm`
    /// (`i32.add_imm`), that instruction's index and operands: the access can take its
    /// place. Nothing else reads the temporary (it was just popped), and no label lies
    /// between the two (a label clears `last_result`).
    pub(super) fn address_add(&self, addr: Entry) -> Option<(usize, Reg, u32)> {
        let idx = self.last_result?;
        if addr.kind != Kind::Temp || idx + 1 != self.code.len() {
            return None;
        }
        match self.code[idx] {
            Instr::I32AddImm { dst, a, imm } if dst == Dst(addr.home) => Some((idx, a, imm as u32)),
            _ => None,
        }
    }
}

/// The memory of a load or store (see [`Translator::mem_target`]).
#[derive(Copy, Clone, Debug)]
pub(super) struct MemTarget {
    mem: u32,
    memory64: bool,
    offset: u64,
}

impl MemTarget {
    /// Memory 0 with `i32` addresses: the access rows reach it directly.
    fn is_plain(&self) -> bool {
        self.mem == 0 && !self.memory64
    }
}
