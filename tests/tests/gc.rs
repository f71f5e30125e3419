//! The externref heap: rooting errors, host `Drop` at sweep, stack maps, stress mode.

use gloam::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Host data that records its id when dropped.
struct Tracked {
    id: i32,
    dropped: Arc<Mutex<Vec<i32>>>,
}
impl Drop for Tracked {
    fn drop(&mut self) {
        if let Ok(mut d) = self.dropped.lock() {
            d.push(self.id);
        }
    }
}

#[test]
fn rooted_used_after_its_scope_is_an_error() -> Result<()> {
    let mut store = Store::<()>::default();
    let escaped = {
        let mut scope = RootScope::new(&mut store);
        let r = ExternRef::new(&mut scope, 5u32)?;
        assert!(r.data(&scope).is_ok());
        r
    };
    let err = escaped.data(&store).unwrap_err();
    assert!(err.to_string().contains("unrooted"), "{err}");
    // Still an error after the slot is reused by a new root.
    let _fresh = ExternRef::new(&mut store, 6u32)?;
    assert!(escaped.data(&store).is_err());
    Ok(())
}

#[test]
fn refs_from_another_store_are_errors() -> Result<()> {
    let engine = Engine::default();
    let mut a = Store::new(&engine, ());
    let mut b = Store::new(&engine, ());
    let r = ExternRef::new(&mut a, 1u8)?;
    assert!(r.data(&b).is_err());
    let module = Module::new(
        &engine,
        r#"(module (func (export "id") (param externref) (result externref) local.get 0))"#,
    )?;
    let inst = Instance::new(&mut b, &module, &[])?;
    let id =
        inst.get_typed_func::<Option<Rooted<ExternRef>>, Option<Rooted<ExternRef>>>(&mut b, "id")?;
    assert!(
        id.call(&mut b, Some(r)).is_err(),
        "a foreign ref must not enter the store"
    );
    Ok(())
}

#[test]
fn unrooted_manually_rooted_is_an_error() -> Result<()> {
    let mut store = Store::<()>::default();
    let m = ExternRef::new_manually_rooted(&mut store, 1u8)?;
    let copy: ExternRef = *m;
    let second = m.clone(&mut store)?;
    m.unroot(&mut store);
    assert!(copy.data(&store).is_err());
    assert!(second.data(&store).is_ok(), "an independent root survives");
    let rooted = second.into_rooted(&mut store)?;
    assert!(rooted.data(&store).is_ok());
    Ok(())
}

#[test]
fn heap_full_returns_the_value_and_gc_makes_room() -> Result<()> {
    let mut config = Config::new();
    config.gc_heap_limit(2);
    let engine = Engine::new(&config)?;
    let mut store = Store::new(&engine, ());
    {
        let mut scope = RootScope::new(&mut store);
        ExternRef::new(&mut scope, 1u32)?;
        ExternRef::new(&mut scope, 2u32)?;
        let err = ExternRef::new(&mut scope, String::from("three")).unwrap_err();
        let back = err
            .downcast::<GcHeapOutOfMemory<String>>()
            .unwrap()
            .into_inner();
        assert_eq!(back, "three");
        scope.as_context_mut().gc();
        assert!(
            ExternRef::new(&mut scope, back).is_err(),
            "both objects are still rooted"
        );
    }
    store.gc();
    assert!(ExternRef::new(&mut store, 3u32).is_ok());
    Ok(())
}

#[test]
fn host_drop_runs_exactly_once_at_sweep() -> Result<()> {
    let dropped = Arc::new(Mutex::new(Vec::new()));
    let mut store = Store::<()>::default();
    {
        let mut scope = RootScope::new(&mut store);
        ExternRef::new(
            &mut scope,
            Tracked {
                id: 1,
                dropped: dropped.clone(),
            },
        )?;
        scope.as_context_mut().gc();
        assert!(dropped.lock().unwrap().is_empty(), "still rooted");
    }
    assert!(
        dropped.lock().unwrap().is_empty(),
        "unrooting alone does not free"
    );
    store.gc();
    assert_eq!(*dropped.lock().unwrap(), [1]);
    store.gc();
    assert_eq!(*dropped.lock().unwrap(), [1]);
    Ok(())
}

