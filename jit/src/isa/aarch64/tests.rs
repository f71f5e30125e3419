//! The aarch64 backend on its own: the shared fuel and epoch checks (`isa::limit_checks`;
//! here with fuel amounts beyond a 12-bit immediate), cells past the scaled-offset range,
//! wide immediates, the division checks that `sdiv` does not make, and far branches.

use super::Aarch64;
use crate::backend::Backend;
use crate::isa::limit_checks;
use gloam_interp::Trap;
use gloam_interp::native::{NativeCode, STATUS_RETURN, STATUS_TRAP, VmCtx, trap_code};

/// Assembles and links the code `emit` produces.
fn build(emit: impl FnOnce(&mut Aarch64)) -> NativeCode {
    limit_checks::build(new(), emit)
}

/// A backend for the checks.
fn new() -> Aarch64 {
    Aarch64::new(8, std::ptr::null())
}

#[test]
fn consume_fuel_charges_or_traps_charging_nothing() {
    limit_checks::consume_fuel_charges_or_traps_charging_nothing(new);
}

#[test]
fn check_epoch_steps_at_the_deadline_and_resumes_after() {
    limit_checks::check_epoch_steps_at_the_deadline_and_resumes_after(new);
}

#[test]
fn check_epoch_consume_fuel_checks_the_epoch_first() {
    limit_checks::check_epoch_consume_fuel_checks_the_epoch_first(new);
}

/// Runs `code` from code index 0 over `frame` (no memory, globals, fuel or epochs);
/// returns the status and `exit_pc`.
fn run_frame(code: &NativeCode, frame: &mut [u64]) -> (u32, u32) {
    let mut vm = VmCtx {
        resume: code.resume_addr(0).expect("a resume point"),
        ..VmCtx::default()
    };
    // SAFETY: the code was compiled by this backend for a frame no larger than `frame`
    // and uses nothing else through the `VmCtx`.
    let status = unsafe { (code.entry())(&mut vm, frame.as_mut_ptr()) };
    (status, vm.exit_pc)
}

#[test]
fn constants_and_cells_past_the_scaled_offset_range() {
    use crate::backend::{IntOp, Rhs, Width};
    let values = [
        0u64,
        1,
        0xffff,
        0x1_0000,
        0xdead_beef,
        u64::MAX,
        u64::MAX - 0x1234,
        0x8000_0000_0000_0000,
        0x1234_5678_9abc_def0,
        0xffff_0000_ffff_0000,
    ];
    let far = [2047u16, 2048, 4095, 4096, 40_000, 65_535];
    let code = build(|b| {
        b.resume_point(0);
        for (i, &v) in values.iter().enumerate() {
            b.constant(far[i % far.len()], v);
            b.copy(1 + i as u16, far[i % far.len()]);
        }
        // Wide immediates in arithmetic, into far cells.
        b.int_op(Width::W64, IntOp::Add, 4096, 5, Rhs::Imm(-0x12345));
        b.int_op(Width::W32, IntOp::Xor, 65_535, 5, Rhs::Imm(0x0ff0_0ff0));
        b.copy(20, 4096);
        b.copy(21, 65_535);
        b.ret(0, 0);
    });
    let mut frame = vec![0u64; 65_536];
    assert_eq!(run_frame(&code, &mut frame).0, STATUS_RETURN);
    for (i, &v) in values.iter().enumerate() {
        assert_eq!(frame[1 + i], v, "constant {v:#x}");
    }
    assert_eq!(frame[20], 0xdead_beefu64.wrapping_sub(0x12345));
    assert_eq!(frame[21], (0xdead_beefu32 ^ 0x0ff0_0ff0) as u64);
}

