//! Numeric helpers with exact WebAssembly semantics, shared by the executor and tests.
//!
//! Everything here is plain Rust over `f32`/`f64` bit patterns and integers: the same
//! results on every host.

use crate::trap::Trap;

pub fn min32(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        a + b
    } else if a == b {
        f32::from_bits(a.to_bits() | b.to_bits())
    } else if a < b {
        a
    } else {
        b
    }
}

pub fn max32(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        a + b
    } else if a == b {
        f32::from_bits(a.to_bits() & b.to_bits())
    } else if a > b {
        a
    } else {
        b
    }
}

pub fn min64(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        a + b
    } else if a == b {
        f64::from_bits(a.to_bits() | b.to_bits())
    } else if a < b {
        a
    } else {
        b
    }
}

pub fn max64(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        a + b
    } else if a == b {
        f64::from_bits(a.to_bits() & b.to_bits())
    } else if a > b {
        a
    } else {
        b
    }
}

// Rounding: NaN inputs must come out as quiet NaNs; `x + x` quiets a signalling NaN.
macro_rules! rounding {
    ($($name:ident: $t:ty => $method:ident;)*) => {$(
        pub fn $name(x: $t) -> $t {
            if x.is_nan() { x + x } else { fmath::$method(x) }
        }
    )*};
}
rounding! {
    ceil32: f32 => ceil32;
    floor32: f32 => floor32;
    trunc32: f32 => trunc32;
    nearest32: f32 => round_ties_even32;
    sqrt32: f32 => sqrt32;
    ceil64: f64 => ceil64;
    floor64: f64 => floor64;
    trunc64: f64 => trunc64;
    nearest64: f64 => round_ties_even64;
    sqrt64: f64 => sqrt64;
}

/// The float operations that live in `std`, not `core`: the std methods in hosted builds,
/// `libm` without `std`. All of them are exact in IEEE 754 (correctly rounded square root,
/// integral rounding), so both routes give bit-identical results.
mod fmath {
    macro_rules! fmath {
        ($($name:ident: $t:ty => $method:ident, $libm:ident;)*) => {$(
            #[inline]
            pub(crate) fn $name(x: $t) -> $t {
                #[cfg(feature = "std")]
                return x.$method();
                #[cfg(not(feature = "std"))]
                return libm::$libm(x);
            }
        )*};
    }
    fmath! {
        ceil32: f32 => ceil, ceilf;
        floor32: f32 => floor, floorf;
        trunc32: f32 => trunc, truncf;
        round_ties_even32: f32 => round_ties_even, roundevenf;
        sqrt32: f32 => sqrt, sqrtf;
        ceil64: f64 => ceil, ceil;
        floor64: f64 => floor, floor;
        trunc64: f64 => trunc, trunc;
        round_ties_even64: f64 => round_ties_even, roundeven;
        sqrt64: f64 => sqrt, sqrt;
    }
}

// Float to int with traps. `lo` and `hi` bound the truncated value: lo <= t < hi.
macro_rules! trunc_checked {
    ($($name:ident: $f:ty => $i:ty as $out:ty, $lo:expr, $hi:expr, $trunc:ident;)*) => {$(
        pub fn $name(x: $f) -> Result<$out, Trap> {
            if x.is_nan() {
                return Err(Trap::BadConversionToInteger);
            }
            let t = fmath::$trunc(x);
            if ($lo..$hi).contains(&t) {
                Ok(t as $i as $out)
            } else {
                Err(Trap::IntegerOverflow)
            }
        }
    )*};
}
trunc_checked! {
    trunc_f32_i32: f32 => i32 as i32, -2147483648.0, 2147483648.0, trunc32;
    trunc_f32_u32: f32 => u32 as i32, -0.0, 4294967296.0, trunc32;
    trunc_f64_i32: f64 => i32 as i32, -2147483648.0, 2147483648.0, trunc64;
    trunc_f64_u32: f64 => u32 as i32, -0.0, 4294967296.0, trunc64;
    trunc_f32_i64: f32 => i64 as i64, -9223372036854775808.0, 9223372036854775808.0, trunc32;
    trunc_f32_u64: f32 => u64 as i64, -0.0, 18446744073709551616.0, trunc32;
    trunc_f64_i64: f64 => i64 as i64, -9223372036854775808.0, 9223372036854775808.0, trunc64;
    trunc_f64_u64: f64 => u64 as i64, -0.0, 18446744073709551616.0, trunc64;
}

// For the unsigned cases `t >= -0.0` admits every t in (-1, 0), which truncates to -0.0.

macro_rules! divisions {
    ($($t:ty, $u:ty: $div_s:ident, $div_u:ident, $rem_s:ident, $rem_u:ident;)*) => {$(
        pub fn $div_s(a: $t, b: $t) -> Result<$t, Trap> {
            if b == 0 {
                Err(Trap::IntegerDivisionByZero)
            } else if a == <$t>::MIN && b == -1 {
                Err(Trap::IntegerOverflow)
            } else {
                Ok(a / b)
            }
        }
        pub fn $div_u(a: $t, b: $t) -> Result<$t, Trap> {
            if b == 0 { Err(Trap::IntegerDivisionByZero) } else { Ok(((a as $u) / (b as $u)) as $t) }
        }
        pub fn $rem_s(a: $t, b: $t) -> Result<$t, Trap> {
            if b == 0 { Err(Trap::IntegerDivisionByZero) } else { Ok(a.wrapping_rem(b)) }
        }
        pub fn $rem_u(a: $t, b: $t) -> Result<$t, Trap> {
            if b == 0 { Err(Trap::IntegerDivisionByZero) } else { Ok(((a as $u) % (b as $u)) as $t) }
        }
    )*};
}
divisions! {
    i32, u32: div_s32, div_u32, rem_s32, rem_u32;
    i64, u64: div_s64, div_u64, rem_s64, rem_u64;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_max_signed_zero_and_nan() {
        assert!(min32(0.0, -0.0).is_sign_negative());
        assert!(max32(-0.0, 0.0).is_sign_positive());
        assert!(min64(f64::NAN, 1.0).is_nan());
        assert_eq!(max64(1.0, 2.0), 2.0);
    }

    #[test]
    fn truncation_bounds() {
        assert_eq!(trunc_f32_i32(-2147483648.0), Ok(i32::MIN));
        assert_eq!(trunc_f32_i32(2147483648.0), Err(Trap::IntegerOverflow));
        assert_eq!(trunc_f64_u32(-0.9), Ok(0));
        assert_eq!(trunc_f64_u32(-1.0), Err(Trap::IntegerOverflow));
        assert_eq!(trunc_f64_u32(4294967295.9), Ok(-1));
        assert_eq!(trunc_f32_u64(f32::NAN), Err(Trap::BadConversionToInteger));
        assert_eq!(trunc_f64_u64(18446744073709549568.0), Ok(-2048));
        assert_eq!(div_s32(i32::MIN, -1), Err(Trap::IntegerOverflow));
        assert_eq!(rem_s32(i32::MIN, -1), Ok(0));
        assert_eq!(div_u64(1, 0), Err(Trap::IntegerDivisionByZero));
    }

    #[test]
    fn nearest_ties_to_even() {
        assert_eq!(nearest32(2.5), 2.0);
        assert_eq!(nearest64(-3.5), -4.0);
        assert!(nearest64(-0.4).is_sign_negative());
    }
}
