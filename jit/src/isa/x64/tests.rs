//! The fuel and epoch checks of the x64 backend run directly, on counters of the test's
//! own (the integration tests in `tests/` cover them through the engine). Here also the
//! fuel amounts beyond an `i32` immediate, which no realistic function produces.

use super::X64;
use crate::backend::Backend;
use gloam_interp::native::{NativeCode, STATUS_RETURN, STATUS_STEP, STATUS_TRAP, VmCtx, trap_code};
use gloam_interp::{Trap, VMLimits};

/// Assembles and links the code `emit` produces.
fn build(emit: impl FnOnce(&mut X64)) -> NativeCode {
    let mut b = X64::new(8, std::ptr::null());
    emit(&mut b);
    let assembled = b.finish().unwrap();
    crate::link::link(&[Ok(assembled)]).pop().unwrap().unwrap()
}

/// Runs `code` from code index `pc` against `limits` and the epoch counter `epoch`;
/// returns the status and `exit_pc`.
fn run(code: &NativeCode, pc: u32, limits: &mut VMLimits, epoch: &u64) -> (u32, u32) {
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

#[test]
fn consume_fuel_charges_or_traps_charging_nothing() {
    assert_eq!(OUT_OF_FUEL, STATUS_TRAP + trap_code(Trap::OutOfFuel));
    let big = i32::MAX as u32;
    for amount in [0, 1, 7, big, big + 1, u32::MAX] {
        let code = build(|b| {
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

#[test]
fn check_epoch_steps_at_the_deadline_and_resumes_after() {
    // As the compiler lays it out: the check at code index 2, a resume point after it.
    let code = build(|b| {
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

#[test]
fn check_epoch_consume_fuel_checks_the_epoch_first() {
    for amount in [4, i32::MAX as u32 + 9] {
        let code = build(|b| {
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

#[test]
fn memory_operands_take_the_shortest_encoding() {
    use super::pins::op;
    use dynasmrt::DynasmApi;
    // (op, 64-bit, reg, base, displacement) and the bytes the manual gives for it.
    type Case = (op::Op, bool, u8, u8, i32, &'static [u8]);
    let cases: &[Case] = &[
        // mov rax, [r12]: SIB for the r12 base, no displacement.
        (op::LOAD, true, 0, 12, 0, &[0x49, 0x8b, 0x04, 0x24]),
        // mov rax, [r12 + 8]
        (op::LOAD, true, 0, 12, 8, &[0x49, 0x8b, 0x44, 0x24, 0x08]),
        // mov r9, [r12 + 0x200]: REX.R, 32-bit displacement.
        (
            op::LOAD,
            true,
            9,
            12,
            0x200,
            &[0x4d, 0x8b, 0x8c, 0x24, 0, 2, 0, 0],
        ),
        // mov eax, [rax + 4]: no REX at all.
        (op::LOAD, false, 0, 0, 4, &[0x8b, 0x40, 0x04]),
        // mov [r15 + 0x28], rcx
        (op::STORE, true, 1, 15, 0x28, &[0x49, 0x89, 0x4f, 0x28]),
        // mov rax, [r13]: r13 as a base needs a displacement, even 0.
        (op::LOAD, true, 0, 13, 0, &[0x49, 0x8b, 0x45, 0x00]),
        // mov rdx, [r12 - 8]
        (op::LOAD, true, 2, 12, -8, &[0x49, 0x8b, 0x54, 0x24, 0xf8]),
        // add rax, [r15 + 0x20]
        (op::ADD_LOAD, true, 0, 15, 0x20, &[0x49, 0x03, 0x47, 0x20]),
        // movsd xmm9, [r12 + 16]: the prefix before REX.
        (
            op::MOVSD_LOAD,
            false,
            9,
            12,
            16,
            &[0xf2, 0x45, 0x0f, 0x10, 0x4c, 0x24, 0x10],
        ),
        // movss xmm2, [r12 + 128]: 128 no longer fits a byte.
        (
            op::MOVSS_LOAD,
            false,
            2,
            12,
            128,
            &[0xf3, 0x41, 0x0f, 0x10, 0x94, 0x24, 128, 0, 0, 0],
        ),
        // lea rsi, [r12 + 24]
        (op::LEA, true, 6, 12, 24, &[0x49, 0x8d, 0x74, 0x24, 0x18]),
    ];
    for &(op, w64, reg, base, d, bytes) in cases {
        let mut b = X64::new(8, std::ptr::null());
        let start = b.ops.offset().0;
        b.mem(op, w64, reg, base, d);
        let code = b.ops.finalize().unwrap();
        assert_eq!(&code[start..], bytes, "reg {reg}, base {base}, disp {d}");
    }
}
