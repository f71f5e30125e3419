//! Fuel, epoch interruption and the resource limiter.
//!
//! The fuel and epoch tests run in every tier: the interpreter, the JIT with every
//! function compiled before its first call (and checked to be native, so the test covers
//! the native checks and not an interpreted fallback), and tiered (functions compile
//! after two calls, so later calls of a test run natively).

use anyhow::Context as _;
use gloam::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// Interpreter, JIT before the first call, tiered (see the module docs).
const TIERS: [Option<u32>; 3] = [None, Some(0), Some(2)];

/// Runs a test body once per tier of [`TIERS`].
fn in_every_tier(body: impl Fn(Option<u32>) -> Result<()>) -> Result<()> {
    for tier in TIERS {
        // Names the tier of a failing assertion in the test's output.
        eprintln!("tier {tier:?}");
        body(tier).with_context(|| format!("tier {tier:?}"))?;
    }
    Ok(())
}

fn engine(fuel: bool, epochs: bool) -> Engine {
    engine_in(None, fuel, epochs)
}

fn engine_in(tier: Option<u32>, fuel: bool, epochs: bool) -> Engine {
    let mut config = Config::new();
    config
        .consume_fuel(fuel)
        .epoch_interruption(epochs)
        .jit_threshold(tier);
    Engine::new(&config).unwrap()
}

/// `wat` for `engine`; in the JIT tier (`Some(0)`), with every function compiled now,
/// and the test fails unless all of them compiled to native code.
fn module_in(engine: &Engine, tier: Option<u32>, wat: &str) -> Result<Module> {
    let module = Module::new(engine, wat)?;
    if tier == Some(0) && Config::jit_available() {
        for o in module.jit_compile_all()? {
            assert!(
                o.result.is_ok(),
                "function {} stays interpreted: {:?}",
                o.func_index,
                o.result
            );
        }
    }
    Ok(module)
}

fn trap_of(e: &Error) -> Option<Trap> {
    e.downcast_ref::<Trap>().copied()
}

const LOOPS: &str = r#"
(module
  (global $iters (export "iters") (mut i32) (i32.const 0))
  ;; 5 fuel per iteration: global.get, i32.const, i32.add, global.set, br.
  (func (export "spin")
    (loop $l
      global.get $iters i32.const 1 i32.add global.set $iters
      br $l))
  ;; 8 fuel per iteration, 1 after the loop.
  (func (export "count") (param i32) (result i32) (local i32)
    (loop $l
      local.get 1 i32.const 1 i32.add local.set 1
      local.get 1 local.get 0 i32.lt_u br_if $l)
    local.get 1)
  ;; 2 before the arms, then 1 (`nop` is free) or 2 (`drop` is free); `return` is free.
  (func (export "branchy") (param i32) (result i32)
    local.get 0
    if (result i32)
      i32.const 10 nop
    else
      i32.const 20 drop i32.const 30
    end
    return)
  (func (export "calls") (result i32)
    i32.const 3 call 1 drop
    i32.const 1)
  ;; Blocks nothing branches to and loop ends do not split fuel blocks: 4 in all.
  (func (export "plain") (result i32)
    (block i32.const 1 drop) (block (result i32) i32.const 2) (loop (result i32) i32.const 3)
    i32.add)
  ;; 2 before the `br_table`, then 1 on each target's path (`return` is free).
  (func (export "nest") (param i32) (result i32)
    (block $a
      (block $b
        (block $c
          local.get 0
          br_table $a $b $c)
        i32.const 30
        return)
      i32.const 20
      return)
    i32.const 10))
"#;

/// Code index of the `consume_fuel` at `spin`'s loop header in `LOOPS`: its first
/// instruction (the entry block, up to the loop, costs nothing and charges nothing).
const SPIN_LOOP_PC: u32 = 0;
/// Code index of the `check_epoch` at the loop header of the epoch-bump test's `spin`
/// (after the entry's check and the call).
const BUMPED_LOOP_PC: u32 = 2;

/// Code index `pc` of a loop header's first check in `tier`: when the engine tiers up (a
/// threshold above 0), each loop starts with a `loop_header` row (loop on-stack
/// replacement) before it.
fn at_loop_header(tier: Option<u32>, pc: u32) -> u32 {
    if matches!(tier, Some(t) if t > 0) && Config::jit_available() {
        pc + 1
    } else {
        pc
    }
}

