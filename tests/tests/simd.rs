//! `v128` everywhere a value goes: calls (arguments and results are laid out by cells, a
//! v128 taking two), host functions (dynamic and typed), `call_indirect`, block params and
//! results through `br_table`, `select`, zeroed locals, globals and the API; the
//! disassembly of SIMD instructions; and the SIMD benchmark workload (same checksum as its
//! scalar twin, no allocation while it runs).

use gloam::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Only the measuring thread counts (the test harness allocates on its own threads).
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.try_with(Cell::get).unwrap_or(false) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const WAT: &str = r#"(module
  (import "env" "dyn" (func $dyn (param v128 i32 v128) (result i32 v128)))
  (import "env" "typed" (func $typed (param i32 v128) (result v128)))
  (import "env" "g" (global $g (mut v128)))
  (global $h (export "h") (mut v128) (v128.const i32x4 1 2 3 4))
  (type $t (func (param v128 v128) (result v128 v128)))
  (table 2 funcref)
  (elem (i32.const 0) $swap $addall)
  (func $swap (type $t) (local.get 1) (local.get 0))
  (func $addall (type $t) (i32x4.add (local.get 0) (local.get 1)) (local.get 1))

  ;; cells: a = 0, x = 1..3, b = 3, y = 4..6
  (func (export "mix") (param $a i32) (param $x v128) (param $b i64) (param $y v128)
                       (result v128 i32 v128)
    (i32x4.add (local.get $x) (i32x4.splat (local.get $a)))
    (i32.wrap_i64 (local.get $b))
    (i64x2.add (local.get $y) (i64x2.splat (local.get $b))))

  (func (export "host") (param $x v128) (result i32 v128 v128)
    (call $dyn (local.get $x) (i32.const 7) (v128.const i64x2 -1 5))
    (call $typed (i32.const 3) (local.get $x)))

  (func (export "indirect") (param $i i32) (param $x v128) (param $y v128) (result v128 v128)
    (call_indirect (type $t) (local.get $x) (local.get $y) (local.get $i)))

  ;; i = 0: (x + 1) * 2; i = 1: x * 2; otherwise x.
  (func (export "blocks") (param $i i32) (param $x v128) (result v128)
    (local.get $x)
    (block $b2 (param v128) (result v128)
      (block $b1 (param v128) (result v128)
        (block $b0 (param v128) (result v128)
          (br_table $b0 $b1 $b2 (local.get $i)))
        (i32x4.add (v128.const i32x4 1 1 1 1)))
      (i32x4.mul (v128.const i32x4 2 2 2 2))))

  (func (export "sel") (param $c i32) (param $x v128) (param $y v128) (result v128)
    (select (result v128) (local.get $x) (local.get $y) (local.get $c)))

  (func $dirty (param v128) (result v128) (local v128 v128)
    (local.set 1 (local.get 0))
    (local.set 2 (local.get 0))
    (local.get 2))
  (func $fresh (result v128) (local v128 i32 v128) (local.get 2))
  (func (export "zeroed") (param $x v128) (result v128)
    (drop (call $dirty (local.get $x)))
    (call $fresh))

  (func (export "globals") (param $x v128) (result v128 v128)
    (global.set $g (i32x4.add (global.get $g) (local.get $x)))
    (global.set $h (local.get $x))
    (global.get $g)
    (global.get $h))
)"#;

fn v(lanes: [u32; 4]) -> V128 {
    let mut x = 0u128;
    for (i, l) in lanes.iter().enumerate() {
        x |= (*l as u128) << (32 * i);
    }
    V128::from(x)
}

fn lanes(x: &Val) -> [u32; 4] {
    let x = x.unwrap_v128().as_u128();
    std::array::from_fn(|i| (x >> (32 * i)) as u32)
}

