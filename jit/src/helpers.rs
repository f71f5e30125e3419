//! Out-of-line helpers: one `extern "C"` function per scalar operation of the opcode
//! table (`unary`, `unary_trap`, `binary`, `binary_trap` rows), generated from the same
//! closures the interpreter runs, so native code that calls them has the interpreter's
//! semantics bit for bit (NaN payloads, rounding, saturation, trap order).
//!
//! Backends inline the common operations and call these for the rest (float rounding,
//! min/max, float-to-int conversions, ...). They take and return cells; the trapping ones
//! write the result through `out` and return 0, or return `STATUS_TRAP + code`.

#![allow(non_snake_case)]

use gloam_interp::native::{STATUS_TRAP, trap_code};
use gloam_interp::ops::{Cell, Instr};

/// A helper and how to call it.
#[derive(Copy, Clone, Debug)]
pub enum Helper {
    /// `dst = f(src)`
    Unary(extern "C" fn(u64) -> u64),
    /// `dst = f(a, b)`
    Binary(extern "C" fn(u64, u64) -> u64),
    /// `status = f(src, &mut dst)`
    UnaryTrap(extern "C" fn(u64, *mut u64) -> u32),
    /// `status = f(a, b, &mut dst)`
    BinaryTrap(extern "C" fn(u64, u64, *mut u64) -> u32),
}

/// Writes `r`'s value to `out`, or returns its trap's status.
fn finish<T: Cell>(r: Result<T, gloam_interp::Trap>, out: *mut u64) -> u32 {
    match r {
        Ok(v) => {
            // SAFETY: native code passes the address of the destination frame cell,
            // which is in bounds of the current frame.
            unsafe { *out = v.to_cell() };
            0
        }
        Err(t) => STATUS_TRAP + trap_code(t),
    }
}

macro_rules! define_helpers {
    (
        unary: [$(($un:ident, $unm:literal, $unt:ty, $unf:expr)),* $(,)?],
        unary_trap: [$(($ut:ident, $utm:literal, $utt:ty, $utf:expr)),* $(,)?],
        binary: [$(($bn:ident, $bnm:literal, $bnt:ty, $bnf:expr)),* $(,)?],
        binary_imm: [$(($bi:ident, $bim:literal, $bit:ty, $bif:expr)),* $(,)?],
        binary_trap: [$(($bt:ident, $btm:literal, $btt:ty, $btf:expr)),* $(,)?],
        br_cmp: [$(($bc:ident, $bcm:literal, $bct:ty, $bcf:expr, $bcfrom:ident, $bcnot:ident)),* $(,)?],
        br_cmp_imm: [$(($bci:ident, $bcim:literal, $bcit:ty, $bcif:expr, $bcifrom:ident, $bcinot:ident)),* $(,)?],
        load: [$(($ld:ident, $ldm:literal, $ldn:literal, $ldf:expr)),* $(,)?],
        store: [$(($st:ident, $stm:literal, $stn:literal, $stt:ty, $stf:expr)),* $(,)?],
        other: [$($(#[doc = $doc:literal])* $($hot:ident)? ($ot:ident, $otm:literal, { $($of:ident : $oft:ty),* $(,)? })),* $(,)?],
    ) => {
        mod f {
            use super::*;
            $(pub extern "C" fn $un(x: u64) -> u64 {
                ($unf)(<$unt>::from_cell(x)).to_cell()
            })*
            $(pub extern "C" fn $ut(x: u64, out: *mut u64) -> u32 {
                finish(($utf)(<$utt>::from_cell(x)), out)
            })*
            $(pub extern "C" fn $bn(a: u64, b: u64) -> u64 {
                ($bnf)(<$bnt>::from_cell(a), <$bnt>::from_cell(b)).to_cell()
            })*
            $(pub extern "C" fn $bt(a: u64, b: u64, out: *mut u64) -> u32 {
                finish(($btf)(<$btt>::from_cell(a), <$btt>::from_cell(b)), out)
            })*
        }

        /// The helper for `instr` with its operands `(dst, a, b)`, if it has one.
        pub fn helper(instr: &Instr) -> Option<(Helper, u16, u16, u16)> {
            Some(match *instr {
                $(Instr::$un { dst, src } => (Helper::Unary(f::$un), dst.0, src.0, 0),)*
                $(Instr::$ut { dst, src } => (Helper::UnaryTrap(f::$ut), dst.0, src.0, 0),)*
                $(Instr::$bn { dst, a, b } => (Helper::Binary(f::$bn), dst.0, a.0, b.0),)*
                $(Instr::$bt { dst, a, b } => (Helper::BinaryTrap(f::$bt), dst.0, a.0, b.0),)*
                _ => return None,
            })
        }
    };
}

gloam_interp::for_each_op!(define_helpers);

#[cfg(test)]
mod tests {
    use super::*;
    use gloam_interp::ops::{Dst, Reg};

    #[test]
    fn helpers_follow_the_table() {
        let (h, dst, a, _) = helper(&Instr::F32Min {
            dst: Dst(3),
            a: Reg(1),
            b: Reg(2),
        })
        .unwrap();
        assert_eq!((dst, a), (3, 1));
        let Helper::Binary(f) = h else {
            panic!("f32.min is a binary helper")
        };
        // -0 vs +0 and NaN propagation as the interpreter does them.
        let (neg0, pos0) = ((-0.0f32).to_bits() as u64, 0.0f32.to_bits() as u64);
        assert_eq!(f(pos0, neg0), neg0);
        assert!(f32::from_bits(f(f32::NAN.to_bits() as u64, pos0) as u32).is_nan());

        let (h, ..) = helper(&Instr::I32TruncF64S {
            dst: Dst(0),
            src: Reg(0),
        })
        .unwrap();
        let Helper::UnaryTrap(f) = h else {
            panic!("i32.trunc_f64_s traps")
        };
        let mut out = 0u64;
        assert_eq!(f((-7.9f64).to_bits(), &mut out), 0);
        assert_eq!(out, (-7i32) as u32 as u64);
        assert_eq!(
            f(f64::NAN.to_bits(), &mut out),
            STATUS_TRAP + trap_code(gloam_interp::Trap::BadConversionToInteger)
        );
    }
}
