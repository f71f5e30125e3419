//! Wasm 2.0 fixed-width SIMD (`v128`): the lane math, in portable Rust.
//!
//! # Layout and endianness
//!
//! A [`V128`] is 16 bytes in wasm's lane order: lane `i` of an `NxM` shape (`M`-bit lanes)
//! is bytes `i*M/8 .. (i+1)*M/8`, and each lane is little-endian. That is also the memory
//! layout of `v128.load`/`v128.store`. In a frame a `v128` takes two adjacent cells:
//! cell `r` holds bytes 0..8 as a little-endian `u64`, cell `r + 1` bytes 8..16
//! ([`V128::from_cells`], [`V128::to_cells`]).
//!
//! Every move between bytes and lanes goes through `from_le_bytes`/`to_le_bytes` with an
//! explicit lane index ([`Lane`]): nothing here reinterprets host memory, so a big-endian
//! host computes exactly the same bytes (the `lane_order_is_explicit` test pins this
//! down). On little-endian hosts the conversions compile to plain loads and stores, and
//! the lane loops over fixed-size arrays are simple enough for LLVM to vectorize.
//!
//! # Semantics
//!
//! Integer lanes wrap unless the operator says `_sat`. Shift counts are taken modulo the
//! lane width. Float lanes follow the scalar rules of [`crate::num`]: `min`/`max` propagate
//! NaN and order `-0 < +0`, rounding quiets NaN, `abs`/`neg` only touch the sign bit.
//! Float-to-int conversions saturate (NaN becomes 0), which is exactly Rust's `as`.

use crate::num;
use core::fmt;

/// A `v128` value: 16 bytes in wasm (little-endian) lane order.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Default)]
#[repr(C, align(16))]
pub struct V128(pub [u8; 16]);

impl V128 {
    pub const ZERO: V128 = V128([0; 16]);

    /// The value of two frame cells: `lo` is bytes 0..8, `hi` bytes 8..16 (little-endian).
    #[inline(always)]
    pub fn from_cells(lo: u64, hi: u64) -> V128 {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&lo.to_le_bytes());
        b[8..].copy_from_slice(&hi.to_le_bytes());
        V128(b)
    }

    /// The two frame cells of the value (see [`V128::from_cells`]).
    #[inline(always)]
    pub fn to_cells(self) -> [u64; 2] {
        let (lo, hi) = self.0.split_at(8);
        [u64::from_le_bytes(arr(lo)), u64::from_le_bytes(arr(hi))]
    }

    /// The value as an integer whose bit `8*i + j` is bit `j` of byte `i`.
    pub fn from_u128(v: u128) -> V128 {
        V128(v.to_le_bytes())
    }

    pub fn to_u128(self) -> u128 {
        u128::from_le_bytes(self.0)
    }
}

impl fmt::Debug for V128 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "V128({:#034x})", self.to_u128())
    }
}

#[inline(always)]
fn arr<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(b);
    a
}

/// A lane type: how one lane is read from and written to the 16 bytes.
pub trait Lane: Copy {
    const BYTES: usize;
    /// Lane `i` of `v`.
    fn get(v: &[u8; 16], i: usize) -> Self;
    /// Writes lane `i` of `v`.
    fn put(self, v: &mut [u8; 16], i: usize);
}

