//! The threaded dispatcher (release builds on x86-64/aarch64) must not grow the host stack
//! per instruction: this runs a loop of a few hundred million instructions over calls,
//! globals, memory, `br_table`, `select` and arithmetic. Without the handlers' tail jumps
//! it would overflow the 2 MiB test-thread stack long before the end. In debug builds the
//! portable dispatcher runs it with a smaller count.

use gloam::*;

#[test]
fn long_running_loop_keeps_the_host_stack_flat() -> Result<()> {
    run_loop(&Config::new(), |_| {})
}

/// The same with fuel and epoch checks in every block and loop header: their handlers
/// must keep the tail jumps too.
#[test]
fn long_running_loop_with_fuel_and_epochs_keeps_the_host_stack_flat() -> Result<()> {
    let mut config = Config::new();
    config.consume_fuel(true).epoch_interruption(true);
    run_loop(&config, |store| {
        store.set_fuel(u64::MAX).unwrap();
        store.set_epoch_deadline(u64::MAX);
    })
}

fn run_loop(config: &Config, setup: impl FnOnce(&mut Store<()>)) -> Result<()> {
    let engine = Engine::new(config)?;
    let module = Module::new(
        &engine,
        r#"(module
            (memory 1)
            (global $g (mut i32) (i32.const 0))
            (func $f (param i32) (result i32) (i32.add (local.get 0) (global.get $g)))
            (table funcref (elem $f))
            (func (export "run") (param $n i32) (result i32)
              (local $i i32) (local $acc i32)
              (loop $top
                (global.set $g (i32.and (local.get $i) (i32.const 7)))
                (i32.store (i32.const 8) (local.get $acc))
                (local.set $acc (call $f (i32.load (i32.const 8))))
                (local.set $acc (call_indirect (param i32) (result i32) (local.get $acc) (i32.const 0)))
                (block $a (block $b
                  (br_table $a $b (i32.and (local.get $i) (i32.const 1)))))
                (local.set $acc (select (local.get $acc) (i32.const 1) (local.get $i)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br_if $top (i32.lt_u (local.get $i) (local.get $n))))
              (local.get $acc)))"#,
    )?;
    let mut store = Store::new(&engine, ());
    setup(&mut store);
    let instance = Instance::new(&mut store, &module, &[])?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    let n = if cfg!(debug_assertions) {
        100_000
    } else {
        20_000_000
    };
    // Reference result computed step by step in Rust.
    let (mut acc, mut g) = (0i32, 0i32);
    for i in 0..n {
        g = i & 7;
        acc = acc.wrapping_add(g).wrapping_add(g);
        if i == 0 {
            acc = 1;
        }
    }
    let _ = g;
    assert_eq!(run.call(&mut store, n)?, acc);
    Ok(())
}