/// Host functions over `Tracked` objects: `make(id) -> externref`, `gc()`, and
/// `id(externref) -> i32`.
fn define_tracked_host(linker: &mut Linker<()>, dropped: Arc<Mutex<Vec<i32>>>) -> Result<()> {
    linker.func_wrap(
        "host",
        "make",
        move |caller: Caller<'_, ()>, id: i32| -> Result<Rooted<ExternRef>> {
            ExternRef::new(
                caller,
                Tracked {
                    id,
                    dropped: dropped.clone(),
                },
            )
        },
    )?;
    linker.func_wrap("host", "gc", |mut caller: Caller<'_, ()>| caller.gc())?;
    linker.func_wrap(
        "host",
        "id",
        |caller: Caller<'_, ()>, r: Rooted<ExternRef>| -> Result<i32> {
            Ok(r.data(&caller)?
                .downcast_ref::<Tracked>()
                .ok_or_else(|| Error::msg("not tracked"))?
                .id)
        },
    )?;
    Ok(())
}

fn stack_map_module(
    engine: &Engine,
    dropped: Arc<Mutex<Vec<i32>>>,
) -> Result<(Store<()>, Instance)> {
    let module = Module::new(
        engine,
        r#"(module
            (import "host" "make" (func $make (param i32) (result externref)))
            (import "host" "gc" (func $gc))
            (import "host" "id" (func $id (param externref) (result i32)))
            (func $deeper (call $gc))
            (func (export "local") (result i32)
              (local $keep externref)
              (local.set $keep (call $make (i32.const 1)))
              (drop (call $make (i32.const 2)))
              (call $deeper)
              (call $id (local.get $keep)))
            (func (export "temp") (result i32)
              (call $make (i32.const 3))
              (call $deeper)
              (call $id))
            (func (export "arg") (result i32)
              (call $pass (call $make (i32.const 4))))
            (func $pass (param externref) (result i32)
              (call $deeper)
              (call $id (local.get 0))))"#,
    )?;
    let mut store = Store::new(engine, ());
    let mut linker = Linker::new(engine);
    define_tracked_host(&mut linker, dropped)?;
    let instance = linker.instantiate(&mut store, &module)?;
    Ok((store, instance))
}

/// An interpreter-only engine, one that compiles every function before its first call,
/// and a tiered one (where the JIT exists): stack maps must serve native frames alike.
fn engines() -> Result<Vec<Engine>> {
    [None, Some(0), Some(2)]
        .into_iter()
        .map(|threshold| {
            let mut config = Config::new();
            config.jit_threshold(threshold);
            Engine::new(&config)
        })
        .collect()
}

#[test]
fn stack_maps_keep_wasm_held_refs_alive_across_a_deeper_gc() -> Result<()> {
    for engine in engines()? {
        stack_maps_keep_refs_alive(&engine)?;
    }
    Ok(())
}

fn stack_maps_keep_refs_alive(engine: &Engine) -> Result<()> {
    let dropped = Arc::new(Mutex::new(Vec::new()));
    let (mut store, instance) = stack_map_module(engine, dropped.clone())?;

    let local = instance.get_typed_func::<(), i32>(&mut store, "local")?;
    assert_eq!(
        local.call(&mut store, ())?,
        1,
        "held in a wasm local: survives"
    );
    assert_eq!(
        *dropped.lock().unwrap(),
        [2],
        "held nowhere: freed by the deeper gc"
    );

    let temp = instance.get_typed_func::<(), i32>(&mut store, "temp")?;
    assert_eq!(
        temp.call(&mut store, ())?,
        3,
        "held in an operand-stack temporary: survives"
    );
    assert_eq!(
        *dropped.lock().unwrap(),
        [2, 1],
        "1 is unreachable once `local` returned"
    );
    let arg = instance.get_typed_func::<(), i32>(&mut store, "arg")?;
    assert_eq!(
        arg.call(&mut store, ())?,
        4,
        "held as a callee's parameter: survives"
    );
    assert_eq!(*dropped.lock().unwrap(), [2, 1, 3]);

    store.gc();
    let mut all = dropped.lock().unwrap().clone();
    all.sort();
    assert_eq!(
        all,
        [1, 2, 3, 4],
        "nothing holds them once the calls returned"
    );
    assert_eq!(store.gc_live_objects(), 0);
    Ok(())
}

#[test]
fn gc_stress_mode_collects_at_every_call_and_stays_correct() -> Result<()> {
    for threshold in [None, Some(0)] {
        let dropped = Arc::new(Mutex::new(Vec::new()));
        let mut config = Config::new();
        config.gc_stress(true).jit_threshold(threshold);
        let engine = Engine::new(&config)?;
        let (mut store, instance) = stack_map_module(&engine, dropped.clone())?;
        for (name, id) in [("local", 1), ("temp", 3), ("arg", 4)] {
            let f = instance.get_typed_func::<(), i32>(&mut store, name)?;
            assert_eq!(f.call(&mut store, ())?, id, "{name}, jit {threshold:?}");
        }
    }
    Ok(())
}