macro_rules! impl_lane {
    ($($t:ty),*) => {$(
        impl Lane for $t {
            const BYTES: usize = core::mem::size_of::<$t>();
            #[inline(always)]
            fn get(v: &[u8; 16], i: usize) -> Self {
                <$t>::from_le_bytes(arr(&v[i * Self::BYTES..(i + 1) * Self::BYTES]))
            }
            #[inline(always)]
            fn put(self, v: &mut [u8; 16], i: usize) {
                v[i * Self::BYTES..(i + 1) * Self::BYTES].copy_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
impl_lane!(i8, u8, i16, u16, i32, u32, i64, u64, f32, f64);

/// All `N` lanes of `v` as `T`s (`N * size_of::<T>() == 16`).
#[inline(always)]
pub fn lanes<T: Lane, const N: usize>(v: V128) -> [T; N] {
    const { assert!(N * T::BYTES == 16) };
    core::array::from_fn(|i| T::get(&v.0, i))
}

/// The `v128` whose lanes are `l`.
#[inline(always)]
pub fn from_lanes<T: Lane, const N: usize>(l: [T; N]) -> V128 {
    const { assert!(N * T::BYTES == 16) };
    let mut out = [0u8; 16];
    for (i, x) in l.into_iter().enumerate() {
        x.put(&mut out, i);
    }
    V128(out)
}

#[inline(always)]
fn map<T: Lane, U: Lane, const N: usize>(v: V128, f: impl Fn(T) -> U) -> V128 {
    from_lanes::<U, N>(lanes::<T, N>(v).map(f))
}

#[inline(always)]
fn zip<T: Lane, U: Lane, const N: usize>(a: V128, b: V128, f: impl Fn(T, T) -> U) -> V128 {
    let (a, b) = (lanes::<T, N>(a), lanes::<T, N>(b));
    from_lanes::<U, N>(core::array::from_fn(|i| f(a[i], b[i])))
}

/// An all-ones lane for `true`, all zeros for `false`.
macro_rules! mask {
    ($c:expr, $t:ty) => {
        -(($c) as $t)
    };
}

// ---- lanewise operators ---------------------------------------------------------------

macro_rules! unops {
    ($($name:ident: $t:ty => $u:ty, $n:literal, |$x:ident| $e:expr;)*) => {$(
        #[inline]
        pub fn $name(v: V128) -> V128 {
            map::<$t, $u, $n>(v, |$x: $t| -> $u { $e })
        }
    )*};
}

macro_rules! binops {
    ($($name:ident: $t:ty => $u:ty, $n:literal, |$x:ident, $y:ident| $e:expr;)*) => {$(
        #[inline]
        pub fn $name(a: V128, b: V128) -> V128 {
            zip::<$t, $u, $n>(a, b, |$x: $t, $y: $t| -> $u { $e })
        }
    )*};
}

macro_rules! shifts {
    ($($name:ident: $t:ty, $n:literal, |$x:ident, $s:ident| $e:expr;)*) => {$(
        /// The shift count is taken modulo the lane width.
        #[inline]
        pub fn $name(v: V128, count: u32) -> V128 {
            let $s = count;
            map::<$t, $t, $n>(v, |$x: $t| -> $t { $e })
        }
    )*};
}

unops! {
    v128_not: u64 => u64, 2, |x| !x;

    i8x16_abs: i8 => i8, 16, |x| x.wrapping_abs();
    i8x16_neg: i8 => i8, 16, |x| x.wrapping_neg();
    i8x16_popcnt: u8 => u8, 16, |x| x.count_ones() as u8;
    i16x8_abs: i16 => i16, 8, |x| x.wrapping_abs();
    i16x8_neg: i16 => i16, 8, |x| x.wrapping_neg();
    i32x4_abs: i32 => i32, 4, |x| x.wrapping_abs();
    i32x4_neg: i32 => i32, 4, |x| x.wrapping_neg();
    i64x2_abs: i64 => i64, 2, |x| x.wrapping_abs();
    i64x2_neg: i64 => i64, 2, |x| x.wrapping_neg();

    // Sign-bit operations on the bits, so NaN payloads pass through untouched.
    f32x4_abs: u32 => u32, 4, |x| x & 0x7fff_ffff;
    f32x4_neg: u32 => u32, 4, |x| x ^ 0x8000_0000;
    f64x2_abs: u64 => u64, 2, |x| x & 0x7fff_ffff_ffff_ffff;
    f64x2_neg: u64 => u64, 2, |x| x ^ 0x8000_0000_0000_0000;
    f32x4_sqrt: f32 => f32, 4, |x| num::sqrt32(x);
    f32x4_ceil: f32 => f32, 4, |x| num::ceil32(x);
    f32x4_floor: f32 => f32, 4, |x| num::floor32(x);
    f32x4_trunc: f32 => f32, 4, |x| num::trunc32(x);
    f32x4_nearest: f32 => f32, 4, |x| num::nearest32(x);
    f64x2_sqrt: f64 => f64, 2, |x| num::sqrt64(x);
    f64x2_ceil: f64 => f64, 2, |x| num::ceil64(x);
    f64x2_floor: f64 => f64, 2, |x| num::floor64(x);
    f64x2_trunc: f64 => f64, 2, |x| num::trunc64(x);
    f64x2_nearest: f64 => f64, 2, |x| num::nearest64(x);

    // Rust's float-to-int `as` saturates and maps NaN to 0: exactly `trunc_sat`.
    i32x4_trunc_sat_f32x4_s: f32 => i32, 4, |x| x as i32;
    i32x4_trunc_sat_f32x4_u: f32 => u32, 4, |x| x as u32;
    // Int-to-float `as` rounds to nearest, ties to even.
    f32x4_convert_i32x4_s: i32 => f32, 4, |x| x as f32;
    f32x4_convert_i32x4_u: u32 => f32, 4, |x| x as f32;
}

binops! {
    v128_and: u64 => u64, 2, |a, b| a & b;
    v128_andnot: u64 => u64, 2, |a, b| a & !b;
    v128_or: u64 => u64, 2, |a, b| a | b;
    v128_xor: u64 => u64, 2, |a, b| a ^ b;

    i8x16_add: i8 => i8, 16, |a, b| a.wrapping_add(b);
    i8x16_sub: i8 => i8, 16, |a, b| a.wrapping_sub(b);
    i8x16_add_sat_s: i8 => i8, 16, |a, b| a.saturating_add(b);
    i8x16_add_sat_u: u8 => u8, 16, |a, b| a.saturating_add(b);
    i8x16_sub_sat_s: i8 => i8, 16, |a, b| a.saturating_sub(b);
    i8x16_sub_sat_u: u8 => u8, 16, |a, b| a.saturating_sub(b);
    i8x16_min_s: i8 => i8, 16, |a, b| a.min(b);
    i8x16_min_u: u8 => u8, 16, |a, b| a.min(b);
    i8x16_max_s: i8 => i8, 16, |a, b| a.max(b);
    i8x16_max_u: u8 => u8, 16, |a, b| a.max(b);
    i8x16_avgr_u: u8 => u8, 16, |a, b| ((a as u16 + b as u16 + 1) >> 1) as u8;
    i8x16_eq: i8 => i8, 16, |a, b| mask!(a == b, i8);
    i8x16_ne: i8 => i8, 16, |a, b| mask!(a != b, i8);
    i8x16_lt_s: i8 => i8, 16, |a, b| mask!(a < b, i8);
    i8x16_lt_u: u8 => i8, 16, |a, b| mask!(a < b, i8);
    i8x16_gt_s: i8 => i8, 16, |a, b| mask!(a > b, i8);
    i8x16_gt_u: u8 => i8, 16, |a, b| mask!(a > b, i8);
    i8x16_le_s: i8 => i8, 16, |a, b| mask!(a <= b, i8);
    i8x16_le_u: u8 => i8, 16, |a, b| mask!(a <= b, i8);
    i8x16_ge_s: i8 => i8, 16, |a, b| mask!(a >= b, i8);
    i8x16_ge_u: u8 => i8, 16, |a, b| mask!(a >= b, i8);

    i16x8_add: i16 => i16, 8, |a, b| a.wrapping_add(b);
    i16x8_sub: i16 => i16, 8, |a, b| a.wrapping_sub(b);
    i16x8_mul: i16 => i16, 8, |a, b| a.wrapping_mul(b);
    i16x8_add_sat_s: i16 => i16, 8, |a, b| a.saturating_add(b);
    i16x8_add_sat_u: u16 => u16, 8, |a, b| a.saturating_add(b);
    i16x8_sub_sat_s: i16 => i16, 8, |a, b| a.saturating_sub(b);
    i16x8_sub_sat_u: u16 => u16, 8, |a, b| a.saturating_sub(b);
    i16x8_min_s: i16 => i16, 8, |a, b| a.min(b);
    i16x8_min_u: u16 => u16, 8, |a, b| a.min(b);
    i16x8_max_s: i16 => i16, 8, |a, b| a.max(b);
    i16x8_max_u: u16 => u16, 8, |a, b| a.max(b);
    i16x8_avgr_u: u16 => u16, 8, |a, b| ((a as u32 + b as u32 + 1) >> 1) as u16;
    // (a * b + 2^14) >> 15, saturated: only -32768 * -32768 overflows (to 32768).
    i16x8_q15mulr_sat_s: i16 => i16, 8, |a, b| {
        let p = (a as i32 * b as i32 + 0x4000) >> 15;
        p.clamp(i16::MIN as i32, i16::MAX as i32) as i16
    };
    i16x8_eq: i16 => i16, 8, |a, b| mask!(a == b, i16);
    i16x8_ne: i16 => i16, 8, |a, b| mask!(a != b, i16);
    i16x8_lt_s: i16 => i16, 8, |a, b| mask!(a < b, i16);
    i16x8_lt_u: u16 => i16, 8, |a, b| mask!(a < b, i16);
    i16x8_gt_s: i16 => i16, 8, |a, b| mask!(a > b, i16);
    i16x8_gt_u: u16 => i16, 8, |a, b| mask!(a > b, i16);
    i16x8_le_s: i16 => i16, 8, |a, b| mask!(a <= b, i16);
    i16x8_le_u: u16 => i16, 8, |a, b| mask!(a <= b, i16);
    i16x8_ge_s: i16 => i16, 8, |a, b| mask!(a >= b, i16);
    i16x8_ge_u: u16 => i16, 8, |a, b| mask!(a >= b, i16);

    i32x4_add: i32 => i32, 4, |a, b| a.wrapping_add(b);
    i32x4_sub: i32 => i32, 4, |a, b| a.wrapping_sub(b);
    i32x4_mul: i32 => i32, 4, |a, b| a.wrapping_mul(b);
    i32x4_min_s: i32 => i32, 4, |a, b| a.min(b);
    i32x4_min_u: u32 => u32, 4, |a, b| a.min(b);
    i32x4_max_s: i32 => i32, 4, |a, b| a.max(b);
    i32x4_max_u: u32 => u32, 4, |a, b| a.max(b);
    i32x4_eq: i32 => i32, 4, |a, b| mask!(a == b, i32);
    i32x4_ne: i32 => i32, 4, |a, b| mask!(a != b, i32);
    i32x4_lt_s: i32 => i32, 4, |a, b| mask!(a < b, i32);
    i32x4_lt_u: u32 => i32, 4, |a, b| mask!(a < b, i32);
    i32x4_gt_s: i32 => i32, 4, |a, b| mask!(a > b, i32);
    i32x4_gt_u: u32 => i32, 4, |a, b| mask!(a > b, i32);
    i32x4_le_s: i32 => i32, 4, |a, b| mask!(a <= b, i32);
    i32x4_le_u: u32 => i32, 4, |a, b| mask!(a <= b, i32);
    i32x4_ge_s: i32 => i32, 4, |a, b| mask!(a >= b, i32);
    i32x4_ge_u: u32 => i32, 4, |a, b| mask!(a >= b, i32);

    i64x2_add: i64 => i64, 2, |a, b| a.wrapping_add(b);
    i64x2_sub: i64 => i64, 2, |a, b| a.wrapping_sub(b);
    i64x2_mul: i64 => i64, 2, |a, b| a.wrapping_mul(b);
    i64x2_eq: i64 => i64, 2, |a, b| mask!(a == b, i64);
    i64x2_ne: i64 => i64, 2, |a, b| mask!(a != b, i64);
    i64x2_lt_s: i64 => i64, 2, |a, b| mask!(a < b, i64);
    i64x2_gt_s: i64 => i64, 2, |a, b| mask!(a > b, i64);
    i64x2_le_s: i64 => i64, 2, |a, b| mask!(a <= b, i64);
    i64x2_ge_s: i64 => i64, 2, |a, b| mask!(a >= b, i64);

    f32x4_eq: f32 => i32, 4, |a, b| mask!(a == b, i32);
    f32x4_ne: f32 => i32, 4, |a, b| mask!(a != b, i32);
    f32x4_lt: f32 => i32, 4, |a, b| mask!(a < b, i32);
    f32x4_gt: f32 => i32, 4, |a, b| mask!(a > b, i32);
    f32x4_le: f32 => i32, 4, |a, b| mask!(a <= b, i32);
    f32x4_ge: f32 => i32, 4, |a, b| mask!(a >= b, i32);
    f32x4_add: f32 => f32, 4, |a, b| a + b;
    f32x4_sub: f32 => f32, 4, |a, b| a - b;
    f32x4_mul: f32 => f32, 4, |a, b| a * b;
    f32x4_div: f32 => f32, 4, |a, b| a / b;
    f32x4_min: f32 => f32, 4, |a, b| num::min32(a, b);
    f32x4_max: f32 => f32, 4, |a, b| num::max32(a, b);
    // Pseudo-min/max: `b < a ? b : a` and `a < b ? b : a`, no NaN or zero-sign rules.
    f32x4_pmin: f32 => f32, 4, |a, b| if b < a { b } else { a };
    f32x4_pmax: f32 => f32, 4, |a, b| if a < b { b } else { a };

    f64x2_eq: f64 => i64, 2, |a, b| mask!(a == b, i64);
    f64x2_ne: f64 => i64, 2, |a, b| mask!(a != b, i64);
    f64x2_lt: f64 => i64, 2, |a, b| mask!(a < b, i64);
    f64x2_gt: f64 => i64, 2, |a, b| mask!(a > b, i64);
    f64x2_le: f64 => i64, 2, |a, b| mask!(a <= b, i64);
    f64x2_ge: f64 => i64, 2, |a, b| mask!(a >= b, i64);
    f64x2_add: f64 => f64, 2, |a, b| a + b;
    f64x2_sub: f64 => f64, 2, |a, b| a - b;
    f64x2_mul: f64 => f64, 2, |a, b| a * b;
    f64x2_div: f64 => f64, 2, |a, b| a / b;
    f64x2_min: f64 => f64, 2, |a, b| num::min64(a, b);
    f64x2_max: f64 => f64, 2, |a, b| num::max64(a, b);
    f64x2_pmin: f64 => f64, 2, |a, b| if b < a { b } else { a };
    f64x2_pmax: f64 => f64, 2, |a, b| if a < b { b } else { a };
}

shifts! {
    i8x16_shl: i8, 16, |x, s| x.wrapping_shl(s);
    i8x16_shr_s: i8, 16, |x, s| x.wrapping_shr(s);
    i8x16_shr_u: u8, 16, |x, s| x.wrapping_shr(s);
    i16x8_shl: i16, 8, |x, s| x.wrapping_shl(s);
    i16x8_shr_s: i16, 8, |x, s| x.wrapping_shr(s);
    i16x8_shr_u: u16, 8, |x, s| x.wrapping_shr(s);
    i32x4_shl: i32, 4, |x, s| x.wrapping_shl(s);
    i32x4_shr_s: i32, 4, |x, s| x.wrapping_shr(s);
    i32x4_shr_u: u32, 4, |x, s| x.wrapping_shr(s);
    i64x2_shl: i64, 2, |x, s| x.wrapping_shl(s);
    i64x2_shr_s: i64, 2, |x, s| x.wrapping_shr(s);
    i64x2_shr_u: u64, 2, |x, s| x.wrapping_shr(s);
}

// ---- bitwise select, tests and masks --------------------------------------------------

/// `v128.bitselect`: bits of `a` where `c` is 1, of `b` where it is 0.
#[inline]
pub fn v128_bitselect(a: V128, b: V128, c: V128) -> V128 {
    let (a, b, c) = (lanes::<u64, 2>(a), lanes::<u64, 2>(b), lanes::<u64, 2>(c));
    from_lanes::<u64, 2>(core::array::from_fn(|i| (a[i] & c[i]) | (b[i] & !c[i])))
}

#[inline]
pub fn v128_any_true(v: V128) -> bool {
    v != V128::ZERO
}

macro_rules! all_true_bitmask {
    ($($all:ident, $bitmask:ident: $t:ty, $n:literal;)*) => {$(
        /// Whether every lane is non-zero.
        #[inline]
        pub fn $all(v: V128) -> bool {
            lanes::<$t, $n>(v).iter().all(|&x| x != 0)
        }
        /// Bit `i` of the result is the sign (top) bit of lane `i`.
        #[inline]
        pub fn $bitmask(v: V128) -> u32 {
            lanes::<$t, $n>(v)
                .iter()
                .enumerate()
                .fold(0, |m, (i, &x)| m | ((x < 0) as u32) << i)
        }
    )*};
}
all_true_bitmask! {
    i8x16_all_true, i8x16_bitmask: i8, 16;
    i16x8_all_true, i16x8_bitmask: i16, 8;
    i32x4_all_true, i32x4_bitmask: i32, 4;
    i64x2_all_true, i64x2_bitmask: i64, 2;
}

// ---- lane moves -------------------------------------------------------------------------

/// `i8x16.swizzle`: lane `i` is `a[s[i]]`, or 0 when `s[i]` is out of range (>= 16).
#[inline]
pub fn i8x16_swizzle(a: V128, s: V128) -> V128 {
    V128(core::array::from_fn(|i| {
        let j = s.0[i] as usize;
        if j < 16 { a.0[j] } else { 0 }
    }))
}

/// `i8x16.shuffle`: lane `i` is lane `lanes[i]` of the 32-byte concatenation `a ++ b`.
/// Validation guarantees `lanes[i] < 32`; larger indices (never valid) give 0.
#[inline]
pub fn i8x16_shuffle(a: V128, b: V128, lanes: [u8; 16]) -> V128 {
    V128(core::array::from_fn(|i| {
        let j = lanes[i] as usize;
        match j {
            0..16 => a.0[j],
            16..32 => b.0[j - 16],
            _ => 0,
        }
    }))
}

macro_rules! splats {
    ($($name:ident: $t:ty, $n:literal;)*) => {$(
        #[inline]
        pub fn $name(x: $t) -> V128 {
            from_lanes::<$t, $n>([x; $n])
        }
    )*};
}
// Float splats are bit splats (`f32x4.splat` is `i32x4_splat` of the bits).
splats! {
    i8x16_splat: u8, 16;
    i16x8_splat: u16, 8;
    i32x4_splat: u32, 4;
    i64x2_splat: u64, 2;
}

/// Lane `i` (taken modulo the lane count) of `v` as a `T`.
#[inline]
pub fn extract_lane<T: Lane, const N: usize>(v: V128, i: u8) -> T {
    const { assert!(N * T::BYTES == 16) };
    T::get(&v.0, i as usize % N)
}

/// `v` with lane `i` (modulo the lane count) replaced by `x`.
#[inline]
pub fn replace_lane<T: Lane, const N: usize>(v: V128, i: u8, x: T) -> V128 {
    const { assert!(N * T::BYTES == 16) };
    let mut out = v;
    x.put(&mut out.0, i as usize % N);
    out
}

// ---- widening and narrowing -------------------------------------------------------------

macro_rules! extends {
    ($($low:ident, $high:ident: $t:ty, $n:literal => $u:ty, $m:literal;)*) => {$(
        /// Widens the low half of the lanes.
        #[inline]
        pub fn $low(v: V128) -> V128 {
            let l = lanes::<$t, $n>(v);
            from_lanes::<$u, $m>(core::array::from_fn(|i| l[i] as $u))
        }
        /// Widens the high half of the lanes.
        #[inline]
        pub fn $high(v: V128) -> V128 {
            let l = lanes::<$t, $n>(v);
            from_lanes::<$u, $m>(core::array::from_fn(|i| l[i + $m] as $u))
        }
    )*};
}
extends! {
    i16x8_extend_low_i8x16_s, i16x8_extend_high_i8x16_s: i8, 16 => i16, 8;
    i16x8_extend_low_i8x16_u, i16x8_extend_high_i8x16_u: u8, 16 => u16, 8;
    i32x4_extend_low_i16x8_s, i32x4_extend_high_i16x8_s: i16, 8 => i32, 4;
    i32x4_extend_low_i16x8_u, i32x4_extend_high_i16x8_u: u16, 8 => u32, 4;
    i64x2_extend_low_i32x4_s, i64x2_extend_high_i32x4_s: i32, 4 => i64, 2;
    i64x2_extend_low_i32x4_u, i64x2_extend_high_i32x4_u: u32, 4 => u64, 2;
}

macro_rules! extmuls {
    ($($low:ident, $high:ident: $t:ty, $n:literal => $u:ty, $m:literal;)*) => {$(
        /// Multiplies the widened low halves of the lanes.
        #[inline]
        pub fn $low(a: V128, b: V128) -> V128 {
            let (a, b) = (lanes::<$t, $n>(a), lanes::<$t, $n>(b));
            from_lanes::<$u, $m>(core::array::from_fn(|i| (a[i] as $u).wrapping_mul(b[i] as $u)))
        }
        /// Multiplies the widened high halves of the lanes.
        #[inline]
        pub fn $high(a: V128, b: V128) -> V128 {
            let (a, b) = (lanes::<$t, $n>(a), lanes::<$t, $n>(b));
            from_lanes::<$u, $m>(core::array::from_fn(|i| {
                (a[i + $m] as $u).wrapping_mul(b[i + $m] as $u)
            }))
        }
    )*};
}
extmuls! {
    i16x8_extmul_low_i8x16_s, i16x8_extmul_high_i8x16_s: i8, 16 => i16, 8;
    i16x8_extmul_low_i8x16_u, i16x8_extmul_high_i8x16_u: u8, 16 => u16, 8;
    i32x4_extmul_low_i16x8_s, i32x4_extmul_high_i16x8_s: i16, 8 => i32, 4;
    i32x4_extmul_low_i16x8_u, i32x4_extmul_high_i16x8_u: u16, 8 => u32, 4;
    i64x2_extmul_low_i32x4_s, i64x2_extmul_high_i32x4_s: i32, 4 => i64, 2;
    i64x2_extmul_low_i32x4_u, i64x2_extmul_high_i32x4_u: u32, 4 => u64, 2;
}

macro_rules! extadd_pairwise {
    ($($name:ident: $t:ty, $n:literal => $u:ty, $m:literal;)*) => {$(
        /// Lane `i` is the sum of input lanes `2i` and `2i + 1`, widened (cannot overflow).
        #[inline]
        pub fn $name(v: V128) -> V128 {
            let l = lanes::<$t, $n>(v);
            from_lanes::<$u, $m>(core::array::from_fn(|i| l[2 * i] as $u + l[2 * i + 1] as $u))
        }
    )*};
}
extadd_pairwise! {
    i16x8_extadd_pairwise_i8x16_s: i8, 16 => i16, 8;
    i16x8_extadd_pairwise_i8x16_u: u8, 16 => u16, 8;
    i32x4_extadd_pairwise_i16x8_s: i16, 8 => i32, 4;
    i32x4_extadd_pairwise_i16x8_u: u16, 8 => u32, 4;
}

/// `i32x4.dot_i16x8_s`: lane `i` is `a[2i]*b[2i] + a[2i+1]*b[2i+1]`, wrapping (only
/// `2 * (-32768)^2` overflows, to `i32::MIN`).
#[inline]
pub fn i32x4_dot_i16x8_s(a: V128, b: V128) -> V128 {
    let (a, b) = (lanes::<i16, 8>(a), lanes::<i16, 8>(b));
    from_lanes::<i32, 4>(core::array::from_fn(|i| {
        (a[2 * i] as i32 * b[2 * i] as i32).wrapping_add(a[2 * i + 1] as i32 * b[2 * i + 1] as i32)
    }))
}

macro_rules! narrows {
    ($($name:ident: $t:ty, $n:literal => $u:ty, $m:literal;)*) => {$(
        /// The lanes of `a` then `b`, each saturated to the narrower lane type.
        #[inline]
        pub fn $name(a: V128, b: V128) -> V128 {
            let (a, b) = (lanes::<$t, $n>(a), lanes::<$t, $n>(b));
            let sat = |x: $t| x.clamp(<$u>::MIN as $t, <$u>::MAX as $t) as $u;
            from_lanes::<$u, $m>(core::array::from_fn(|i| {
                if i < $n { sat(a[i]) } else { sat(b[i - $n]) }
            }))
        }
    )*};
}
narrows! {
    i8x16_narrow_i16x8_s: i16, 8 => i8, 16;
    i8x16_narrow_i16x8_u: i16, 8 => u8, 16;
    i16x8_narrow_i32x4_s: i32, 4 => i16, 8;
    i16x8_narrow_i32x4_u: i32, 4 => u16, 8;
}

// ---- conversions between f64x2 and 32-bit lanes ------------------------------------------

/// Saturating truncation of both f64 lanes; the upper two i32 lanes are zero.
#[inline]
pub fn i32x4_trunc_sat_f64x2_s_zero(v: V128) -> V128 {
    let l = lanes::<f64, 2>(v);
    from_lanes::<i32, 4>([l[0] as i32, l[1] as i32, 0, 0])
}

#[inline]
pub fn i32x4_trunc_sat_f64x2_u_zero(v: V128) -> V128 {
    let l = lanes::<f64, 2>(v);
    from_lanes::<u32, 4>([l[0] as u32, l[1] as u32, 0, 0])
}

/// Converts the low two i32 lanes (exactly: every i32 is an f64).
#[inline]
pub fn f64x2_convert_low_i32x4_s(v: V128) -> V128 {
    let l = lanes::<i32, 4>(v);
    from_lanes::<f64, 2>([l[0] as f64, l[1] as f64])
}

#[inline]
pub fn f64x2_convert_low_i32x4_u(v: V128) -> V128 {
    let l = lanes::<u32, 4>(v);
    from_lanes::<f64, 2>([l[0] as f64, l[1] as f64])
}

/// Rounds both f64 lanes to f32 (nearest, ties to even); the upper two lanes are zero.
#[inline]
pub fn f32x4_demote_f64x2_zero(v: V128) -> V128 {
    let l = lanes::<f64, 2>(v);
    from_lanes::<f32, 4>([l[0] as f32, l[1] as f32, 0.0, 0.0])
}

#[inline]
pub fn f64x2_promote_low_f32x4(v: V128) -> V128 {
    let l = lanes::<f32, 4>(v);
    from_lanes::<f64, 2>([l[0] as f64, l[1] as f64])
}

// ---- loads that widen, splat or zero-extend ----------------------------------------------

macro_rules! load_extends {
    ($($name:ident: $t:ty => $u:ty, $m:literal;)*) => {$(
        /// Widens the `8 / size_of` lanes of the 8 loaded bytes.
        #[inline]
        pub fn $name(b: [u8; 8]) -> V128 {
            const W: usize = core::mem::size_of::<$t>();
            from_lanes::<$u, $m>(core::array::from_fn(|i| {
                <$t>::from_le_bytes(arr(&b[i * W..(i + 1) * W])) as $u
            }))
        }
    )*};
}
load_extends! {
    v128_load8x8_s: i8 => i16, 8;
    v128_load8x8_u: u8 => u16, 8;
    v128_load16x4_s: i16 => i32, 4;
    v128_load16x4_u: u16 => u32, 4;
    v128_load32x2_s: i32 => i64, 2;
    v128_load32x2_u: u32 => u64, 2;
}

/// `N` loaded bytes repeated across the vector.
#[inline]
pub fn load_splat<const N: usize>(b: [u8; N]) -> V128 {
    const { assert!(16 % N == 0) };
    V128(core::array::from_fn(|i| b[i % N]))
}

/// `N` loaded bytes in the low lane, zeros elsewhere.
#[inline]
pub fn load_zero<const N: usize>(b: [u8; N]) -> V128 {
    const { assert!(N <= 16) };
    let mut out = V128::ZERO;
    out.0[..N].copy_from_slice(&b);
    out
}

/// `v` with lane `i` (of `N`-byte lanes, modulo the lane count) set to the bytes `b`.
#[inline]
pub fn load_lane<const N: usize>(v: V128, i: u8, b: [u8; N]) -> V128 {
    const { assert!(16 % N == 0) };
    let at = (i as usize % (16 / N)) * N;
    let mut out = v;
    out.0[at..at + N].copy_from_slice(&b);
    out
}

/// The bytes of lane `i` (of `N`-byte lanes, modulo the lane count) of `v`.
#[inline]
pub fn store_lane<const N: usize>(v: V128, i: u8) -> [u8; N] {
    const { assert!(16 % N == 0) };
    let at = (i as usize % (16 / N)) * N;
    arr(&v.0[at..at + N])
}

/// `f32x4.relaxed_madd` (`neg: false`) and `f32x4.relaxed_nmadd` (`neg: true`): the
/// unfused `±(a * b) + c`, one of the results the spec allows, the same on every host.
#[inline]
pub fn f32x4_relaxed_madd(a: V128, b: V128, c: V128, neg: bool) -> V128 {
    let (a, b, c) = (lanes::<f32, 4>(a), lanes::<f32, 4>(b), lanes::<f32, 4>(c));
    from_lanes::<f32, 4>(core::array::from_fn(|i| {
        let p = a[i] * b[i];
        (if neg { -p } else { p }) + c[i]
    }))
}

/// `f64x2.relaxed_madd` / `f64x2.relaxed_nmadd`, as [`f32x4_relaxed_madd`].
#[inline]
pub fn f64x2_relaxed_madd(a: V128, b: V128, c: V128, neg: bool) -> V128 {
    let (a, b, c) = (lanes::<f64, 2>(a), lanes::<f64, 2>(b), lanes::<f64, 2>(c));
    from_lanes::<f64, 2>(core::array::from_fn(|i| {
        let p = a[i] * b[i];
        (if neg { -p } else { p }) + c[i]
    }))
}

/// `i16x8.relaxed_dot_i8x16_i7x16_s`: both operands read as signed bytes; each lane is
/// the saturated sum of a pair of products (exact whenever `b`'s bytes fit in 7 bits).
#[inline]
pub fn i16x8_relaxed_dot_i8x16_i7x16_s(a: V128, b: V128) -> V128 {
    let (a, b) = (lanes::<i8, 16>(a), lanes::<i8, 16>(b));
    from_lanes::<i16, 8>(core::array::from_fn(|i| {
        let sum = a[2 * i] as i32 * b[2 * i] as i32 + a[2 * i + 1] as i32 * b[2 * i + 1] as i32;
        sum.clamp(i16::MIN as i32, i16::MAX as i32) as i16
    }))
}

/// `i32x4.relaxed_dot_i8x16_i7x16_add_s`, as the spec defines it: the `i16x8` relaxed
/// dot product (pair sums saturated), its lanes added pairwise into `i32`, plus `c`'s
/// lane (wrapping).
#[inline]
pub fn i32x4_relaxed_dot_i8x16_i7x16_add_s(a: V128, b: V128, c: V128) -> V128 {
    let pairs = lanes::<i16, 8>(i16x8_relaxed_dot_i8x16_i7x16_s(a, b));
    let c = lanes::<i32, 4>(c);
    from_lanes::<i32, 4>(core::array::from_fn(|i| {
        (pairs[2 * i] as i32 + pairs[2 * i + 1] as i32).wrapping_add(c[i])
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i8s(l: [i8; 16]) -> V128 {
        from_lanes::<i8, 16>(l)
    }
    fn i16s(l: [i16; 8]) -> V128 {
        from_lanes::<i16, 8>(l)
    }
    fn i32s(l: [i32; 4]) -> V128 {
        from_lanes::<i32, 4>(l)
    }
    fn f32s(l: [f32; 4]) -> V128 {
        from_lanes::<f32, 4>(l)
    }
    fn f64s(l: [f64; 2]) -> V128 {
        from_lanes::<f64, 2>(l)
    }

    /// Lane order is defined by byte positions, never by host memory order: these
    /// expectations are the same on big- and little-endian hosts.
    #[test]
    fn lane_order_is_explicit() {
        let v = V128::from_cells(0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);
        assert_eq!(v.0, core::array::from_fn(|i| i as u8));
        assert_eq!(lanes::<u16, 8>(v)[0], 0x0100);
        assert_eq!(lanes::<u32, 4>(v)[3], 0x0f0e_0d0c);
        assert_eq!(
            lanes::<u64, 2>(v),
            [0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908]
        );
        assert_eq!(v.to_u128(), 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100);
        assert_eq!(v.to_cells(), [0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908]);
        assert_eq!(V128::from_u128(v.to_u128()), v);
        let w = replace_lane::<u32, 4>(V128::ZERO, 1, 0xaabb_ccdd);
        assert_eq!(&w.0[4..8], &[0xdd, 0xcc, 0xbb, 0xaa]);
        assert_eq!(extract_lane::<u16, 8>(v, 7), 0x0f0e);
        assert_eq!(i32x4_bitmask(i32s([-1, 0, -1, 0])), 0b0101);
    }

    #[test]
    fn swizzle_out_of_range_lanes_are_zero() {
        let a = V128(core::array::from_fn(|i| 0x10 + i as u8));
        let mut s = [0u8; 16];
        s[0] = 15;
        s[1] = 16;
        s[2] = 0x80;
        s[3] = 0xff;
        s[4] = 3;
        let r = i8x16_swizzle(a, V128(s));
        assert_eq!(&r.0[..5], &[0x1f, 0, 0, 0, 0x13]);
        let lanes: [u8; 16] = core::array::from_fn(|i| {
            if i % 2 == 0 {
                15 - i as u8
            } else {
                16 + i as u8
            }
        });
        let b = V128(core::array::from_fn(|i| 0xe0 + i as u8));
        let r = i8x16_shuffle(a, b, lanes);
        assert_eq!(&r.0[..3], &[0x1f, 0xe1, 0x1d]);
        assert_eq!(&r.0[14..], &[0x11, 0xef]);
    }

    #[test]
    fn q15mulr_saturates_and_rounds() {
        let r = i16x8_q15mulr_sat_s(
            i16s([i16::MIN, i16::MIN, 0x4000, -0x4000, 1, -1, 0x7fff, 3]),
            i16s([
                i16::MIN,
                i16::MAX,
                0x4000,
                0x4000,
                0x4000,
                0x4000,
                0x7fff,
                -0x5555,
            ]),
        );
        assert_eq!(
            lanes::<i16, 8>(r),
            // -32768^2 saturates; 0x4000^2 = 2^28 -> 0x2000; 1*0x4000 rounds 0.5 up to 1;
            // -1*0x4000 rounds -0.5 up to 0.
            [i16::MAX, -32767, 0x2000, -0x2000, 1, 0, 0x7ffe, -2]
        );
    }

    #[test]
    fn nearest_ties_to_even() {
        let r = f32x4_nearest(f32s([0.5, 1.5, 2.5, -2.5]));
        assert_eq!(lanes::<f32, 4>(r), [0.0, 2.0, 2.0, -2.0]);
        assert!(lanes::<f32, 4>(f32x4_nearest(f32s([-0.5, 0.0, 0.0, 0.0])))[0].is_sign_negative());
        let r = f64x2_nearest(f64s([4.5, -3.5]));
        assert_eq!(lanes::<f64, 2>(r), [4.0, -4.0]);
        let nan = f32::from_bits(0x7fa0_0000); // signalling NaN comes out quiet
        let bits = lanes::<u32, 4>(f32x4_nearest(f32s([nan, 0.0, 0.0, 0.0])))[0];
        assert_eq!(bits & 0x7fc0_0000, 0x7fc0_0000);
    }

    #[test]
    fn trunc_sat_nan_and_bounds() {
        let v = f32s([f32::NAN, -f32::NAN, 3e9, -3e9]);
        assert_eq!(
            lanes::<i32, 4>(i32x4_trunc_sat_f32x4_s(v)),
            [0, 0, i32::MAX, i32::MIN]
        );
        assert_eq!(
            lanes::<u32, 4>(i32x4_trunc_sat_f32x4_u(v)),
            [0, 0, 3_000_000_000, 0]
        );
        let v = f32s([-0.9, 4294967296.0, 1.9, -1.0]);
        assert_eq!(
            lanes::<u32, 4>(i32x4_trunc_sat_f32x4_u(v)),
            [0, u32::MAX, 1, 0]
        );
        let v = f64s([f64::NAN, -1e300]);
        assert_eq!(
            lanes::<i32, 4>(i32x4_trunc_sat_f64x2_s_zero(v)),
            [0, i32::MIN, 0, 0]
        );
        let v = f64s([4294967295.5, -0.5]);
        assert_eq!(
            lanes::<u32, 4>(i32x4_trunc_sat_f64x2_u_zero(v)),
            [u32::MAX, 0, 0, 0]
        );
    }

    #[test]
    fn saturating_narrowing_and_widening() {
        let a = i16s([300, -300, 127, -128, 255, 0, -1, 128]);
        let r = i8x16_narrow_i16x8_s(a, a);
        assert_eq!(
            lanes::<i8, 16>(r)[..8],
            [127, -128, 127, -128, 127, 0, -1, 127]
        );
        let r = i8x16_narrow_i16x8_u(a, a);
        assert_eq!(lanes::<u8, 16>(r)[8..], [255, 0, 127, 0, 255, 0, 0, 128]);
        let r = i8x16_add_sat_u(i8s([-1; 16]), i8s([1; 16]));
        assert_eq!(lanes::<u8, 16>(r), [255; 16]);
        let r = i8x16_sub_sat_s(i8s([-128; 16]), i8s([1; 16]));
        assert_eq!(lanes::<i8, 16>(r), [-128; 16]);
        let r = i16x8_extend_high_i8x16_u(i8s(core::array::from_fn(|i| -(i as i8))));
        assert_eq!(lanes::<u16, 8>(r), [248, 247, 246, 245, 244, 243, 242, 241]);
        let r = i32x4_dot_i16x8_s(i16s([i16::MIN; 8]), i16s([i16::MIN; 8]));
        assert_eq!(lanes::<i32, 4>(r), [i32::MIN; 4]);
        let r = i64x2_extmul_high_i32x4_u(i32s([0, 0, -1, 2]), i32s([0, 0, -1, 3]));
        assert_eq!(lanes::<u64, 2>(r), [0xffff_fffe_0000_0001, 6]);
    }

    #[test]
    fn float_min_max_and_pseudo() {
        let a = f32s([0.0, -0.0, f32::NAN, 1.0]);
        let b = f32s([-0.0, 0.0, 1.0, f32::NAN]);
        let min = lanes::<f32, 4>(f32x4_min(a, b));
        assert!(min[0].is_sign_negative() && min[1].is_sign_negative());
        assert!(min[2].is_nan() && min[3].is_nan());
        let pmin = lanes::<f32, 4>(f32x4_pmin(a, b));
        assert!(pmin[0].is_sign_positive() && pmin[1].is_sign_negative());
        assert!(pmin[2].is_nan() && pmin[3] == 1.0);
        let neg = lanes::<u32, 4>(f32x4_neg(f32s([
            f32::from_bits(0x7fa0_0001),
            0.0,
            1.0,
            -1.0,
        ])));
        assert_eq!(neg, [0xffa0_0001, 0x8000_0000, 0xbf80_0000, 0x3f80_0000]);
    }

    #[test]
    fn shifts_masks_and_tests() {
        let v = i8s([-128; 16]);
        assert_eq!(lanes::<i8, 16>(i8x16_shr_s(v, 9)), [-64; 16]);
        assert_eq!(lanes::<u8, 16>(i8x16_shr_u(v, 7)), [1; 16]);
        assert_eq!(
            lanes::<i64, 2>(i64x2_shl(from_lanes::<i64, 2>([1, 1]), 65)),
            [2, 2]
        );
        assert_eq!(i8x16_bitmask(v), 0xffff);
        assert!(i8x16_all_true(v));
        assert!(!i16x8_all_true(i16s([1, 1, 1, 1, 1, 1, 1, 0])));
        assert!(v128_any_true(i16s([0, 0, 0, 0, 0, 0, 0, 1])));
        assert!(!v128_any_true(V128::ZERO));
        assert_eq!(lanes::<u8, 16>(i8x16_popcnt(i8s([-1; 16]))), [8; 16]);
        let sel = v128_bitselect(i32s([-1; 4]), V128::ZERO, i32s([0x0f0f_0f0f; 4]));
        assert_eq!(lanes::<i32, 4>(sel), [0x0f0f_0f0f; 4]);
    }

    #[test]
    fn loads_and_lanes() {
        assert_eq!(
            lanes::<i16, 8>(v128_load8x8_s([0x80, 1, 2, 3, 4, 5, 6, 0xff])),
            [-128, 1, 2, 3, 4, 5, 6, -1]
        );
        assert_eq!(lanes::<u32, 4>(load_splat([1, 2, 3, 4])), [0x0403_0201; 4]);
        assert_eq!(
            lanes::<u64, 2>(load_zero([1, 0, 0, 0, 0, 0, 0, 2])),
            [0x0200_0000_0000_0001, 0]
        );
        let v = load_lane(V128::ZERO, 1, [0xaa, 0xbb]);
        assert_eq!(lanes::<u16, 8>(v)[1], 0xbbaa);
        assert_eq!(store_lane::<2>(v, 1), [0xaa, 0xbb]);
    }
}
