// SIMD workload for gloam: three small image/signal kernels, written twice.
//
// Built with -msimd128 (__wasm_simd128__ defined) every kernel uses the explicit
// wasm_simd128.h intrinsics; built without it, the same file gives the scalar twin.
// Both builds compute bit-identical results, so `run(n)` returns the same checksum:
//   - blur:  3x3 box blur of a 256x256 u8 image (u8 -> u16 widening adds, a Q15
//            multiply by 1/9, saturating narrow), then a saturating brightness step
//   - count: pixels brighter than 128 (u8 compare, bitmask, popcount)
//   - dot:   i16 dot product of 4096 elements (i32x4.dot_i16x8_s)
//   - saxpy: y = a*x + y over 4096 f32, summed in 4 lanes in a fixed order
// Freestanding: no libc, no imports. Exports `run(n) -> i64` and `memory`.
// Written for the gloam benchmark set; MIT OR Apache-2.0.

#include <stdint.h>
#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

#define W 256
#define H 256
#define N 4096

static uint8_t img_a[W * H], img_b[W * H];
static int16_t va[N], vb[N];
static float fx[N], fy[N];

static uint32_t rng;
static uint32_t next(void) {
    rng = rng * 1664525u + 1013904223u;
    return rng >> 8;
}

static void init(void) {
    rng = 12345;
    for (int i = 0; i < W * H; i++) img_a[i] = (uint8_t)next();
    for (int i = 0; i < W * H; i++) img_b[i] = 0;
    for (int i = 0; i < N; i++) {
        va[i] = (int16_t)((int)(next() % 1001) - 500);
        vb[i] = (int16_t)((int)(next() % 1001) - 500);
        fx[i] = (float)((int)(next() % 2001) - 1000) * 0.001f;
        fy[i] = (float)((int)(next() % 2001) - 1000) * 0.01f;
    }
}

// (s * 3641 + 2^14) >> 15 is round(s / 9) for 0 <= s <= 9*255: i16x8.q15mulr_sat_s.
static uint8_t div9(int s) { return (uint8_t)((s * 3641 + 16384) >> 15); }

static uint8_t blur_px(const uint8_t *src, int y, int x) {
    int s = 0;
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) s += src[(y + dy) * W + x + dx];
    return div9(s);
}

// Interior pixels only; the border keeps dst's previous value.
static void blur(const uint8_t *src, uint8_t *dst) {
    for (int y = 1; y < H - 1; y++) {
        int x = 1;
#ifdef __wasm_simd128__
        const v128_t k = wasm_i16x8_splat(3641);
        for (; x + 16 <= W - 1; x += 16) {
            v128_t lo = wasm_i16x8_splat(0), hi = wasm_i16x8_splat(0);
            for (int dy = -1; dy <= 1; dy++) {
                const uint8_t *row = src + (y + dy) * W + x;
                for (int dx = -1; dx <= 1; dx++) {
                    v128_t p = wasm_v128_load(row + dx);
                    lo = wasm_i16x8_add(lo, wasm_u16x8_extend_low_u8x16(p));
                    hi = wasm_i16x8_add(hi, wasm_u16x8_extend_high_u8x16(p));
                }
            }
            lo = wasm_i16x8_q15mulr_sat(lo, k);
            hi = wasm_i16x8_q15mulr_sat(hi, k);
            wasm_v128_store(dst + y * W + x, wasm_u8x16_narrow_i16x8(lo, hi));
        }
#endif
        for (; x < W - 1; x++) dst[y * W + x] = blur_px(src, y, x);
    }
}

// Saturating brightness step: px = min(px + b, 255).
static void brighten(uint8_t *p, int b) {
    int i = 0;
#ifdef __wasm_simd128__
    const v128_t vb8 = wasm_u8x16_splat((uint8_t)b);
    for (; i + 16 <= W * H; i += 16)
        wasm_v128_store(p + i, wasm_u8x16_add_sat(wasm_v128_load(p + i), vb8));
#endif
    for (; i < W * H; i++) {
        int v = p[i] + b;
        p[i] = (uint8_t)(v > 255 ? 255 : v);
    }
}

static int count_bright(const uint8_t *p) {
    int n = 0, i = 0;
#ifdef __wasm_simd128__
    const v128_t t = wasm_u8x16_splat(128);
    for (; i + 16 <= W * H; i += 16)
        n += __builtin_popcount(wasm_i8x16_bitmask(wasm_u8x16_gt(wasm_v128_load(p + i), t)));
#endif
    for (; i < W * H; i++) n += p[i] > 128;
    return n;
}

static int64_t dot(void) {
    int i = 0;
    int32_t lane[4] = {0, 0, 0, 0};
#ifdef __wasm_simd128__
    v128_t acc = wasm_i32x4_splat(0);
    for (; i + 8 <= N; i += 8)
        acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_v128_load(va + i), wasm_v128_load(vb + i)));
    lane[0] = wasm_i32x4_extract_lane(acc, 0);
    lane[1] = wasm_i32x4_extract_lane(acc, 1);
    lane[2] = wasm_i32x4_extract_lane(acc, 2);
    lane[3] = wasm_i32x4_extract_lane(acc, 3);
#endif
    // Lane j of the dot product sums elements 8k + 2j and 8k + 2j + 1.
    for (; i < N; i++) lane[(i % 8) / 2] += va[i] * vb[i];
    return (int64_t)lane[0] + lane[1] + lane[2] + lane[3];
}

// y = a*x + y, then the sum of y in 4 lanes (lane j sums elements 4k + j), reduced as
// (l0 + l1) + (l2 + l3): the same float operations in the same order in both builds.
static float saxpy(float a) {
    int i = 0;
    float l[4] = {0, 0, 0, 0};
#ifdef __wasm_simd128__
    const v128_t va4 = wasm_f32x4_splat(a);
    v128_t s = wasm_f32x4_splat(0);
    for (; i + 4 <= N; i += 4) {
        v128_t y = wasm_f32x4_add(wasm_f32x4_mul(va4, wasm_v128_load(fx + i)), wasm_v128_load(fy + i));
        wasm_v128_store(fy + i, y);
        s = wasm_f32x4_add(s, y);
    }
    l[0] = wasm_f32x4_extract_lane(s, 0);
    l[1] = wasm_f32x4_extract_lane(s, 1);
    l[2] = wasm_f32x4_extract_lane(s, 2);
    l[3] = wasm_f32x4_extract_lane(s, 3);
#endif
    for (; i < N; i++) {
        fy[i] = a * fx[i] + fy[i];
        l[i % 4] += fy[i];
    }
    return (l[0] + l[1]) + (l[2] + l[3]);
}

static uint32_t f32_bits(float f) {
    union { float f; uint32_t u; } c = {f};
    return c.u;
}

__attribute__((export_name("run"))) int64_t run(int n) {
    init();
    uint64_t h = 1469598103934665603ull;
    uint8_t *src = img_a, *dst = img_b;
    for (int it = 0; it < n; it++) {
        blur(src, dst);
        brighten(dst, it & 3);
        int64_t d = dot();
        float s = saxpy(it % 2 ? 0.5f : -0.25f);
        int c = count_bright(dst);
        h = (h ^ (uint64_t)d) * 1099511628211ull;
        h = (h ^ f32_bits(s)) * 1099511628211ull;
        h = (h ^ (uint64_t)c) * 1099511628211ull;
        uint8_t *t = src;
        src = dst;
        dst = t;
    }
    for (int i = 0; i < W * H; i++) h = (h ^ src[i]) * 1099511628211ull;
    return (int64_t)h;
}