fn setup(config: &Config) -> Result<(Store<()>, Instance, Global)> {
    let engine = Engine::new(config)?;
    let module = Module::new(&engine, WAT)?;
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.func_new(
        "env",
        "dyn",
        FuncType::new(
            [ValType::V128, ValType::I32, ValType::V128],
            [ValType::I32, ValType::V128],
        ),
        |_, params, results| {
            let (a, n, b) = (lanes(&params[0]), params[1].unwrap_i32(), lanes(&params[2]));
            results[0] = Val::I32(n + a[0] as i32);
            results[1] = Val::V128(v(std::array::from_fn(|i| a[i] ^ b[i])));
            Ok(())
        },
    )?;
    linker.func_wrap("env", "typed", |n: i32, x: V128| -> V128 {
        V128::from(x.as_u128().rotate_left(8 * n as u32))
    })?;
    let g = Global::new(
        &mut store,
        GlobalType::new(ValType::V128, Mutability::Var),
        Val::V128(v([10, 20, 30, 40])),
    )?;
    linker.define(&store, "env", "g", g)?;
    let instance = linker.instantiate(&mut store, &module)?;
    Ok((store, instance, g))
}

fn call(store: &mut Store<()>, instance: &Instance, name: &str, args: &[Val]) -> Vec<Val> {
    let f = instance.get_func(&mut *store, name).unwrap();
    let mut results: Vec<Val> = f
        .ty(&*store)
        .results()
        .iter()
        .map(|t| Val::default_for_ty(*t))
        .collect();
    f.call(&mut *store, args, &mut results).unwrap();
    results
}

fn check_all(config: &Config) -> Result<()> {
    let (mut store, instance, g) = setup(config)?;
    let s = &mut store;

    let r = call(
        s,
        &instance,
        "mix",
        &[
            Val::I32(5),
            Val::V128(v([1, 2, 3, 4])),
            Val::I64(0x1_0000_0007),
            Val::V128(v([0, 1, 2, 3])),
        ],
    );
    assert_eq!(lanes(&r[0]), [6, 7, 8, 9]);
    assert_eq!(r[1].unwrap_i32(), 7);
    assert_eq!(lanes(&r[2]), [7, 2, 9, 4]);

    let x = v([0x11, 0x22, 0x33, 0x44]);
    let r = call(s, &instance, "host", &[Val::V128(x)]);
    assert_eq!(r[0].unwrap_i32(), 7 + 0x11);
    assert_eq!(lanes(&r[1]), [!0x11, !0x22, 0x33 ^ 5, 0x44]);
    assert_eq!(r[2].unwrap_v128().as_u128(), x.as_u128().rotate_left(24));

    let (a, b) = (v([1, 2, 3, 4]), v([10, 20, 30, 40]));
    let r = call(
        s,
        &instance,
        "indirect",
        &[Val::I32(0), Val::V128(a), Val::V128(b)],
    );
    assert_eq!(
        (lanes(&r[0]), lanes(&r[1])),
        ([10, 20, 30, 40], [1, 2, 3, 4])
    );
    let r = call(
        s,
        &instance,
        "indirect",
        &[Val::I32(1), Val::V128(a), Val::V128(b)],
    );
    assert_eq!(
        (lanes(&r[0]), lanes(&r[1])),
        ([11, 22, 33, 44], [10, 20, 30, 40])
    );

    for (i, want) in [
        (0, [4, 6, 8, 10]),
        (1, [2, 4, 6, 8]),
        (2, [1, 2, 3, 4]),
        (9, [1, 2, 3, 4]),
    ] {
        let r = call(s, &instance, "blocks", &[Val::I32(i), Val::V128(a)]);
        assert_eq!(lanes(&r[0]), want, "blocks {i}");
    }

    let r = call(
        s,
        &instance,
        "sel",
        &[Val::I32(1), Val::V128(a), Val::V128(b)],
    );
    assert_eq!(lanes(&r[0]), [1, 2, 3, 4]);
    let r = call(
        s,
        &instance,
        "sel",
        &[Val::I32(0), Val::V128(a), Val::V128(b)],
    );
    assert_eq!(lanes(&r[0]), [10, 20, 30, 40]);

    let r = call(s, &instance, "zeroed", &[Val::V128(v([!0; 4]))]);
    assert_eq!(lanes(&r[0]), [0; 4]);

    let r = call(s, &instance, "globals", &[Val::V128(a)]);
    assert_eq!(
        (lanes(&r[0]), lanes(&r[1])),
        ([11, 22, 33, 44], [1, 2, 3, 4])
    );
    assert_eq!(lanes(&g.get(&mut *s)), [11, 22, 33, 44]);
    let h = instance.get_global(&mut *s, "h").unwrap();
    assert_eq!(lanes(&h.get(&mut *s)), [1, 2, 3, 4]);
    h.set(&mut *s, Val::V128(v([7, 8, 9, 0xffff_ffff])))?;
    assert_eq!(lanes(&h.get(&mut *s)), [7, 8, 9, 0xffff_ffff]);
    assert!(h.set(&mut *s, Val::I32(1)).is_err());

    // The typed API lays tuples out by cells too.
    let mix =
        instance.get_typed_func::<(i32, V128, i64, V128), (V128, i32, V128)>(&mut *s, "mix")?;
    let (r0, r1, r2) = mix.call(&mut *s, (1, a, 2, b))?;
    assert_eq!(lanes(&Val::V128(r0)), [2, 3, 4, 5]);
    assert_eq!(r1, 2);
    assert_eq!(lanes(&Val::V128(r2)), [12, 20, 32, 40]);
    Ok(())
}

