//! Handlers of the `limit` rows of the opcode table: fuel and epoch checks (the rules are
//! in `crate::limits`). They run on the executor and the hot state without writing the
//! hot state back, except on the slow path of an epoch callback. The threaded dispatcher
//! has its own fast/slow split of the same checks (end of `exec/threaded.rs`) and shares
//! `epoch_deadline_reached`. Native code charges fuel itself and hands an epoch check
//! that found the deadline reached to these handlers as a step exit (`exec/native.rs`).
#![allow(non_snake_case)]

use super::{Executor, Exit, Frame, Hot, Step};
use crate::limits::{EpochAction, UpdateDeadline};
use crate::trap::Trap;

impl Executor<'_> {
    #[inline(always)]
    pub(super) fn ConsumeFuel(&mut self, _h: &mut Hot, amount: u32) -> Step {
        let fuel = &mut self.store.limits.vm.fuel;
        match fuel.checked_sub(amount as u64) {
            Some(left) => {
                *fuel = left;
                Ok(())
            }
            None => Err(Exit::Trap(Trap::OutOfFuel)),
        }
    }

    #[inline(always)]
    pub(super) fn FuelEpoch(&mut self, h: &mut Hot, amount: u32) -> Step {
        self.CheckEpoch(h)?;
        self.ConsumeFuel(h, amount)
    }

    #[inline(always)]
    pub(super) fn CheckEpoch(&mut self, h: &mut Hot) -> Step {
        if self.store.engine.epoch.get() < self.store.limits.vm.epoch_deadline {
            return Ok(());
        }
        h.save(self);
        self.epoch_deadline_reached()?;
        *h = Hot::from_executor(self);
        Ok(())
    }

    /// Runs the store's epoch action: a trap, or the callback with the current frame
    /// suspended like a host call's caller (so the callback may use the store, even call
    /// wasm, and the frame's `externref`s stay rooted through the stack map the
    /// translator recorded at this `check_epoch`).
    #[inline(never)]
    pub(super) fn epoch_deadline_reached(&mut self) -> Step {
        let mut callback = match core::mem::take(&mut self.store.limits.epoch_action) {
            EpochAction::Trap => return Err(Exit::Trap(Trap::Interrupt)),
            EpochAction::Callback(cb) => cb,
        };
        let saved_top = self.store.stack_top;
        self.store.stack_top = self.base + self.func().frame_size as usize;
        self.store.frames.push(Frame {
            func: self.func,
            pc: self.pc as u32,
            base: self.base,
            inst: self.inst,
        });
        let result = callback(self.store, self.data);
        self.store.frames.pop();
        self.store.stack_top = saved_top;
        if matches!(self.store.limits.epoch_action, EpochAction::Trap) {
            self.store.limits.epoch_action = EpochAction::Callback(callback);
        }
        self.refresh_regs();
        self.refresh_memory();
        match result.map_err(Exit::Error)? {
            UpdateDeadline::Continue(delta) => {
                let now = self.store.engine.epoch.get();
                self.store.limits.vm.epoch_deadline = now.saturating_add(delta);
            }
        }
        Ok(())
    }
}