#[test]
fn fuel_stops_an_infinite_loop_at_the_exact_count() -> Result<()> {
    in_every_tier(|tier| {
        let engine = engine_in(tier, true, false);
        let module = module_in(&engine, tier, LOOPS)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let spin = instance.get_typed_func::<(), ()>(&mut store, "spin")?;
        store.set_fuel(23)?;
        let err = spin.call(&mut store, ()).unwrap_err();
        assert_eq!(trap_of(&err), Some(Trap::OutOfFuel), "{err:?}");
        // The trap comes from the loop header's charge, in `spin` alone.
        let bt = err.downcast_ref::<WasmBacktrace>().expect("a backtrace");
        let frames: Vec<_> = bt.frames().iter().map(|f| (f.func_index, f.pc)).collect();
        assert_eq!(frames, [(0, at_loop_header(tier, SPIN_LOOP_PC))], "{err:?}");
        // Four iterations (20 fuel) ran; the fifth needed 5 with 3 left, and charged
        // nothing.
        let iters = instance.get_global(&mut store, "iters").unwrap();
        assert_eq!(iters.get(&mut store).unwrap_i32(), 4);
        assert_eq!(store.get_fuel()?, 3);
        // Adding fuel lets it continue from where it is (twice: the third call of a
        // tiered run is native).
        for round in 1..=2 {
            store.set_fuel(5 * 1000 + 4)?;
            let err = spin.call(&mut store, ()).unwrap_err();
            assert_eq!(trap_of(&err), Some(Trap::OutOfFuel), "{err:?}");
            assert_eq!(iters.get(&mut store).unwrap_i32(), 4 + 1000 * round);
            assert_eq!(store.get_fuel()?, 4);
        }
        Ok(())
    })
}

#[test]
fn get_fuel_after_a_finite_call_is_exact() -> Result<()> {
    in_every_tier(|tier| {
        let engine = engine_in(tier, true, false);
        let module = module_in(&engine, tier, LOOPS)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let count = instance.get_typed_func::<i32, i32>(&mut store, "count")?;
        store.set_fuel(1000)?;
        assert_eq!(count.call(&mut store, 10)?, 10);
        assert_eq!(store.get_fuel()?, 1000 - (8 * 10 + 1));
        let branchy = instance.get_typed_func::<i32, i32>(&mut store, "branchy")?;
        store.set_fuel(100)?;
        assert_eq!(branchy.call(&mut store, 1)?, 10);
        assert_eq!(store.get_fuel()?, 100 - (2 + 1));
        store.set_fuel(100)?;
        assert_eq!(branchy.call(&mut store, 0)?, 30);
        assert_eq!(store.get_fuel()?, 100 - (2 + 2));
        // A call charges the callee's operators too: 3 in `calls`, 8 * 3 + 1 in `count`.
        let calls = instance.get_typed_func::<(), i32>(&mut store, "calls")?;
        store.set_fuel(100)?;
        assert_eq!(calls.call(&mut store, ())?, 1);
        assert_eq!(store.get_fuel()?, 100 - (3 + 8 * 3 + 1));
        let plain = instance.get_typed_func::<(), i32>(&mut store, "plain")?;
        store.set_fuel(100)?;
        assert_eq!(plain.call(&mut store, ())?, 5);
        assert_eq!(store.get_fuel()?, 100 - 4);
        let nest = instance.get_typed_func::<i32, i32>(&mut store, "nest")?;
        for (arg, want) in [(0, 10), (1, 20), (2, 30), (7, 30)] {
            store.set_fuel(100)?;
            assert_eq!(nest.call(&mut store, arg)?, want);
            assert_eq!(store.get_fuel()?, 100 - 3, "nest({arg})");
        }
        // Exactly enough fuel succeeds; one less traps.
        store.set_fuel(8 * 10 + 1)?;
        assert_eq!(count.call(&mut store, 10)?, 10);
        assert_eq!(store.get_fuel()?, 0);
        store.set_fuel(8 * 10)?;
        let err = count.call(&mut store, 10).unwrap_err();
        assert_eq!(trap_of(&err), Some(Trap::OutOfFuel));
        Ok(())
    })
}