#[test]
fn division_traps_on_zero_and_signed_overflow() {
    use crate::backend::{DivOp, Width};
    let cases: [(Width, DivOp, u64, u64, Result<u64, Trap>); 10] = [
        (
            Width::W32,
            DivOp::DivS,
            7,
            -2i32 as u32 as u64,
            Ok(-3i32 as u32 as u64),
        ),
        (
            Width::W32,
            DivOp::DivS,
            i32::MIN as u32 as u64,
            -1i32 as u32 as u64,
            Err(Trap::IntegerOverflow),
        ),
        (
            Width::W32,
            DivOp::RemS,
            i32::MIN as u32 as u64,
            -1i32 as u32 as u64,
            Ok(0),
        ),
        (
            Width::W32,
            DivOp::DivU,
            7,
            0,
            Err(Trap::IntegerDivisionByZero),
        ),
        (Width::W32, DivOp::RemU, u32::MAX as u64, 10, Ok(5)),
        (
            Width::W64,
            DivOp::DivS,
            i64::MIN as u64,
            -1i64 as u64,
            Err(Trap::IntegerOverflow),
        ),
        (
            Width::W64,
            DivOp::RemS,
            i64::MIN as u64,
            -1i64 as u64,
            Ok(0),
        ),
        (Width::W64, DivOp::RemS, -7i64 as u64, 2, Ok(-1i64 as u64)),
        (Width::W64, DivOp::DivU, u64::MAX, 2, Ok(u64::MAX / 2)),
        (
            Width::W64,
            DivOp::RemU,
            1,
            0,
            Err(Trap::IntegerDivisionByZero),
        ),
    ];
    for (w, op, a, b, want) in cases {
        let code = build(|bk| {
            bk.resume_point(0);
            bk.int_div(w, op, 0, 1, 2, 9);
            bk.ret(0, 0);
        });
        let mut frame = [0, a, b, 0];
        let (status, pc) = run_frame(&code, &mut frame);
        match want {
            Ok(v) => assert_eq!(
                (status, frame[0]),
                (STATUS_RETURN, v),
                "{w:?} {op:?} {a} {b}"
            ),
            Err(t) => assert_eq!(
                (status, pc),
                (STATUS_TRAP + trap_code(t), 9),
                "{w:?} {op:?}"
            ),
        }
    }
}

#[test]
fn conditional_branches_past_one_mib_take_the_far_form() {
    use crate::backend::{Cond, Rhs, Width};
    use crate::isa::aarch64::BRANCH_RANGE;
    // A forward `br_if`, a compare-and-branch and a trap check across ~1.2 MiB of code
    // (each constant is four moves and a store).
    let emit = |b: &mut Aarch64| {
        let end = b.new_label();
        let after = b.new_label();
        b.resume_point(0);
        b.br_if(1, true, end);
        b.br_cmp(Width::W64, Cond::Eq, 2, Rhs::Imm(7), after);
        b.int_div(Width::W32, crate::backend::DivOp::DivU, 0, 2, 3, 5);
        b.bind(after);
        for _ in 0..62_000 {
            b.constant(4, 0x1234_5678_9abc_def0);
        }
        b.constant(0, 42);
        b.bind(end);
        b.ret(0, 0);
    };
    let mut near = Aarch64::new(8, std::ptr::null());
    emit(&mut near);
    assert_eq!(near.finish().unwrap_err(), BRANCH_RANGE);
    let mut far = Aarch64::new(8, std::ptr::null()).far_branches();
    emit(&mut far);
    let code = crate::link::link(&[Ok(far.finish().unwrap())])
        .pop()
        .unwrap()
        .unwrap();
    assert!(code.size() > 1 << 20);
    // Taken br_if: cell 0 untouched.
    let mut frame = [9u64, 1, 0, 0, 0];
    assert_eq!(run_frame(&code, &mut frame), (STATUS_RETURN, 0));
    assert_eq!(frame[0], 9);
    // br_cmp taken: skips the division by zero, runs the constants.
    let mut frame = [9u64, 0, 7, 0, 0];
    assert_eq!(run_frame(&code, &mut frame).0, STATUS_RETURN);
    assert_eq!((frame[0], frame[4]), (42, 0x1234_5678_9abc_def0));
    // Neither: the division by zero traps, out of line beyond the body.
    let mut frame = [9u64, 0, 6, 0, 0];
    assert_eq!(
        run_frame(&code, &mut frame),
        (STATUS_TRAP + trap_code(Trap::IntegerDivisionByZero), 5)
    );
}
