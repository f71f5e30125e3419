//! A counting global allocator, for the peak-heap column.
//!
//! A binary opts in with
//! `#[global_allocator] static ALLOC: CountingAlloc = CountingAlloc;` (the `gloam-bench`
//! binary and the `cargo bench` target do). Without it [`PeakScope::start`] returns `None`
//! and the column shows `-`. The counters are process-wide; the harness runs one
//! measurement at a time on one thread, and no engine under test compiles on other
//! threads (wasmtime is built without `parallel-compilation`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// The system allocator, counting live bytes and their high-water mark.
pub struct CountingAlloc;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = CURRENT.fetch_add(bytes, Relaxed) + bytes;
    PEAK.fetch_max(now, Relaxed);
}

fn shrank(bytes: usize) {
    CURRENT.fetch_sub(bytes, Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees carry over; the counters are only bookkeeping beside it.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract for `layout`.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller passes a block this allocator (that is, `System`) returned
        // for `layout`.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller passes a block `System` returned for `layout` and a valid
        // `new_size`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        p
    }
}

/// Whether [`CountingAlloc`] is this process's global allocator (it has counted
/// something: every Rust program allocates before `main` finishes parsing arguments).
pub fn installed() -> bool {
    PEAK.load(Relaxed) > 0
}

/// The heap high-water mark of a stretch of work, above the live bytes at its start.
pub struct PeakScope {
    baseline: usize,
}

impl PeakScope {
    /// Starts a scope: resets the high-water mark to the bytes live now. `None` when the
    /// counting allocator is not installed.
    pub fn start() -> Option<PeakScope> {
        if !installed() {
            return None;
        }
        let baseline = CURRENT.load(Relaxed);
        PEAK.store(baseline, Relaxed);
        Some(PeakScope { baseline })
    }

    /// The most bytes that were live at once since [`PeakScope::start`], minus those live
    /// at the start.
    pub fn peak_bytes(&self) -> u64 {
        PEAK.load(Relaxed).saturating_sub(self.baseline) as u64
    }
}
