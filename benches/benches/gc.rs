//! GC throughput: allocate 1,000,000 externrefs in a root scope, drop the scope, collect.
//! Prints the time of each phase and the heap size (live objects, arena slots) before and
//! after; exits non-zero if the heap does not return to its baseline.

use gloam::{ExternRef, RootScope, Store};
use std::time::Instant;

const N: usize = 1_000_000;

fn main() {
    let mut store = Store::<()>::default();
    let baseline = store.gc_live_objects();
    let t = Instant::now();
    {
        let mut scope = RootScope::new(&mut store);
        for i in 0..N {
            ExternRef::new(&mut scope, i as u64).expect("allocation");
        }
        let alloc = t.elapsed();
        println!(
            "alloc {N} externrefs: {:.1} ms ({:.0} ns each)",
            ms(alloc),
            alloc.as_nanos() as f64 / N as f64
        );
    }
    let live_before = store.gc_live_objects();
    let t = Instant::now();
    store.gc();
    let gc = t.elapsed();
    let live_after = store.gc_live_objects();
    println!(
        "gc: {:.1} ms; live objects {live_before} -> {live_after} (baseline {baseline})",
        ms(gc)
    );
    // A second round reuses the freed slots: the arena does not grow.
    let t = Instant::now();
    {
        let mut scope = RootScope::new(&mut store);
        for i in 0..N {
            ExternRef::new(&mut scope, i as u64).expect("allocation");
        }
    }
    store.gc();
    println!(
        "second alloc + gc round: {:.1} ms; live objects {}",
        ms(t.elapsed()),
        store.gc_live_objects()
    );
    if live_after != baseline || store.gc_live_objects() != baseline {
        eprintln!("error: heap did not return to its baseline");
        std::process::exit(1);
    }
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
