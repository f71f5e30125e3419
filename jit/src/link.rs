//! Places assembled functions in executable memory. A batch (one function on tier-up; a
//! module's functions on `Module::jit_compile_all`, linked every [`LINK_CHUNK`] bytes) goes
//! into one anonymous mapping, written while it is read-write and then made read+execute
//! once (W^X), instead of a mapping per function. Every `NativeCode` of the batch shares
//! (and keeps alive) the mapping.

use crate::backend::Assembled;
use dynasmrt::AssemblyOffset;
use dynasmrt::mmap::{ExecutableBuffer, MutableBuffer};
use gloam_interp::native::{NativeCode, NativeEntry};
use std::sync::Arc;

/// Bytes of code after which a batch is linked into its own mapping.
pub const LINK_CHUNK: usize = 4 << 20;

/// Links `assembled` in order, a mapping every [`LINK_CHUNK`] bytes of code, on up to
/// `threads` threads (the calling one among them): writing fresh pages of code memory
/// costs a page fault each, which is a large part of a big module's compile and runs in
/// parallel as well as assembly does.
pub fn link_all(
    assembled: &[Result<Assembled, String>],
    threads: usize,
) -> Vec<Result<NativeCode, String>> {
    // Chunk boundaries: a chunk ends with the function that takes it past LINK_CHUNK.
    let mut ranges = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, a) in assembled.iter().enumerate() {
        bytes += a.as_ref().map_or(0, |a| a.code.len());
        if bytes >= LINK_CHUNK {
            ranges.push(start..i + 1);
            (start, bytes) = (i + 1, 0);
        }
    }
    if start < assembled.len() {
        ranges.push(start..assembled.len());
    }
    if threads <= 1 || ranges.len() < 2 {
        return ranges
            .into_iter()
            .flat_map(|r| link(&assembled[r]))
            .collect();
    }
    // One chunk at a time per thread; each chunk's outcomes stay in its place.
    let linked = crate::pool::map(&ranges, threads, 1, |r| link(&assembled[r.clone()]));
    // Other threads placed some of the code: the calling thread, which may run it next,
    // synchronizes its own instruction fetch too (`isb` on aarch64, nothing on x86-64;
    // the caches were made coherent by whichever thread wrote each mapping).
    dynasmrt::cache_control::prepare_for_execution(&[]);
    linked
        .into_iter()
        .zip(ranges)
        .flat_map(|(l, r)| {
            l.unwrap_or_else(|| r.map(|_| Err("function was not linked".into())).collect())
        })
        .collect()
}

/// Function starts are aligned to this many bytes.
const ALIGN: usize = 16;

/// Links `assembled` into one mapping; errors pass through, and a failure to map or
/// protect the memory is every function's error.
pub fn link(assembled: &[Result<Assembled, String>]) -> Vec<Result<NativeCode, String>> {
    let mut total = 0usize;
    let mut starts = Vec::with_capacity(assembled.len());
    for a in assembled {
        starts.push(total);
        if let Ok(a) = a {
            total = (total + a.code.len()).next_multiple_of(ALIGN);
        }
    }
    if total == 0 {
        // Nothing to map (no function, or only errors).
        return assembled
            .iter()
            .map(|a| match a {
                Ok(_) => Err("empty native code".to_string()),
                Err(e) => Err(e.clone()),
            })
            .collect();
    }
    let buf = match place(assembled, &starts, total) {
        Ok(buf) => Arc::new(buf),
        Err(e) => {
            let e = format!("cannot map code memory: {e}");
            return assembled
                .iter()
                .map(|a| Err(a.as_ref().err().unwrap_or(&e).clone()))
                .collect();
        }
    };
    assembled
        .iter()
        .zip(starts)
        .map(|(a, start)| {
            let a = a.as_ref().map_err(String::clone)?;
            let base = buf.ptr(AssemblyOffset(start)) as usize;
            let resume = a.resume.iter().map(|&(pc, off)| (pc, base + off)).collect();
            // SAFETY: `base` is where `place` copied this function's code, whose offset 0
            // is the entry stub of the `NativeEntry` convention (System V: VmCtx in rdi,
            // frame base in rsi, status in eax; AAPCS64: x0, x1, w0; callee-saved
            // registers restored by the one epilogue); the code is position-independent,
            // so it runs there, and `place` synchronized the instruction cache with it.
            let entry: NativeEntry = unsafe { std::mem::transmute(base as *const u8) };
            let direct = a.direct.map(|off| base + off);
            // SAFETY: the resume and direct-entry offsets are relative to `base`, where
            // this function's code now lies: the resume offsets were recorded at
            // instruction boundaries where the frame cells hold the interpreter's state for
            // that code index, the direct entry where the backend emitted its prologue;
            // the `Arc` owner keeps the mapping alive as long as the `NativeCode`.
            Ok(unsafe {
                NativeCode::new(entry, direct, resume, a.code.len(), Box::new(buf.clone()))
            })
        })
        .collect()
}

/// Copies the code into a fresh read-write mapping and makes it read+execute. On aarch64
/// the instruction cache is not coherent with the data cache: the written range is cleaned
/// to the point of unification and invalidated in every core's instruction cache (`dc
/// cvau`, `ic ivau`, `dsb ish`; a no-op on x86-64) before any thread learns the code's
/// address. The mapping is fresh, but its addresses may have held code of an earlier,
/// unmapped batch, whose stale lines this also drops.
fn place(
    assembled: &[Result<Assembled, String>],
    starts: &[usize],
    total: usize,
) -> std::io::Result<ExecutableBuffer> {
    let mut buf = MutableBuffer::new(total)?;
    buf.set_len(total);
    for (a, &start) in assembled.iter().zip(starts) {
        if let Ok(a) = a {
            buf[start..start + a.code.len()].copy_from_slice(&a.code);
        }
    }
    dynasmrt::cache_control::synchronize_icache(&buf);
    let exec = buf.make_exec()?;
    // The calling thread may run the code right away: a context synchronization (`isb`)
    // discards instructions it fetched already. Other threads see the code through the
    // engine's synchronized publication of its `NativeCode` (a lock or atomic
    // release/acquire), after the invalidation above, which `dsb ish` made visible to all
    // cores.
    dynasmrt::cache_control::prepare_for_execution(&exec);
    Ok(exec)
}