#[test]
fn fuel_is_an_error_when_not_configured() -> Result<()> {
    in_every_tier(|tier| {
        let engine = engine(false, false);
        let mut store = Store::new(&engine, ());
        assert!(store.set_fuel(10).is_err());
        assert!(store.get_fuel().is_err());
        // A fuel-enabled store starts empty, so wasm traps at once.
        let engine = engine_in(tier, true, false);
        let module = module_in(&engine, tier, LOOPS)?;
        let mut store = Store::new(&engine, ());
        assert_eq!(store.get_fuel()?, 0);
        let instance = Instance::new(&mut store, &module, &[])?;
        let count = instance.get_typed_func::<i32, i32>(&mut store, "count")?;
        let err = count.call(&mut store, 1).unwrap_err();
        assert_eq!(trap_of(&err), Some(Trap::OutOfFuel));
        Ok(())
    })
}

#[test]
fn epoch_bump_from_another_thread_stops_a_running_loop() -> Result<()> {
    in_every_tier(|tier| {
        let engine = engine_in(tier, false, true);
        // First (a check that misses the deadline would spin forever below):
        // the default deadline is the current epoch, so a fresh store traps at the entry.
        let module = module_in(&engine, tier, LOOPS)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let count = instance.get_typed_func::<i32, i32>(&mut store, "count")?;
        let err = count.call(&mut store, 1).unwrap_err();
        assert_eq!(trap_of(&err), Some(Trap::Interrupt));
        store.set_epoch_deadline(1);
        for _ in 0..3 {
            assert_eq!(count.call(&mut store, 5)?, 5);
        }
        // The loop tells the host it has started, so the bump lands while it runs
        // and not before the entry check (which a slow machine or qemu could let happen).
        let module = module_in(
            &engine,
            tier,
            r#"(module
                 (import "" "started" (func $started))
                 (global $iters (export "iters") (mut i32) (i32.const 0))
                 (func (export "spin")
                   call $started
                   (loop $l
                     global.get $iters i32.const 1 i32.add global.set $iters
                     br $l)))"#,
        )?;
        let mut store = Store::new(&engine, ());
        let started = Arc::new(AtomicBool::new(false));
        let flag = started.clone();
        let hook = Func::wrap(&mut store, move || flag.store(true, Ordering::SeqCst));
        let instance = Instance::new(&mut store, &module, &[hook.into()])?;
        let spin = instance.get_typed_func::<(), ()>(&mut store, "spin")?;
        let iters = instance.get_global(&mut store, "iters").unwrap();
        // Three rounds: the third call of a tiered run is native.
        let mut before = 0;
        for _ in 0..3 {
            started.store(false, Ordering::SeqCst);
            store.set_epoch_deadline(1);
            let bumper = {
                let (engine, started) = (engine.clone(), started.clone());
                std::thread::spawn(move || {
                    while !started.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                    engine.increment_epoch();
                })
            };
            let err = spin.call(&mut store, ()).unwrap_err();
            bumper.join().unwrap();
            assert_eq!(trap_of(&err), Some(Trap::Interrupt), "{err:?}");
            // At the loop header's check, in `spin`.
            let bt = err.downcast_ref::<WasmBacktrace>().expect("a backtrace");
            let frames: Vec<_> = bt.frames().iter().map(|f| (f.func_index, f.pc)).collect();
            assert_eq!(
                frames,
                [(1, at_loop_header(tier, BUMPED_LOOP_PC))],
                "{err:?}"
            );
            let now = iters.get(&mut store).unwrap_i32();
            assert!(now > before, "the loop ran");
            before = now;
        }
        Ok(())
    })
}

#[test]
fn epoch_callback_extends_the_deadline_then_stops() -> Result<()> {
    in_every_tier(|tier| {
        let engine = engine_in(tier, false, true);
        let module = module_in(&engine, tier, LOOPS)?;
        let mut store = Store::new(&engine, 0u32);
        let instance = Instance::new(&mut store, &module, &[])?;
        let spin = instance.get_typed_func::<(), ()>(&mut store, "spin")?;
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|mut ctx| {
            *ctx.data_mut() += 1;
            if *ctx.data() < 3 {
                Ok(UpdateDeadline::Continue(1))
            } else {
                anyhow::bail!("enough")
            }
        });
        let stop = Arc::new(AtomicBool::new(false));
        let bumper = {
            let (engine, stop) = (engine.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(5));
                    engine.increment_epoch();
                }
            })
        };
        let err = spin.call(&mut store, ()).unwrap_err();
        stop.store(true, Ordering::Relaxed);
        bumper.join().unwrap();
        assert_eq!(err.to_string(), "enough");
        assert_eq!(*store.data(), 3);
        Ok(())
    })
}