#[test]
fn v128_through_calls_blocks_globals_and_host() -> Result<()> {
    check_all(&Config::new())
}

#[test]
fn v128_under_gc_stress() -> Result<()> {
    let mut config = Config::new();
    config.gc_stress(true);
    check_all(&config)
}

#[test]
fn simd_disassembly_is_readable() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (memory 1)
          (func (export "f") (param v128 i32) (result v128)
            (local.set 0 (i8x16.shuffle 0 17 2 19 4 21 6 23 8 25 10 27 12 29 14 31
              (local.get 0) (v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 255)))
            (v128.load16_lane offset=8 3 (local.get 1) (local.get 0))
            (i16x8.extract_lane_u 7)
            (local.set 1)
            (i16x8.replace_lane 2 (local.get 0) (local.get 1))))"#,
    )?;
    let core = module.core();
    let code = core.code(0).map_err(|e| anyhow::anyhow!(e))?;
    let text: Vec<String> = code.code.iter().map(|i| i.to_string()).collect();
    let text = text.join("\n");
    for want in [
        "v128.const r",
        "v128.imm 00 01 02 03 04 05 06 07",
        "v128.imm 08 09 0a 0b 0c 0d 0e ff",
        "i8x16.shuffle r",
        "v128.imm 00 11 02 13 04 15 06 17",
        "v128.load16_lane r",
        ", 3\ndata 8, 0",
        "i16x8.extract_lane_u r",
        ", 7",
        "i16x8.replace_lane r",
    ] {
        assert!(text.contains(want), "missing `{want}` in:\n{text}");
    }
    Ok(())
}