#[test]
fn globals_and_tables_are_roots_and_events_are_observable() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (global $g (export "g") (mut externref) (ref.null extern))
            (table $t (export "t") 2 externref)
            (func (export "keep") (param externref externref)
              (global.set $g (local.get 0))
              (table.set $t (i32.const 1) (local.get 1))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    store.set_gc_observer(move |e: &GcEvent| sink.lock().unwrap().push(e.clone()));
    let instance = Instance::new(&mut store, &module, &[])?;
    let keep = instance
        .get_typed_func::<(Rooted<ExternRef>, Rooted<ExternRef>), ()>(&mut store, "keep")?;
    {
        let mut scope = RootScope::new(&mut store);
        let a = ExternRef::new(&mut scope, 1u8)?;
        let b = ExternRef::new(&mut scope, 2u8)?;
        keep.call(&mut scope, (a, b))?;
    }
    store.gc();
    assert_eq!(store.gc_live_objects(), 2);
    let events = events.lock().unwrap();
    let marks: Vec<_> = events
        .iter()
        .filter_map(|e| {
            if let GcEvent::Mark { via, .. } = e {
                Some(via.clone())
            } else {
                None
            }
        })
        .collect();
    assert!(marks.contains(&RootKind::Global { global: 0 }), "{marks:?}");
    assert!(
        marks.contains(&RootKind::Table { table: 0, index: 1 }),
        "{marks:?}"
    );
    let names: Vec<_> = events.iter().map(GcEvent::name).collect();
    for n in [
        "alloc",
        "root-push",
        "scope-enter",
        "root-pop",
        "scope-exit",
        "gc-start",
        "gc-end",
    ] {
        assert!(names.contains(&n), "missing {n} in {names:?}");
    }
    Ok(())
}

#[test]
fn owned_rooted_lives_until_dropped() -> Result<()> {
    let mut store = Store::<()>::default();
    let count = Arc::new(AtomicUsize::new(0));
    struct D(Arc<AtomicUsize>);
    impl Drop for D {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let owned = ExternRef::new_owned(&mut store, D(count.clone()))?;
    let clone = owned.clone();
    store.gc();
    drop(owned);
    store.gc();
    assert_eq!(count.load(Ordering::SeqCst), 0, "a clone still owns it");
    assert!(clone.data(&store).is_ok());
    drop(clone);
    store.gc();
    assert_eq!(count.load(Ordering::SeqCst), 1);
    Ok(())
}

#[test]
fn stack_maps_cover_frames_across_host_reentry() -> Result<()> {
    // wasm `outer` holds a ref in a local and calls the host, which calls back into wasm
    // `inner`, which calls the host's gc: outer's frame, below two host frames, is a root.
    for engine in engines()? {
        stack_maps_across_reentry(&engine)?;
    }
    Ok(())
}

fn stack_maps_across_reentry(engine: &Engine) -> Result<()> {
    let dropped = Arc::new(Mutex::new(Vec::new()));
    let module = Module::new(
        engine,
        r#"(module
            (import "host" "make" (func $make (param i32) (result externref)))
            (import "host" "reenter" (func $reenter))
            (import "host" "gc" (func $gc))
            (import "host" "id" (func $id (param externref) (result i32)))
            (func (export "inner") (drop (call $make (i32.const 8))) (call $gc))
            (func (export "outer") (result i32)
              (local $r externref)
              (local.set $r (call $make (i32.const 7)))
              (call $reenter)
              (call $id (local.get $r))))"#,
    )?;
    let mut store = Store::new(engine, ());
    let mut linker = Linker::new(engine);
    define_tracked_host(&mut linker, dropped.clone())?;
    linker.func_wrap(
        "host",
        "reenter",
        |mut caller: Caller<'_, ()>| -> Result<()> {
            let inner = caller
                .get_export("inner")
                .and_then(Extern::into_func)
                .unwrap();
            inner.call(&mut caller, &[], &mut [])
        },
    )?;
    let instance = linker.instantiate(&mut store, &module)?;
    let outer = instance.get_typed_func::<(), i32>(&mut store, "outer")?;
    assert_eq!(outer.call(&mut store, ())?, 7);
    assert_eq!(
        *dropped.lock().unwrap(),
        [8],
        "only the inner, unreferenced object was freed"
    );
    Ok(())
}