struct Host {
    limits: StoreLimits,
}

fn limited(engine: &Engine, limits: StoreLimits) -> Store<Host> {
    let mut store = Store::new(engine, Host { limits });
    store.limiter(|h| &mut h.limits);
    store
}

const GROWER: &str = r#"
(module
  (memory (export "mem") 1 10)
  (table (export "tab") 1 funcref)
  (func (export "grow_mem") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "grow_tab") (param i32) (result i32)
    ref.null func local.get 0 table.grow 0))
"#;

#[test]
fn limiter_denies_memory_and_table_growth() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, GROWER)?;
    let limits = StoreLimitsBuilder::new()
        .memory_size(3 * 65536)
        .table_elements(5)
        .build();
    let mut store = limited(&engine, limits);
    let instance = Instance::new(&mut store, &module, &[])?;
    let grow_mem = instance.get_typed_func::<i32, i32>(&mut store, "grow_mem")?;
    let grow_tab = instance.get_typed_func::<i32, i32>(&mut store, "grow_tab")?;
    assert_eq!(grow_mem.call(&mut store, 2)?, 1);
    assert_eq!(grow_mem.call(&mut store, 1)?, -1, "4 pages > 3 allowed");
    assert_eq!(grow_mem.call(&mut store, 0)?, 3);
    assert_eq!(grow_tab.call(&mut store, 4)?, 1);
    assert_eq!(grow_tab.call(&mut store, 1)?, -1, "6 elements > 5 allowed");
    // The API's grow goes through the limiter too.
    let mem = instance.get_memory(&mut store, "mem").unwrap();
    assert!(mem.grow(&mut store, 1).is_err());
    assert_eq!(mem.size(&store), 3);

    // With `trap_on_grow_failure`, a denial traps.
    let limits = StoreLimitsBuilder::new()
        .memory_size(2 * 65536)
        .trap_on_grow_failure(true)
        .build();
    let mut store = limited(&engine, limits);
    let instance = Instance::new(&mut store, &module, &[])?;
    let grow_mem = instance.get_typed_func::<i32, i32>(&mut store, "grow_mem")?;
    assert_eq!(grow_mem.call(&mut store, 1)?, 1);
    assert!(grow_mem.call(&mut store, 1).is_err());
    // Growth past the declared maximum reaches `memory_grow_failed`, which traps here.
    let limits = StoreLimitsBuilder::new().trap_on_grow_failure(true).build();
    let mut store = limited(&engine, limits);
    let instance = Instance::new(&mut store, &module, &[])?;
    let grow_mem = instance.get_typed_func::<i32, i32>(&mut store, "grow_mem")?;
    assert!(grow_mem.call(&mut store, 20).is_err());
    Ok(())
}

#[test]
fn limiter_bounds_initial_sizes_and_counts() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, GROWER)?;
    // The initial memory (1 page) already exceeds the limit.
    let mut store = limited(&engine, StoreLimitsBuilder::new().memory_size(1000).build());
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert!(err.to_string().contains("exceeds memory limits"), "{err}");
    // Instance count.
    let mut store = limited(&engine, StoreLimitsBuilder::new().instances(2).build());
    Instance::new(&mut store, &module, &[])?;
    Instance::new(&mut store, &module, &[])?;
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert!(err.to_string().contains("instance count"), "{err}");
    // Memory and table counts (host-created ones count too).
    let mut store = limited(&engine, StoreLimitsBuilder::new().memories(1).build());
    Memory::new(&mut store, MemoryType::new(1, None))?;
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert!(err.to_string().contains("memory count"), "{err}");
    let mut store = limited(&engine, StoreLimitsBuilder::new().tables(0).build());
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert!(err.to_string().contains("table count"), "{err}");
    Ok(())
}

