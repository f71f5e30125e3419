//! Checks every backend runs on itself (from its `tests` module): the fuel and epoch
//! checks, directly on counters of the test's own (the integration tests in `tests/`
//! cover them through the engine), with fuel amounts beyond any instruction's immediate,
//! which no realistic function produces.

use crate::backend::Backend;
use gloam_interp::native::{NativeCode, STATUS_RETURN, STATUS_STEP, STATUS_TRAP, VmCtx, trap_code};
use gloam_interp::{Trap, VMLimits};

/// Assembles and links the code `emit` produces with backend `b`.
pub fn build<B: Backend>(mut b: B, emit: impl FnOnce(&mut B)) -> NativeCode {
    emit(&mut b);
    let assembled = b.finish().unwrap();
    crate::link::link(&[Ok(assembled)]).pop().unwrap().unwrap()
}

/// Runs `code` from code index `pc` against `limits` and the epoch counter `epoch`;
/// returns the status and `exit_pc`.
pub fn run(code: &NativeCode, pc: u32, limits: &mut VMLimits, epoch: &u64) -> (u32, u32) {
    let mut frame = [0u64; 4];
    let mut vm = VmCtx {
        resume: code.resume_addr(pc).expect("a resume point"),
        limits,
        epoch,
        ..VmCtx::default()
    };
    // SAFETY: the code was compiled by this backend for a frame of at most 4 cells that
    // it does not even touch; it reads only `limits` and `epoch` through the `VmCtx`
    // (no memory or globals), both valid for the call.
    let status = unsafe { (code.entry())(&mut vm, frame.as_mut_ptr()) };
    (status, vm.exit_pc)
}

const OUT_OF_FUEL: u32 = STATUS_TRAP + 10;

pub fn consume_fuel_charges_or_traps_charging_nothing<B: Backend>(new: impl Fn() -> B) {
    assert_eq!(OUT_OF_FUEL, STATUS_TRAP + trap_code(Trap::OutOfFuel));
    let big = i32::MAX as u32;
    for amount in [0, 1, 7, big, big + 1, u32::MAX] {
        let code = build(new(), |b| {
            b.resume_point(0);
            b.consume_fuel(amount, 3);
            b.ret(0, 0);
        });
        let a = amount as u64;
        for fuel in [0, a.saturating_sub(1), a, a + 5, u64::MAX] {
            let mut limits = VMLimits {
                fuel,
                epoch_deadline: 0,
            };
            let (status, exit_pc) = run(&code, 0, &mut limits, &0);
            if fuel >= a {
                assert_eq!(status, STATUS_RETURN, "amount {amount}, fuel {fuel}");
                assert_eq!(limits.fuel, fuel - a, "amount {amount}, fuel {fuel}");
            } else {
                assert_eq!((status, exit_pc), (OUT_OF_FUEL, 3), "amount {amount}");
                assert_eq!(limits.fuel, fuel, "amount {amount}: charged on a trap");
            }
        }
    }
}

pub fn check_epoch_steps_at_the_deadline_and_resumes_after<B: Backend>(new: impl Fn() -> B) {
    // As the compiler lays it out: the check at code index 2, a resume point after it.
    let code = build(new(), |b| {
        b.resume_point(0);
        b.check_epoch(2);
        b.resume_point(3);
        b.ret(0, 0);
    });
    for (epoch, deadline) in [(0, 1), (5, 6), (u64::MAX - 1, u64::MAX)] {
        let mut limits = VMLimits {
            fuel: 0,
            epoch_deadline: deadline,
        };
        assert_eq!(run(&code, 0, &mut limits, &epoch).0, STATUS_RETURN);
    }
    for (epoch, deadline) in [(0, 0), (1, 0), (7, 7), (u64::MAX, 3)] {
        let mut limits = VMLimits {
            fuel: 0,
            epoch_deadline: deadline,
        };
        assert_eq!(
            run(&code, 0, &mut limits, &epoch),
            (STATUS_STEP, 2),
            "epoch {epoch}, deadline {deadline}"
        );
        // The executor runs the epoch action and continues after the check.
        assert_eq!(run(&code, 3, &mut limits, &epoch).0, STATUS_RETURN);
    }
}

pub fn check_epoch_consume_fuel_checks_the_epoch_first<B: Backend>(new: impl Fn() -> B) {
    for amount in [4, i32::MAX as u32 + 9] {
        let code = build(new(), |b| {
            b.resume_point(0);
            b.check_epoch_consume_fuel(amount, 1);
            b.resume_point(2);
            b.ret(0, 0);
        });
        let a = amount as u64;
        // Deadline reached: a step, nothing charged (even with too little fuel).
        for fuel in [a - 1, a + 1] {
            let mut limits = VMLimits {
                fuel,
                epoch_deadline: 3,
            };
            assert_eq!(run(&code, 0, &mut limits, &3), (STATUS_STEP, 1));
            assert_eq!(limits.fuel, fuel);
        }
        // Before the deadline: the fuel check alone decides.
        let mut limits = VMLimits {
            fuel: a - 1,
            epoch_deadline: 4,
        };
        assert_eq!(run(&code, 0, &mut limits, &3), (OUT_OF_FUEL, 1));
        assert_eq!(limits.fuel, a - 1);
        limits.fuel = a + 1;
        assert_eq!(run(&code, 0, &mut limits, &3).0, STATUS_RETURN);
        assert_eq!(limits.fuel, 1);
    }
}
