//! A small work pool for the batch compile: `threads` threads (the calling one among
//! them) take the next `grain` items as they finish, so items of very different sizes
//! still keep every thread busy, and each result lands in its item's slot, in order.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `f` over `items` on up to `threads` threads; `None` for an item no thread finished
/// (which `scope` rules out: a panicking thread's panic reaches the caller first).
pub fn map<T: Sync, R: Send + Sync>(
    items: &[T],
    threads: usize,
    grain: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<Option<R>> {
    let grain = grain.max(1);
    let slots: Vec<OnceLock<R>> = items.iter().map(|_| OnceLock::new()).collect();
    let next = AtomicUsize::new(0);
    let work = || {
        loop {
            let start = next.fetch_add(grain, Ordering::Relaxed);
            if start >= items.len() {
                break;
            }
            let end = (start + grain).min(items.len());
            for (item, slot) in items[start..end].iter().zip(&slots[start..end]) {
                // Each index is taken by one thread only, so every slot is set once.
                let _ = slot.set(f(item));
            }
        }
    };
    std::thread::scope(|s| {
        for _ in 1..threads.min(items.len().div_ceil(grain)) {
            s.spawn(work);
        }
        work();
    });
    slots.into_iter().map(OnceLock::into_inner).collect()
}