fn workload(name: &str) -> String {
    format!(
        "{}/../benches/workloads/wasm/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The SIMD workload and its scalar twin agree (checksums also confirmed with wasmtime and
/// a native build), and a run allocates nothing.
#[test]
fn simd_workload_matches_scalar_twin_without_allocating() -> Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut sums = Vec::new();
    for file in ["simd.wasm", "simd_scalar.wasm"] {
        let module = Module::from_file(&engine, workload(file))?;
        let instance = Instance::new(&mut store, &module, &[])?;
        let run = instance.get_typed_func::<i32, i64>(&mut store, "run")?;
        assert_eq!(run.call(&mut store, 1)?, 4379535740524152356, "{file}");
        ALLOCS.store(0, Ordering::SeqCst);
        COUNTING.with(|c| c.set(true));
        let sum = run.call(&mut store, 3);
        COUNTING.with(|c| c.set(false));
        assert_eq!(ALLOCS.load(Ordering::SeqCst), 0, "{file} allocated");
        sums.push(sum?);
    }
    assert_eq!(sums, [1350247282469908398; 2]);
    Ok(())
}

/// Relaxed SIMD gives one fixed answer from the allowed set, the same in every tier:
/// `relaxed_madd` rounds after the multiply (unfused), the dot products read both
/// operands as signed bytes and saturate the `i16` pair sums, `relaxed_swizzle` zeroes
/// out-of-range lanes.
#[test]
fn relaxed_simd_results_are_fixed() -> anyhow::Result<()> {
    let wat = r#"(module
      (func (export "madd") (param f32 f32 f32) (result f32)
        (f32x4.extract_lane 0 (f32x4.relaxed_madd
          (f32x4.splat (local.get 0)) (f32x4.splat (local.get 1)) (f32x4.splat (local.get 2)))))
      (func (export "nmadd") (param f64 f64 f64) (result f64)
        (f64x2.extract_lane 1 (f64x2.relaxed_nmadd
          (f64x2.splat (local.get 0)) (f64x2.splat (local.get 1)) (f64x2.splat (local.get 2)))))
      (func (export "dot16") (param i32 i32) (result i32)
        (i16x8.extract_lane_s 0 (i16x8.relaxed_dot_i8x16_i7x16_s
          (i8x16.splat (local.get 0)) (i8x16.splat (local.get 1)))))
      (func (export "dot32") (param i32 i32 i32) (result i32)
        (i32x4.extract_lane 3 (i32x4.relaxed_dot_i8x16_i7x16_add_s
          (i8x16.splat (local.get 0)) (i8x16.splat (local.get 1)) (i32x4.splat (local.get 2)))))
      (func (export "swizzle") (param i32) (result i32)
        (i8x16.extract_lane_u 0 (i8x16.relaxed_swizzle
          (v128.const i8x16 9 8 7 6 5 4 3 2 1 0 1 2 3 4 5 6) (i8x16.splat (local.get 0))))))"#;
    for jit in [None, Some(0)] {
        let mut config = Config::new();
        config.jit_threshold(jit);
        let engine = Engine::new(&config)?;
        let module = Module::new(&engine, wat)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        // (1 + 2^-12)^2 - 1 - 2^-11 = 2^-24 exactly, which a fused multiply-add keeps; the
        // rounded product loses it.
        let x = 1.0 + f32::powi(2.0, -12);
        let madd = instance.get_typed_func::<(f32, f32, f32), f32>(&mut store, "madd")?;
        let c = -(1.0 + f32::powi(2.0, -11));
        assert_eq!(madd.call(&mut store, (x, x, c))?, x * x + c);
        assert_eq!(madd.call(&mut store, (x, x, c))?, 0.0);
        let nmadd = instance.get_typed_func::<(f64, f64, f64), f64>(&mut store, "nmadd")?;
        assert_eq!(nmadd.call(&mut store, (3.0, 4.0, 20.0))?, 8.0);
        let dot16 = instance.get_typed_func::<(i32, i32), i32>(&mut store, "dot16")?;
        assert_eq!(dot16.call(&mut store, (-128, 127))?, -32512);
        // -128 * -128 * 2 = 32768 saturates.
        assert_eq!(dot16.call(&mut store, (-128, -128))?, 32767);
        let dot32 = instance.get_typed_func::<(i32, i32, i32), i32>(&mut store, "dot32")?;
        assert_eq!(dot32.call(&mut store, (-128, -127, 1))?, 65025);
        // Each pair sum saturates at 32767 before the pairs are added.
        assert_eq!(dot32.call(&mut store, (-128, -128, 0))?, 65534);
        let swizzle = instance.get_typed_func::<i32, i32>(&mut store, "swizzle")?;
        assert_eq!(swizzle.call(&mut store, 2)?, 7);
        assert_eq!(swizzle.call(&mut store, 200)?, 0);
    }
    Ok(())
}