/// A custom limiter sees the sizes wasmtime reports: bytes for memories, elements for tables.
#[test]
fn custom_limiter_sees_byte_and_element_sizes() -> Result<()> {
    #[derive(Default)]
    struct Log(Vec<(&'static str, usize, usize, Option<usize>)>);
    impl ResourceLimiter for Log {
        fn memory_growing(&mut self, c: usize, d: usize, m: Option<usize>) -> Result<bool> {
            self.0.push(("memory", c, d, m));
            Ok(true)
        }
        fn table_growing(&mut self, c: usize, d: usize, m: Option<usize>) -> Result<bool> {
            self.0.push(("table", c, d, m));
            Ok(d < 3)
        }
    }
    let engine = Engine::default();
    let module = Module::new(&engine, GROWER)?;
    let mut store = Store::new(&engine, Log::default());
    store.limiter(|l| l);
    let instance = Instance::new(&mut store, &module, &[])?;
    let grow_mem = instance.get_typed_func::<i32, i32>(&mut store, "grow_mem")?;
    let grow_tab = instance.get_typed_func::<i32, i32>(&mut store, "grow_tab")?;
    assert_eq!(grow_mem.call(&mut store, 2)?, 1);
    assert_eq!(grow_tab.call(&mut store, 5)?, -1);
    let page = 65536;
    assert_eq!(
        store.data().0,
        vec![
            ("table", 0, 1, None),
            ("memory", 0, page, Some(10 * page)),
            ("memory", page, 3 * page, Some(10 * page)),
            ("table", 1, 6, None),
        ]
    );
    Ok(())
}

static CALLBACKS: AtomicUsize = AtomicUsize::new(0);

/// The callback may run wasm in the same store: the interrupted frame survives.
#[test]
fn epoch_callback_may_reenter_the_store() -> Result<()> {
    in_every_tier(|tier| {
        CALLBACKS.store(0, Ordering::Relaxed);
        let engine = engine_in(tier, false, true);
        let module = module_in(&engine, tier, LOOPS)?;
        let mut store = Store::new(&engine, None::<TypedFunc<i32, i32>>);
        let instance = Instance::new(&mut store, &module, &[])?;
        let count = instance.get_typed_func::<i32, i32>(&mut store, "count")?;
        *store.data_mut() = Some(count);
        store.set_epoch_deadline(0);
        store.epoch_deadline_callback(|mut ctx| {
            CALLBACKS.fetch_add(1, Ordering::Relaxed);
            let f = ctx.data().unwrap();
            // Deadline far away while the nested call runs.
            ctx.set_epoch_deadline(1_000_000);
            assert_eq!(f.call(&mut ctx, 7)?, 7);
            Ok(UpdateDeadline::Continue(1_000_000))
        });
        assert_eq!(count.call(&mut store, 100)?, 100);
        assert_eq!(CALLBACKS.load(Ordering::Relaxed), 1);
        Ok(())
    })
}

/// Fuel and epochs together (function entries and loop headers check both in one
/// instruction): the same exact counts, and an epoch stop charges no fuel.
#[test]
fn fuel_and_epochs_together() -> Result<()> {
    in_every_tier(|tier| {
        let engine = engine_in(tier, true, true);
        let module = module_in(&engine, tier, LOOPS)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        store.set_epoch_deadline(1_000);
        let count = instance.get_typed_func::<i32, i32>(&mut store, "count")?;
        store.set_fuel(1000)?;
        assert_eq!(count.call(&mut store, 10)?, 10);
        assert_eq!(store.get_fuel()?, 1000 - (8 * 10 + 1));
        let spin = instance.get_typed_func::<(), ()>(&mut store, "spin")?;
        store.set_fuel(23)?;
        let err = spin.call(&mut store, ()).unwrap_err();
        assert_eq!(trap_of(&err), Some(Trap::OutOfFuel));
        let iters = instance.get_global(&mut store, "iters").unwrap();
        assert_eq!(iters.get(&mut store).unwrap_i32(), 4);
        assert_eq!(store.get_fuel()?, 3);
        // The deadline is checked before the charge: an interrupt leaves the fuel alone.
        store.set_fuel(100)?;
        store.set_epoch_deadline(0);
        let err = count.call(&mut store, 10).unwrap_err();
        assert_eq!(trap_of(&err), Some(Trap::Interrupt));
        assert_eq!(store.get_fuel()?, 100);
        // A callback that extends the deadline lets the charge go on.
        store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Continue(1_000)));
        assert_eq!(count.call(&mut store, 10)?, 10);
        assert_eq!(store.get_fuel()?, 100 - (8 * 10 + 1));
        Ok(())
    })
}
