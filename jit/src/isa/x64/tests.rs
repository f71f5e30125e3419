//! The x64 backend on its own: the shared fuel and epoch checks (`isa::limit_checks`;
//! here with fuel amounts beyond an `i32` immediate) and the memory-operand encoder.

use super::X64;
use crate::isa::limit_checks;

/// A backend for the checks.
fn new() -> X64 {
    X64::new(8, std::ptr::null())
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
