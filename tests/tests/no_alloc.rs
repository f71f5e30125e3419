//! The executor's hot paths do not allocate: calls, loops and memory access run with a
//! counting global allocator that must stay at zero during the measured call.

use gloam::{Engine, Instance, Module, Store};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Only the measuring thread counts (the test harness allocates on its own threads).
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn counting() -> bool {
    COUNTING.try_with(Cell::get).unwrap_or(false)
}

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if counting() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if counting() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> usize {
    ALLOCS.store(0, Ordering::SeqCst);
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCS.load(Ordering::SeqCst)
}

fn example(name: &str) -> String {
    format!("{}/../examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn fib_and_loop_do_not_allocate() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());

    let fib = Module::from_file(&engine, example("fib.wat")).unwrap();
    let fib = Instance::new(&mut store, &fib, &[]).unwrap();
    let fib = fib.get_typed_func::<i32, i32>(&mut store, "fib").unwrap();
    // Warm-up: translates the function and sizes the value stack.
    assert_eq!(fib.call(&mut store, 20).unwrap(), 6765);
    let n = allocations_during(|| assert_eq!(fib.call(&mut store, 25).unwrap(), 75025));
    assert_eq!(n, 0, "fib(25) allocated {n} times");

    let lp = Module::from_file(&engine, example("loop.wat")).unwrap();
    let lp = Instance::new(&mut store, &lp, &[]).unwrap();
    let run = lp.get_typed_func::<i32, i64>(&mut store, "run").unwrap();
    let expected = run.call(&mut store, 1000).unwrap();
    assert_eq!(
        run.call(&mut store, 1000).unwrap(),
        expected,
        "deterministic"
    );
    let n = allocations_during(|| {
        run.call(&mut store, 200_000).unwrap();
    });
    assert_eq!(n, 0, "loop allocated {n} times");
}
